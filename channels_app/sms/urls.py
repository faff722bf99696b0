from django.urls import path

from channels_app.sms import views

urlpatterns = [
    path("status/", views.sms_status, name="sms-status"),
    path("inbound/", views.sms_inbound, name="sms-inbound"),
]
