"""Settings shared by every environment.

Every value that differs between machines is read here, once, from the environment through
``django-environ`` (the single env reader). Environment modules (dev, test, production) only
change defaults and switch features; they never read ``os.environ`` themselves.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core -------------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "common",
    "accounts",
    "cases",
    "channels_app",
    "knowledgebase",
    "reporting",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "contactcenter.urls"
WSGI_APPLICATION = "contactcenter.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"  # the work queues for those who have them
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cases.context_processors.notifications",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
# The embedded default is a SQLite file under var/; production sets DATABASE_URL to PostgreSQL.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'contactcenter.sqlite3'}")
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the worker writes; the timeout makes a second writer
    # wait instead of failing at once with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and proxies -----------------------------------------------------------------------
# One shared cache across web processes in production (rate limits count there): Redis, e.g.
# CACHE_URL=redis://redis:6379/1. The embedded default is a per-process memory cache.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
# Addresses of reverse proxies whose X-Forwarded-For we believe (common.http.client_ip).
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = env.str("DJANGO_LANGUAGE_CODE", default="sv")
LANGUAGES = [("sv", _("Swedish")), ("da", _("Danish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="Europe/Stockholm")
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.str("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = env.str("DJANGO_MEDIA_ROOT", default=str(VAR_DIR / "media"))

# --- Auth -------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "common.api.Pagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "common.api.exception_handler",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Contact center API",
    "DESCRIPTION": "Cases, contacts and residents of the municipal contact center.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI is served from the installed sidecar package: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "LanguageEnum": "cases.choices.Language",
        "ChannelEnum": "cases.choices.Channel",
    },
}

# --- Celery -----------------------------------------------------------------------------------
# Embedded default: kombu's filesystem transport under var/broker (no service to install).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost//")
BROKER_DIR = Path(env.str("CELERY_BROKER_DIR", default=str(VAR_DIR / "broker")))
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        # Without it kombu keeps its exchange tables in ./control of whatever directory the
        # process happens to run in.
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {"visibility_timeout": 3600}
)
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = TIME_ZONE
# A publish after commit retries once, briefly: when Redis is down the resident must not wait
# (the work is in the database, and the sweeps enqueue it again once Redis is back; ADR 0018).
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0.1,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# Routing and send tasks of single requests (a form post, an Open311 POST, an agent's reply)
# are collected for this long per process and published as one batch message; 0 publishes
# each after its commit (common/transactions.py ``Coalescer``, ADR 0022).
CELERY_PUBLISH_COALESCE_SECONDS = env.float("CELERY_PUBLISH_COALESCE_SECONDS", default=0.05)
# Task modules that autodiscovery (app.tasks only) does not find.
CELERY_IMPORTS = [
    "channels_app.email.tasks",
    "channels_app.email.imap_tasks",
    "channels_app.notices.tasks",
]
CELERY_BEAT_SCHEDULE = {
    "inbound-sweep": {"task": "channels_app.tasks.inbound_sweep_task", "schedule": 30.0},
    "mailboxes-poll": {
        "task": "channels_app.email.imap_tasks.mailboxes_poll_task",
        "schedule": 60.0,
        "options": {"expires": 55},  # an unstarted poll is dropped; the next one is due anyway
    },
    # Cases a lost routing task left in "new" (ADR 0018).
    "route-sweep": {"task": "cases.tasks.route_sweep_task", "schedule": 30.0},
    # Escalation ladders: one scan a minute; deadlines live in the database, not the broker.
    "sla-scan": {
        "task": "cases.tasks.sla_scan_task",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Outbound e-mail and SMS (receipts, replies, notices) that waited too long for their task.
    "outbound-sweep": {"task": "channels_app.notices.tasks.outbound_sweep_task", "schedule": 30.0},
    "close-resolved-cases": {
        "task": "cases.tasks.close_resolved_cases_task",
        "schedule": crontab(minute="*/15"),
    },
}

# --- Domain -----------------------------------------------------------------------------------
CASE_REFERENCE_PREFIX = env.str("CASE_REFERENCE_PREFIX", default="KC")
# Country of the municipality: decides how a bare 10-digit identity number is read.
MUNICIPALITY_COUNTRY = env.str("MUNICIPALITY_COUNTRY", default="SE")
DEFAULT_PHONE_REGION = env.str("DEFAULT_PHONE_REGION", default=MUNICIPALITY_COUNTRY)
# A resolved case that the resident does not react to is closed after this many days.
CASE_AUTO_CLOSE_DAYS = env.int("CASE_AUTO_CLOSE_DAYS", default=14)
# The workspace's "close to or past deadline" queue: cases due within this many hours.
QUEUE_AT_RISK_HOURS = env.int("QUEUE_AT_RISK_HOURS", default=4)

# --- Intake channels ------------------------------------------------------------------------
# The public address of the site, for links in e-mails and receipts (no trailing slash).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")
# Domain of our own Message-IDs (<...@MESSAGE_ID_DOMAIN>): replies to them thread onto a case.
MESSAGE_ID_DOMAIN = env.str("MESSAGE_ID_DOMAIN", default="contactcenter.invalid")
INBOUND_ATTACHMENT_MAX_BYTES = env.int("INBOUND_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
INBOUND_MAX_ATTACHMENTS = env.int("INBOUND_MAX_ATTACHMENTS", default=10)
# authserv-ids of our own receiving mail servers (e.g. mx.kommun.example): only their
# Authentication-Results headers are believed; a DMARC/SPF failure there stops a sender's
# address from threading onto a case. Empty: no sender verification is judged.
EMAIL_TRUSTED_AUTHSERV_IDS = env.list("EMAIL_TRUSTED_AUTHSERV_IDS", default=[])
# At most one automatic acknowledgement per sender within this many hours (RFC 3834).
AUTO_REPLY_WINDOW_HOURS = env.int("AUTO_REPLY_WINDOW_HOURS", default=24)
# E-service forms: submissions per client address and hour before a polite refusal.
ESERVICE_RATE_LIMIT_PER_HOUR = env.int("ESERVICE_RATE_LIMIT_PER_HOUR", default=30)

# --- Twilio (SMS notices and replies, SMS intake, phone menu and queues) -----------------------
# Empty credentials: SMS notices stay pending with an error saying so, nothing is sent.
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
# The sender: a phone number in E.164 or a Messaging Service SID (MG...).
TWILIO_FROM = env.str("TWILIO_FROM", default="")
# Dotted path of a twilio.http.HttpClient subclass (tests replay recorded answers; empty: the
# library's own client, which talks to Twilio's cloud).
TWILIO_HTTP_CLIENT = ""

# Phone menu (channels_app/phone): callers from this place in a queue on are offered a
# callback; the expected wait counts this many seconds per caller ahead when Twilio has no
# average yet.
VOICE_CALLBACK_FROM_POSITION = env.int("VOICE_CALLBACK_FROM_POSITION", default=3)
VOICE_SECONDS_PER_CALLER = env.int("VOICE_SECONDS_PER_CALLER", default=180)
# A callback nobody answers is tried again this many minutes later, at most this many times.
VOICE_CALLBACK_RETRY_MINUTES = env.int("VOICE_CALLBACK_RETRY_MINUTES", default=30)
VOICE_CALLBACK_MAX_ATTEMPTS = env.int("VOICE_CALLBACK_MAX_ATTEMPTS", default=3)

# --- E-mail -----------------------------------------------------------------------------------
EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend"
)
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="kontaktcenter@example.org")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    # Django's own default handler would print every line a second time through the root.
    "loggers": {"django": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}
