"""Reliability of routing and notices against real PostgreSQL, Redis and Celery worker processes.

Each test has its own Redis server (tests/servers.py) as broker, its own worker processes and an
SMTP sink, so that it can kill workers and stop Redis without touching the session's worker. The
cases are made by a driver subprocess (reliability_driver.py) that enqueues to that Redis.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from cases.models import Case, CaseEvent, CaseState
from channels_app.models import OutboundMessage
from common.processes import stop_process_group
from tests.conftest import BASE_DIR, _database_url, spawn_celery
from tests.municipality import Org
from tests.servers import SmtpSink, redis_server_running, smtp_sink_running

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

NOTICE_KINDS = ("notice",)  # OutboundMessage.kind prefix of residents' status notices


def _env(broker: str, sink: SmtpSink) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "contactcenter.settings.test",
        "DATABASE_URL": _database_url(connection.settings_dict),
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        # As in production: the driver's requests publish through the coalescer (one batch
        # message per window), whose buffer a killed process loses and the sweeps make good.
        "CELERY_PUBLISH_COALESCE_SECONDS": "0.05",
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "DJANGO_EMAIL_HOST": sink.host,
        "DJANGO_EMAIL_PORT": str(sink.port),
    }
    return env


def _worker(env: dict[str, str], log: Path, name: str) -> subprocess.Popen[bytes]:
    return spawn_celery("worker", env, log, f"--hostname={name}@%h")


def _driver(env: dict[str, str], *args: str, timeout: float = 300) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.integration.reliability_driver", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _routing_events_per_case() -> collections.Counter[int]:
    return collections.Counter(
        CaseEvent.objects.filter(
            actor_type="system", transition__in=("open", "forward")
        ).values_list("case_id", flat=True)
    )


def _received_ids(sink: SmtpSink) -> list[str]:
    return [str(mail.message()["Message-ID"]) for mail in sink.received]


def _all_sent() -> bool:
    return not OutboundMessage.objects.filter(channel="email", status="pending").exists()


def _unsettled() -> dict[str, Any]:
    """What is still to do: new cases, pending e-mails (with their attempts)."""
    pending = OutboundMessage.objects.filter(channel="email", status="pending")
    return {
        "new_cases": Case.objects.filter(state=CaseState.NEW).count(),
        "pending_emails": pending.count(),
        "pending_attempts": sorted(set(pending.values_list("attempts", flat=True))),
        "failed_emails": OutboundMessage.objects.filter(status="failed").count(),
    }


def test_killing_workers_every_few_seconds_routes_and_notifies_each_case_once(
    org: Org, tmp_path: Path, wait_until: Callable[..., Any]
) -> None:
    # Given two worker processes and 1,000 cases being created
    n = 1000
    with smtp_sink_running() as sink, redis_server_running(tmp_path) as redis:
        env = _env(redis.url, sink)
        logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
        workers = [_worker(env, logs[0], "a"), _worker(env, logs[1], "b")]
        driver = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.reliability_driver",
                "create",
                str(n),
                org.permit.code,
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        kills = 0
        try:
            # When a worker is killed with SIGKILL every 2.5 seconds while they work
            while driver.poll() is None or kills < 6:
                time.sleep(2.5)
                victim = kills % 2
                os.killpg(workers[victim].pid, signal.SIGKILL)
                workers[victim].wait(10)
                workers[victim] = _worker(env, logs[victim], "ab"[victim] + str(kills))
                kills += 1
            _out, err = driver.communicate(timeout=60)
            assert driver.returncode == 0, err.decode()[-3000:]

            # and the sweeps make good what the killed workers lost (beat's job, run here now)
            deadline = time.monotonic() + 180
            while True:
                state = _unsettled()
                if not any(state.values()):
                    break
                assert time.monotonic() < deadline, (
                    f"not settled after 180 s: {state}; "
                    + (logs[0].read_text(errors="replace")[-3000:])
                )
                _driver(env, "sweep")
                time.sleep(3)
        finally:
            for worker in workers:
                stop_process_group(worker, timeout=10)
            if driver.poll() is None:
                driver.kill()

        # Then every case was routed exactly once
        assert Case.objects.count() == n
        assert not Case.objects.filter(state=CaseState.NEW).exists()
        per_case = _routing_events_per_case()
        assert len(per_case) == n and set(per_case.values()) == {1}
        assert Case.objects.filter(state=CaseState.FORWARDED, department=org.building).count() == n
        # and every notice was written once and sent once
        notices = list(OutboundMessage.objects.filter(kind__startswith=NOTICE_KINDS[0]))
        assert len(notices) == n
        assert {row.status for row in notices} == {"sent"}
        assert len({row.case_id for row in notices}) == n
        received = _received_ids(sink)
        assert {row.message_id for row in notices} <= set(received)
        # A worker killed between the SMTP server's "250 OK" and our commit sends that message
        # again, with the same Message-ID, which receiving servers drop (ADR 0020): at most one
        # repeat per kill, never a new message.
        repeats = len(received) - len(set(received))
        assert repeats <= kills, f"{repeats} repeated deliveries for {kills} kills"


def test_cases_created_while_redis_is_down_are_accepted_and_finished_when_it_is_back(
    org: Org, tmp_path: Path, wait_until: Callable[..., Any]
) -> None:
    n = 200
    with smtp_sink_running() as sink, redis_server_running(tmp_path) as redis:
        env = _env(redis.url, sink)
        # Given Redis is down
        redis.stop()
        # When 200 cases come in through the e-service form and the API
        result = _driver(env, "post", str(n), org.bins.code, org.bins.code, org.agent.username)

        # Then every one of them was accepted: no error reached a resident or an agent
        assert collections.Counter(result["codes"]) == {303: n // 2, 201: n // 2}
        assert Case.objects.count() == n
        assert Case.objects.filter(state=CaseState.NEW).count() == n  # nothing routed yet

        # When Redis is back, with a worker and the beat scheduler running
        redis.start()
        back = time.monotonic()
        worker = _worker(env, tmp_path / "worker.log", "back")
        beat = spawn_celery(
            "beat", env, tmp_path / "beat.log", f"--schedule={tmp_path / 'beat-schedule'}"
        )
        try:
            # Then all follow-up work completes within a minute
            wait_until(
                lambda: not Case.objects.filter(state=CaseState.NEW).exists() and _all_sent(),
                timeout=75,
                interval=1,
                message="routing and receipts after Redis came back",
            )
            took = time.monotonic() - back
        finally:
            stop_process_group(worker, timeout=10)
            stop_process_group(beat, timeout=10)

        assert took < 60 + 15  # a beat tick (30 s), its sweep, and the work itself
        per_case = _routing_events_per_case()
        assert len(per_case) == n and set(per_case.values()) == {1}
        sent = list(OutboundMessage.objects.filter(channel="email"))
        assert len(sent) == n // 2  # one receipt per form (the forms' cases stay at the CC)
        assert {row.status for row in sent} == {"sent"}
        received = _received_ids(sink)
        assert sorted(received) == sorted(row.message_id for row in sent)  # no duplicates
