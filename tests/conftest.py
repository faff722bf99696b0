"""Fixtures shared by every test.

Integration tests (``@pytest.mark.integration``) run against PostgreSQL, Redis and a REAL
Celery worker process (``celery_worker_process``). ``scripts/test.sh`` runs them in its second,
PostgreSQL run. Elsewhere they are skipped with a reason, except when ``CI=true`` or
``REQUIRE_SERVICES=1``: then a missing service fails them.

Writing one::

    pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

    def test_something(celery_worker_process, wait_until):
        case = make_case(...)                     # committed: transaction=True
        some_task.delay(case.pk)                  # goes to Redis, the worker runs it
        wait_until(lambda: Case.objects.get(pk=case.pk).state == CaseState.CLOSED)

``transaction=True`` is required (and enforced): the worker is another process with its own
database connection, so it only sees committed rows. Outside integration tests, Celery tasks
run eagerly (in the test process) whatever ``CELERY_TASK_ALWAYS_EAGER`` says.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from common.processes import stop_process_group

BASE_DIR = Path(__file__).resolve().parent.parent

# Shared fixtures that live in their own modules.
pytest_plugins = ["tests.municipality"]
WORKER_START_TIMEOUT = 30.0
WORKER_STOP_TIMEOUT = 10.0

_REASON_KEY = pytest.StashKey[str | None]()
_WORKER_KEY = pytest.StashKey["WorkerProcess"]()


# --- When integration tests can run ----------------------------------------------------------
def services_required() -> bool:
    """CI and ``REQUIRE_SERVICES=1``: missing services fail integration tests instead of
    skipping them."""
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("REQUIRE_SERVICES") == "1"


def integration_unavailable_reason() -> str | None:
    """Why integration tests cannot run here, or None if they can."""
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        return (
            "integration tests need PostgreSQL and a real Celery worker; the database is "
            f"{engine.rsplit('.', 1)[-1]} (run scripts/test.sh, or set "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/contactcenter)"
        )
    broker = settings.CELERY_BROKER_URL
    if not broker.startswith(("redis://", "rediss://")):
        return (
            "integration tests need Redis as the Celery broker "
            f"(CELERY_BROKER_URL=redis://127.0.0.1:6379/15), not {broker.split(':', 1)[0]}"
        )
    import redis

    try:
        redis.Redis.from_url(broker, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as exc:
        return f"Redis at {_netloc(broker)} is not reachable: {exc}"
    return None


def _netloc(url: str) -> str:
    return urlsplit(url).netloc.rsplit("@", 1)[-1]


def _is_integration(item: pytest.Item) -> bool:
    return item.get_closest_marker("integration") is not None


@pytest.hookimpl(trylast=True)  # after -m/-k deselection: look only at what will run
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    integration = [item for item in items if _is_integration(item)]
    if not integration:
        return
    # Integration tests last: the worker (session-scoped) starts after the unit tests are done.
    items[:] = [item for item in items if not _is_integration(item)] + integration
    reason = integration_unavailable_reason()
    config.stash[_REASON_KEY] = reason
    if reason and not services_required():
        for item in integration:
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_runtest_setup(item: pytest.Item) -> None:
    if not _is_integration(item):
        return
    reason = item.config.stash.get(_REASON_KEY, None)
    if reason:  # only reached when services are required (otherwise the test was skipped)
        pytest.fail(f"CI=true/REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    marker = item.get_closest_marker("django_db")
    transaction = False
    if marker is not None:
        transaction = bool(
            marker.kwargs.get("transaction", marker.args[0] if marker.args else False)
        )
    fixturenames = getattr(item, "fixturenames", ())
    if not transaction and "transactional_db" not in fixturenames:
        pytest.fail(
            "integration tests must use @pytest.mark.django_db(transaction=True): the Celery "
            "worker is another process and sees only committed rows",
            pytrace=False,
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Attach the worker's log to every failing test that used the worker."""
    report = yield
    worker = item.config.stash.get(_WORKER_KEY, None)
    if (
        report.failed
        and worker is not None
        and "celery_worker_process" in getattr(item, "fixturenames", ())
    ):
        state = "running" if worker.alive else f"EXITED with code {worker.process.returncode}"
        report.sections.append(
            (f"celery worker log ({worker.hostname}, pid {worker.pid}, {state})", worker.log())
        )
    return report


# --- Per-process caches -----------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _clear_process_caches() -> Iterator[None]:
    """Cached rows (the contact center, e-service categories) belong to one test's database."""
    from common.caches import clear_process_caches

    clear_process_caches()
    yield
    clear_process_caches()


# --- Celery ------------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _celery_eager_unless_integration(request: pytest.FixtureRequest) -> Iterator[None]:
    """Unit tests run tasks in-process; integration tests send them to the real worker."""
    from contactcenter.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = not _is_integration(request.node)
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def routing_deferred(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """Routing tasks are recorded (the case ids of each call) instead of run eagerly, for tests
    that count what a request itself does."""
    from cases import tasks

    calls: list[list[int]] = []
    monkeypatch.setattr(tasks.case_route_task, "delay", lambda pk: calls.append([pk]))
    monkeypatch.setattr(tasks.case_route_batch_task, "delay", lambda pks: calls.append(list(pks)))
    return calls


@pytest.fixture(scope="session")
def celery_app() -> Any:
    """The project's Celery application (configured from the test settings)."""
    from contactcenter.celery import app

    return app


@pytest.fixture(scope="session")
def celery_broker_purged() -> str:
    """Empty the Redis database used as the test broker (once per session); its URL."""
    reason = integration_unavailable_reason()
    if reason:
        _skip_or_fail(reason)
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    db = client.connection_pool.connection_kwargs.get("db", 0)
    if int(db) == 0:
        pytest.fail(
            "refusing to flush Redis database 0; give the tests their own database, e.g. "
            "CELERY_BROKER_URL=redis://127.0.0.1:6379/15",
            pytrace=False,
        )
    client.flushdb()
    client.close()
    return settings.CELERY_BROKER_URL


@dataclass
class WorkerProcess:
    """A running ``celery worker`` subprocess (see ``celery_worker_process``)."""

    process: subprocess.Popen[bytes]
    hostname: str  # the Celery node name, e.g. for app.control.ping(destination=[hostname])
    log_path: Path
    database_name: str
    broker_url: str
    started_in: float = field(default=0.0)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            return f"(no worker log: {exc})"


def _database_url(settings_dict: dict[str, Any]) -> str:
    user = quote(str(settings_dict.get("USER") or ""), safe="")
    password = quote(str(settings_dict.get("PASSWORD") or ""), safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{quote(settings_dict['NAME'], safe='')}"


def _skip_or_fail(reason: str) -> None:
    if services_required():
        pytest.fail(f"CI=true/REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def spawn_celery(
    kind: str, env: dict[str, str], log_path: Path, *args: str
) -> subprocess.Popen[bytes]:
    """``celery -A contactcenter <kind> --loglevel=INFO <args>`` (``worker`` or ``beat``) in
    its own process group, output appended to ``log_path``. ``env`` is the whole environment.
    A worker gets ``--pool=solo`` and no mingle, gossip or heartbeat unless ``args`` says so."""
    if kind == "worker":
        args = ("--pool=solo", "--without-mingle", "--without-gossip", "--without-heartbeat", *args)
    env = {**env, "PYTHONUNBUFFERED": "1"}
    env.pop("PYTEST_CURRENT_TEST", None)
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "contactcenter", kind, "--loglevel=INFO", *args],
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@pytest.fixture(scope="session")
def celery_worker_process(
    request: pytest.FixtureRequest,
    django_db_setup: None,
    celery_broker_purged: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[WorkerProcess]:
    """Start a real ``celery -A contactcenter worker`` on the *test* database; yield it.

    Session-scoped and started lazily by the first test that asks for it. It depends on
    ``django_db_setup`` so that pytest-django has created the test database (and is torn down
    before that database is dropped).
    """
    from django.db import connection

    from contactcenter.celery import app

    settings_dict = connection.settings_dict  # NAME is now the test database's name
    hostname = f"pytest-{os.getpid()}@{socket.gethostname()}"
    log_path = tmp_path_factory.mktemp("celery-worker") / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "contactcenter.settings.test",
        "DATABASE_URL": _database_url(settings_dict),
        "CELERY_BROKER_URL": celery_broker_purged,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        # It outlives each test's data: no per-process caches (settings/test.py).
        "PROCESS_CACHES_DISABLED": "1",
    }
    started = time.monotonic()
    process = spawn_celery("worker", env, log_path, f"--hostname={hostname}")
    worker = WorkerProcess(
        process=process,
        hostname=hostname,
        log_path=log_path,
        database_name=settings_dict["NAME"],
        broker_url=celery_broker_purged,
    )
    try:
        deadline = started + WORKER_START_TIMEOUT
        while True:
            if not worker.alive:
                pytest.fail(
                    f"the Celery worker exited with code {process.returncode} before answering "
                    f"a ping. Its log:\n{worker.log()}",
                    pytrace=False,
                )
            replies = app.control.ping(destination=[hostname], timeout=1) or []
            if any(hostname in reply for reply in replies):
                break
            if time.monotonic() > deadline:
                pytest.fail(
                    f"the Celery worker did not answer a ping within {WORKER_START_TIMEOUT:.0f} s. "
                    f"Its log:\n{worker.log()}",
                    pytrace=False,
                )
        worker.started_in = time.monotonic() - started
        request.config.stash[_WORKER_KEY] = worker
        yield worker
    finally:
        crashed = not worker.alive
        stop_process_group(process, timeout=WORKER_STOP_TIMEOUT)
        code = process.returncode
        if crashed or code not in (0, -signal.SIGTERM):
            reporter = request.config.pluginmanager.get_plugin("terminalreporter")
            text = f"\nCelery worker {hostname} ended with code {code}. Its log:\n{worker.log()}"
            if reporter is not None:
                reporter.write_line(text)
            else:
                print(text)


@pytest.fixture
def wait_until() -> Callable[..., Any]:
    """``wait_until(predicate, timeout=20, interval=0.2, message="")``: poll until the
    predicate returns something truthy (and return it), or fail."""

    def wait(
        predicate: Callable[[], Any],
        timeout: float = 20.0,
        interval: float = 0.2,
        message: str = "",
    ) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() > deadline:
                pytest.fail(message or f"condition not met within {timeout:.0f} s", pytrace=False)
            time.sleep(interval)

    return wait
