# Municipal contact center: the two commands a new machine needs are `make demo` and `make test`.
# Needs Python 3.11 (python3.11, or python3 if that is 3.11) and GNU make; nothing else for the
# demo (the built htmx is committed under static/vendor/). Node.js + npm are only needed to
# rebuild that file (`make assets`) and for the browser tests (axe-core), see ADR 0021.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    ?= .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-dev
HOST    ?= 127.0.0.1
PORT    ?= 8000
MANAGE  := $(PY) manage.py
STATIC_SOURCES := $(shell find static -type f 2>/dev/null)
NPM     ?= npm
NODE_STAMP := node_modules/.installed

.PHONY: help install demo run test lint format deploy-check messages var-dirs assets assets-if-npm screenshots

help:  ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-14s %s\n", $$1, $$2}'

# --- Environment -------------------------------------------------------------------------------
$(PY):
	@py=""; \
	for cand in python3.11 python3; do \
	  if command -v "$$cand" >/dev/null 2>&1 && \
	     "$$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' >/dev/null 2>&1; then \
	    py="$$cand"; break; \
	  fi; \
	done; \
	if [ -z "$$py" ]; then \
	  echo "Python 3.11 is needed: install python3.11 (or make python3 be 3.11)." >&2; exit 1; \
	fi; \
	echo "Creating $(VENV) with $$($$py --version)"; \
	"$$py" -m venv $(VENV)

# The stamp makes a second run fast; it is renewed when the lock file changes.
$(STAMP): requirements-dev.lock | $(PY)
	$(PY) -m pip install --disable-pip-version-check --quiet -r requirements-dev.lock
	@touch $@

install: $(STAMP)  ## Create .venv and install requirements-dev.lock (once)

# --- Front-end assets (ADR 0021) ----------------------------------------------------------------
# npm ci installs exactly package-lock.json; the build copies htmx's minified file into
# static/vendor/ (committed). axe-core stays in node_modules: only the browser tests read it.
NEED_NPM = @command -v $(NPM) >/dev/null 2>&1 || { \
	  echo "npm is needed for this step: install Node.js and npm (Debian: apt-get install nodejs npm)." >&2; \
	  exit 1; }

$(NODE_STAMP): package.json package-lock.json
	$(NEED_NPM)
	$(NPM) ci --no-audit --no-fund --loglevel=error
	@touch $@

assets: $(NODE_STAMP)  ## npm ci + copy htmx into static/vendor/ (needs Node.js and npm)
	$(NEED_NPM)
	$(NPM) run --silent build

# `make test` refreshes the assets when npm is there; without it the browser tests say why they
# are skipped (and fail under CI=true), everything else still runs.
assets-if-npm:
	@if command -v $(NPM) >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory assets; \
	else \
	  echo "NOTICE: npm not found: assets not refreshed; the browser tests need node_modules (make assets)."; \
	fi

var-dirs:
	@mkdir -p var/log var/media var/mail var/broker/queue var/broker/processed var/broker/control

# --- The demo ----------------------------------------------------------------------------------
var/.collectstatic.stamp: $(STAMP) $(STATIC_SOURCES) | var-dirs
	$(MANAGE) collectstatic --noinput --verbosity 0
	@touch $@

demo: $(STAMP) var-dirs  ## Migrate, seed demo data, start web server + Celery worker/beat
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo
	@$(MAKE) --no-print-directory var/.collectstatic.stamp
	$(MANAGE) run_embedded --host $(HOST) --port $(PORT)

run: $(STAMP) var-dirs  ## Like demo, without migrating or seeding
	$(MANAGE) run_embedded --host $(HOST) --port $(PORT)

# --- Quality -----------------------------------------------------------------------------------
test: $(STAMP) assets-if-npm  ## The whole suite: SQLite + browser (chromium), then PostgreSQL + Redis + a worker
	PYTHON=$(PY) bash scripts/test.sh

screenshots: $(STAMP) assets  ## Browser tests that save docs/screenshots/*.png
	SAVE_SCREENSHOTS=1 DJANGO_SETTINGS_MODULE=contactcenter.settings.test \
	  $(PY) -m pytest -p no:cacheprovider -q -m browser tests/browser

lint: $(STAMP)  ## ruff check, ruff format --check, no missing migrations
	@status=0; \
	$(VENV)/bin/ruff check . || status=1; \
	$(VENV)/bin/ruff format --check . || status=1; \
	DATABASE_URL='sqlite://:memory:' $(MANAGE) makemigrations --check --dry-run || status=1; \
	exit $$status

format: $(STAMP)  ## ruff format + ruff check --fix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# `check --deploy` with the production settings. The database URL only has to parse: the
# check does not connect (port 1 would refuse at once if it ever tried).
deploy-check: $(STAMP)  ## manage.py check --deploy with production settings
	DJANGO_SETTINGS_MODULE=contactcenter.settings.production \
	DJANGO_SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))')" \
	DJANGO_ALLOWED_HOSTS=contactcenter.example.org \
	DATABASE_URL=postgres://deploy-check@127.0.0.1:1/contactcenter \
	CELERY_BROKER_URL=redis://127.0.0.1:1/0 \
	$(MANAGE) check --deploy --fail-level WARNING

messages: $(STAMP)  ## makemessages (sv, da, en) + compilemessages; needs gettext
	$(MANAGE) makemessages -l sv -l da -l en --ignore=.venv --ignore=var --ignore=node_modules --ignore=bench
	$(MANAGE) compilemessages --ignore=.venv --ignore=var --ignore=node_modules
