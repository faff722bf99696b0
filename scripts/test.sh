#!/usr/bin/env bash
# The whole test suite (what `make test` runs).
#
#   1. every test except the integration ones, on SQLite (in memory), Celery tasks eager; this
#      includes the browser tests (tests/browser/, marker `browser`): Debian's chromium driven by
#      Playwright against a live server, with axe-core accessibility checks (ADR 0021);
#   2. if PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) answer: the whole suite again on
#      PostgreSQL, integration tests included, with Redis DB 15 as the broker and a real Celery
#      worker process started by tests/conftest.py. The browser tests are not repeated there:
#      they test pages, not the database.
#
# When the services do not answer, step 2 is skipped with a notice, unless CI=true or
# REQUIRE_SERVICES=1: then that is a failure. The same goes for the browser tests: without
# chromium (CHROMIUM_PATH, default /usr/bin/chromium) or node_modules (`make assets`) they are
# skipped with the reason, but under CI=true or REQUIRE_SERVICES=1 they fail, and a run of the
# whole suite in which no browser test passed fails too. Extra arguments go to both pytest runs.
# pytest's exit code 5 (no tests collected) counts as a failure.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PY="${PYTHON:-.venv/bin/python}"
if [[ ! -x "$PY" ]]; then
    PY="$(command -v python3)"
fi
PG_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/contactcenter}"
REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"
REQUIRED=0
if [[ "${CI:-}" == "true" || "${REQUIRE_SERVICES:-}" == "1" ]]; then
    REQUIRED=1
fi

REPORTS="$(mktemp -d)"
trap 'rm -rf "$REPORTS"' EXIT

export DJANGO_SETTINGS_MODULE=contactcenter.settings.test
export PYTHONDONTWRITEBYTECODE=1

# Prints "passed failed skipped" from a JUnit XML report (failed includes errors).
counts() {
    "$PY" - "$1" <<'EOF'
import sys
import xml.etree.ElementTree as ET

try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print(0, 0, 0)
    raise SystemExit
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
tests = failed = skipped = 0
for s in suites:
    tests += int(s.get("tests", 0))
    failed += int(s.get("failures", 0)) + int(s.get("errors", 0))
    skipped += int(s.get("skipped", 0))
print(tests - failed - skipped, failed, skipped)
EOF
}

# Prints how many tests under tests/browser/ passed in a JUnit XML report.
browser_passed() {
    "$PY" - "$1" <<'EOF'
import sys
import xml.etree.ElementTree as ET

try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print(0)
    raise SystemExit
print(
    sum(
        1
        for case in root.iter("testcase")
        if case.get("classname", "").startswith("tests.browser.")
        and not any(child.tag in ("failure", "error", "skipped") for child in case)
    )
)
EOF
}

# run_pytest NAME [pytest args...]: runs pytest and sets RC (5, no tests, becomes 1, unless
# ALLOW_EMPTY=1: extra arguments that select only browser tests leave nothing for PostgreSQL).
run_pytest() {
    local name="$1"
    shift
    echo
    echo "=== $name ==="
    "$PY" -m pytest -p no:cacheprovider --junitxml="$REPORTS/$name.xml" "$@"
    RC=$?
    if [[ $RC -eq 5 && "${ALLOW_EMPTY:-0}" == "1" ]]; then
        echo "NOTICE: the arguments select no test for the $name run (browser tests only run on SQLite)."
        RC=0
    elif [[ $RC -eq 5 ]]; then
        echo "ERROR: the $name run collected no tests (pytest exit code 5)." >&2
        RC=1
    fi
}

# --- 1. SQLite -----------------------------------------------------------------------------------
DATABASE_URL='sqlite://:memory:' \
CELERY_BROKER_URL='memory://' \
CELERY_TASK_ALWAYS_EAGER=1 \
    run_pytest sqlite -m "not integration" "$@"
SQLITE_RC=$RC
read -r S_PASSED S_FAILED S_SKIPPED < <(counts "$REPORTS/sqlite.xml")
B_PASSED="$(browser_passed "$REPORTS/sqlite.xml")"
# The whole suite (no extra arguments) under CI must have driven a real browser.
if [[ $REQUIRED -eq 1 && $# -eq 0 && $B_PASSED -eq 0 ]]; then
    echo "ERROR: no browser test passed (CI=true or REQUIRE_SERVICES=1): see tests/browser/." >&2
    SQLITE_RC=1
fi

# --- 2. PostgreSQL + Redis + a real worker -------------------------------------------------------
services_reachable() {
    "$PY" - "$PG_URL" "$REDIS_URL" <<'EOF'
import sys
from urllib.parse import urlsplit, urlunsplit

pg_url, redis_url = sys.argv[1], sys.argv[2]
problems = []
try:
    import psycopg

    # Connect to the maintenance database: the test database is created by pytest-django.
    admin_url = urlunsplit(urlsplit(pg_url)._replace(path="/postgres"))
    psycopg.connect(admin_url, connect_timeout=3).close()
except Exception as exc:
    problems.append(f"PostgreSQL at {urlsplit(pg_url).netloc}: {exc}".strip())
try:
    import redis

    redis.Redis.from_url(redis_url, socket_connect_timeout=3, socket_timeout=3).ping()
except Exception as exc:
    problems.append(f"Redis at {urlsplit(redis_url).netloc}: {exc}".strip())
for problem in problems:
    print(f"  not reachable: {problem}", file=sys.stderr)
raise SystemExit(1 if problems else 0)
EOF
}

PG_RC=0
PG_RAN=0
P_PASSED=0 P_FAILED=0 P_SKIPPED=0
if services_reachable; then
    PG_RAN=1
    DATABASE_URL="$PG_URL" \
    CELERY_BROKER_URL="$REDIS_URL" \
    CELERY_TASK_ALWAYS_EAGER=0 \
    ALLOW_EMPTY="$(($# > 0 ? 1 : 0))" \
        run_pytest postgresql -m "not browser" "$@"
    PG_RC=$RC
    read -r P_PASSED P_FAILED P_SKIPPED < <(counts "$REPORTS/postgresql.xml")
else
    echo
    if [[ $REQUIRED -eq 1 ]]; then
        echo "ERROR: PostgreSQL and Redis are required (CI=true or REQUIRE_SERVICES=1) but not" \
             "reachable: the PostgreSQL run and the integration tests could not run." >&2
        PG_RC=1
    else
        echo "NOTICE: PostgreSQL or Redis is not reachable (see above):"
        echo "NOTICE: the PostgreSQL run and the INTEGRATION TESTS WERE SKIPPED."
        echo "NOTICE: start both services and run 'make test' again to include them."
    fi
fi

# --- Summary -------------------------------------------------------------------------------------
echo
echo "sqlite: $S_PASSED passed, $S_FAILED failed, $S_SKIPPED skipped (pytest exit $SQLITE_RC)"
echo "browser (in the sqlite run): $B_PASSED passed"
if [[ $PG_RAN -eq 1 ]]; then
    echo "postgresql: $P_PASSED passed, $P_FAILED failed, $P_SKIPPED skipped (pytest exit $PG_RC)"
else
    echo "postgresql: not run (services not reachable)"
fi
TOTAL_FAILED=$((S_FAILED + P_FAILED))
if [[ $SQLITE_RC -ne 0 || $PG_RC -ne 0 ]] && [[ $TOTAL_FAILED -eq 0 ]]; then
    # pytest failed without a failing test (collection error, no tests, missing services...).
    TOTAL_FAILED=1
fi
echo "summary: $((S_PASSED + P_PASSED)) passed, $TOTAL_FAILED failed, $((S_SKIPPED + P_SKIPPED)) skipped"

if [[ $SQLITE_RC -ne 0 || $PG_RC -ne 0 ]]; then
    exit 1
fi
exit 0
