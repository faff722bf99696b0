# Production image: gunicorn (web), celery worker and celery beat all run from this image.
# See docker-compose.yml. Compiled translations (.mo) are committed, so no gettext is needed.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=contactcenter.settings.production

WORKDIR /app

RUN groupadd --system --gid 1000 app \
    && useradd --system --uid 1000 --gid app --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin app

# Dependencies first, so a code change does not reinstall them. Runtime only (not the dev lock).
COPY requirements.lock ./
RUN pip install -r requirements.lock

# The code stays owned by root (read-only for the app user); only var/ is writable.
COPY . .
RUN mkdir -p /app/var/static /app/var/media /app/var/mail /app/var/celerybeat \
    && chown -R app:app /app/var

USER app
EXPOSE 8000

ENTRYPOINT ["/bin/sh", "/app/scripts/docker-entrypoint.sh"]
# gunicorn reads the number of workers from WEB_CONCURRENCY (see .env.example).
CMD ["gunicorn", "contactcenter.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
