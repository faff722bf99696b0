"""The Celery application.

The broker is whatever ``CELERY_BROKER_URL`` says: Redis in production, kombu's filesystem
transport in the embedded default (see docs/adr/0004-embedded-broker.md).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactcenter.settings.dev")

app = Celery("contactcenter")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
