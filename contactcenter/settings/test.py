"""Test settings: SQLite unless DATABASE_URL says otherwise; fast hashing; tasks run eagerly
unless a test starts a real worker (integration tests set CELERY_BROKER_URL to Redis)."""

from .base import *  # noqa: F403
from .base import DATABASES, env

SECRET_KEY = "test-only-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ"  # noqa: S105
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LANGUAGE_CODE = "en"
# Worker subprocesses of the reliability tests send to a local SMTP sink (tests/servers.py).
EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend"
)
EMAIL_HOST = env.str("DJANGO_EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("DJANGO_EMAIL_PORT", default=25)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
# Tests that count what a request enqueues see each publish at its commit; the coalescer's own
# tests switch it on.
CELERY_PUBLISH_COALESCE_SECONDS = env.float("CELERY_PUBLISH_COALESCE_SECONDS", default=0.0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["TEST"] = {"NAME": env.str("SQLITE_TEST_NAME", default=":memory:")}

# The integration tests' Celery worker lives for the whole session while each test empties and
# refills the database: per-process caches (the contact center, agreements, categories) would
# hand it rows of an earlier test. conftest.py sets this for that worker.
PROCESS_CACHES_DISABLED = env.bool("PROCESS_CACHES_DISABLED", default=False)
