"""The integration setup is real: a separate Celery worker process answers over Redis."""

import os

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_process_answers_a_ping(celery_worker_process, celery_app):
    worker = celery_worker_process

    replies = celery_app.control.ping(destination=[worker.hostname], timeout=5)
    assert {worker.hostname: {"ok": "pong"}} in replies

    # The node that answered is the process the fixture started, not this test process.
    stats = celery_app.control.inspect(destination=[worker.hostname], timeout=5).stats()
    assert stats is not None and worker.hostname in stats, stats
    assert stats[worker.hostname]["pid"] == worker.pid
    assert stats[worker.hostname]["broker"]["transport"] == "redis"
    assert worker.pid != os.getpid()
    os.kill(worker.pid, 0)  # raises ProcessLookupError if there is no such process
    assert worker.alive
