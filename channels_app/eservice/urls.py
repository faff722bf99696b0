"""Public e-service forms, mounted at /e/: the list, one form per category code, its receipt."""

from django.urls import path

from channels_app.eservice import views

app_name = "eservice"
urlpatterns = [
    path("", views.category_list, name="list"),
    path("<slug:code>/", views.category_form, name="form"),
    path("<slug:code>/receipt/<str:token>/", views.receipt, name="receipt"),
]
