from django.urls import path

from cases.api import views
from cases.services.transitions import TRANSITIONS

urlpatterns = [
    path("cases/", views.CaseListCreateApi.as_view(), name="api-case-list"),
    path("cases/<str:reference>/", views.CaseDetailApi.as_view(), name="api-case-detail"),
    path(
        "cases/<str:reference>/contacts/", views.CaseContactApi.as_view(), name="api-case-contacts"
    ),
    path("cases/<str:reference>/notes/", views.CaseNoteApi.as_view(), name="api-case-notes"),
    path("cases/<str:reference>/assign/", views.CaseAssignApi.as_view(), name="api-case-assign"),
    path(
        "cases/<str:reference>/classify/", views.CaseClassifyApi.as_view(), name="api-case-classify"
    ),
    *[
        path(
            f"cases/<str:reference>/{name.replace('_', '-')}/",
            views.transition_view(name),
            name=f"api-case-{name.replace('_', '-')}",
        )
        for name in TRANSITIONS
    ],
    path("residents/", views.ResidentListCreateApi.as_view(), name="api-resident-list"),
    path("residents/<int:pk>/", views.ResidentDetailApi.as_view(), name="api-resident-detail"),
]
