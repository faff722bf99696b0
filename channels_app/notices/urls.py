"""Mounted under ``intake:`` (channels_app/urls.py): /intake/notices/..."""

from django.urls import path

from channels_app.notices import views

urlpatterns = [
    path("letters/", views.letters, name="notice-letters"),
    path("letters/print/", views.letters_print, name="notice-letters-print"),
    path("letters/<int:pk>/", views.letter_print, name="notice-letter"),
    path("letters/<int:pk>/printed/", views.letter_printed, name="notice-letter-printed"),
    path("calls/", views.calls, name="notice-calls"),
    path("calls/<int:pk>/called/", views.call_made, name="notice-call-made"),
]
