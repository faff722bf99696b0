from django.urls import path

from channels_app import views

app_name = "intake"
urlpatterns = [
    path("quarantine/", views.quarantine, name="quarantine"),
    path("quarantine/requeue/", views.quarantine_requeue, name="quarantine-requeue"),
]
