from django.urls import path

from channels_app.phone import views

urlpatterns = [
    path("incoming/", views.incoming, name="voice-incoming"),
    path("menu/", views.menu, name="voice-menu"),
    path("choose/", views.choose, name="voice-choose"),
    path("wait/", views.wait, name="voice-wait"),
    path("callback/", views.callback, name="voice-callback"),
    path("left-queue/", views.left_queue, name="voice-left-queue"),
    path("status/", views.status, name="voice-status"),
    path("callbacks/", views.callbacks, name="voice-callbacks"),
    path("callbacks/<int:pk>/", views.callback_done, name="voice-callback-done"),
]
