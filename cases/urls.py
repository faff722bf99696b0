from django.urls import path

from cases import views

app_name = "cases"
urlpatterns = [
    path("", views.case_list, name="list"),
    # Before "<reference>/": "notifications" is never a case reference.
    path("notifications/", views.notification_list, name="notifications"),
    path("queue/", views.workspace, name="workspace"),
    path("log/", views.contact_log_view, name="log"),
    path("supervisor/", views.supervisor, name="supervisor"),
    path("<str:reference>/", views.case_detail, name="detail"),
    path("<str:reference>/note/", views.case_note, name="note"),
    path("<str:reference>/take/", views.case_take, name="take"),
    path("<str:reference>/reply/", views.case_reply, name="reply"),
    path("<str:reference>/do/<slug:name>/", views.case_transition, name="transition"),
]
