#!/bin/sh
# Entrypoint of the production image. The web service sets DJANGO_MIGRATE=1 and
# DJANGO_COLLECTSTATIC=1 (docker-compose.yml): it migrates the database and collects static
# files before gunicorn starts. Worker and beat leave them unset and start at once.
set -eu

cd "$(dirname "$0")/.."

if [ "${DJANGO_MIGRATE:-0}" = "1" ]; then
    python manage.py migrate --noinput
fi
if [ "${DJANGO_COLLECTSTATIC:-0}" = "1" ]; then
    python manage.py collectstatic --noinput --verbosity 1
fi

exec "$@"
