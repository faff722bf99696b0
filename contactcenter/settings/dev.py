"""The embedded default: SQLite, a filesystem broker, DEBUG on. Nothing to install."""

from .base import *  # noqa: F403
from .base import SECRET_KEY, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# A fixed development key is fine here: this module is never used in production, where
# settings.production refuses to start without a real key.
SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"
