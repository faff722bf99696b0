from django.urls import include, path

from channels_app import views

app_name = "intake"
urlpatterns = [
    path("quarantine/", views.quarantine, name="quarantine"),
    path("quarantine/requeue/", views.quarantine_requeue, name="quarantine-requeue"),
    path("notices/", include("channels_app.notices.urls")),
    path("sms/", include("channels_app.sms.urls")),
    path("voice/", include("channels_app.phone.urls")),
]
