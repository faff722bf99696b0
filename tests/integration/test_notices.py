"""Notices against PostgreSQL, Redis and real Celery worker processes.

* With the shared worker (``celery_worker_process``, test settings): a committed transition's
  notice is sent by the worker; a transition that rolls back leaves no row and sends nothing.
* With a mail worker: the e-mail notice reaches a real SMTP server (the aiosmtpd sink of
  tests/servers.py). The shared worker runs the test settings, whose mail backend is locmem,
  in another process: nobody could read what it sent. So this test starts a second worker with
  the production settings (SMTP to the sink, PostgreSQL, Redis, a real secret key) and routes
  the notice tasks of this test to a queue only that worker consumes.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from cases.choices import Channel
from cases.models import Case, Contact
from cases.services.actors import Actor
from cases.services.cases import ContactInput, case_create
from cases.services.residents import resident_create
from cases.services.transitions import case_open, case_wait_for_resident
from channels_app.models import OutboundMessage, OutboundStatus
from common.processes import stop_process_group
from tests.conftest import WorkerProcess, _database_url, spawn_celery
from tests.municipality import Org
from tests.servers import SmtpSink, smtp_sink_running

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

NOTICE_TASKS = (
    "channels_app.notices.tasks.outbound_send_task",
    "channels_app.notices.tasks.outbound_send_batch_task",
)


def waiting_case(org: Org, address: str) -> Case:
    """An open case of a resident reached by e-mail (no forward: no department mail)."""
    resident = resident_create(
        actor=Actor.staff(org.agent), name="Anna Andersson", emails=[address]
    )
    case = case_create(
        actor=Actor.staff(org.agent),
        subject="Soptunnan tömdes inte",
        category=org.bins,
        resident=resident,
        contact=ContactInput(channel=Channel.PHONE),
    )
    return case_open(actor=Actor.staff(org.agent), case_id=case.pk)


def test_the_worker_sends_the_notice_of_a_committed_transition(
    org: Org, celery_worker_process, wait_until
) -> None:  # type: ignore[no-untyped-def]
    case = waiting_case(org, "anna@example.se")

    case_wait_for_resident(actor=Actor.staff(org.agent), case_id=case.pk, reason="Ett foto.")

    row = wait_until(
        lambda: OutboundMessage.objects.filter(case=case, status=OutboundStatus.SENT).first(),
        message="the worker did not send the notice",
    )
    assert (row.channel, row.kind, row.attempts) == (Channel.EMAIL, "notice:waiting", 1)
    assert row.subject == f"Vi behöver mer information i ärende {case.reference}"


def test_a_transition_that_rolls_back_sends_nothing(
    org: Org, celery_worker_process, wait_until
) -> None:  # type: ignore[no-untyped-def]
    case = waiting_case(org, "anna@example.se")
    contacts = Contact.objects.filter(case=case).count()

    with pytest.raises(RuntimeError), transaction.atomic():
        case_wait_for_resident(actor=Actor.staff(org.agent), case_id=case.pk, reason="Ett foto.")
        raise RuntimeError("the request failed after the transition")

    # A committed transition on another case, after it: once the worker has sent that one,
    # anything the rolled-back one might have queued would have run too.
    other = waiting_case(org, "bo@example.se")
    case_wait_for_resident(actor=Actor.staff(org.agent), case_id=other.pk)
    wait_until(
        lambda: OutboundMessage.objects.filter(case=other, status=OutboundStatus.SENT).exists()
    )
    assert not OutboundMessage.objects.filter(case=case).exists()
    assert Contact.objects.filter(case=case).count() == contacts
    assert Case.objects.get(pk=case.pk).state == "open"


# --- through a mail worker to a real SMTP server ---------------------------------------------
@contextlib.contextmanager
def routed_to(app: Any, queue: str, names: tuple[str, ...]) -> Iterator[None]:
    """Publish the named tasks to ``queue`` for the duration (this process only)."""
    saved = app.conf.task_routes
    app.conf.task_routes = {name: {"queue": queue} for name in names}
    app.amqp.flush_routes()
    app.amqp.__dict__.pop("router", None)  # a cached_property built from the old routes
    try:
        yield
    finally:
        app.conf.task_routes = saved
        app.amqp.flush_routes()
        app.amqp.__dict__.pop("router", None)


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with smtp_sink_running() as sink:
        yield sink


@pytest.fixture
def mail_worker(
    django_db_setup: None, celery_broker_purged: str, smtp: SmtpSink, tmp_path, celery_app
) -> Iterator[tuple[WorkerProcess, str]]:  # type: ignore[no-untyped-def]
    """A Celery worker on the production settings, sending mail by SMTP to ``smtp``, consuming
    only its own queue. Yields the worker and the queue's name."""
    from django.db import connection

    queue = f"notices-it-{uuid.uuid4().hex[:8]}"
    hostname = f"mail-{os.getpid()}@{socket.gethostname()}"
    log_path = tmp_path / "mail-worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "contactcenter.settings.production",
        "DJANGO_SECRET_KEY": "integration-" + "x" * 60,
        "DATABASE_URL": _database_url(connection.settings_dict),
        "DATABASE_CONN_MAX_AGE": "0",
        "CELERY_BROKER_URL": celery_broker_purged,
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "DJANGO_EMAIL_HOST": smtp.host,
        "DJANGO_EMAIL_PORT": str(smtp.port),
        "DJANGO_EMAIL_USE_TLS": "0",
    }
    process = spawn_celery("worker", env, log_path, f"--queues={queue}", f"--hostname={hostname}")
    worker = WorkerProcess(
        process=process,
        hostname=hostname,
        log_path=log_path,
        database_name=connection.settings_dict["NAME"],
        broker_url=celery_broker_purged,
    )
    try:
        deadline = time.monotonic() + 30
        while not any(
            hostname in reply
            for reply in celery_app.control.ping(destination=[hostname], timeout=1) or []
        ):
            if not worker.alive or time.monotonic() > deadline:
                pytest.fail(f"the mail worker did not start. Its log:\n{worker.log()}")
        yield worker, queue
    finally:
        stop_process_group(process, timeout=10)


def test_a_transition_sends_its_email_notice_through_the_worker_to_smtp(
    org: Org, mail_worker, smtp: SmtpSink, celery_app, wait_until
) -> None:  # type: ignore[no-untyped-def]
    worker, queue = mail_worker
    case = waiting_case(org, "anna@example.se")

    with routed_to(celery_app, queue, NOTICE_TASKS):
        case_wait_for_resident(
            actor=Actor.staff(org.agent), case_id=case.pk, reason="Ett foto av tunnan."
        )
        received = wait_until(
            lambda: [m for m in smtp.received if "anna@example.se" in m.rcpt_tos],
            message=f"no notice reached the SMTP server. Mail worker log:\n{worker.log()}",
        )

    [mail] = received
    message = mail.message()
    row = OutboundMessage.objects.get(case=case)
    # (Django folds an encoded subject onto a continuation line; readers drop the fold.)
    assert message["Subject"].strip() == f"Vi behöver mer information i ärende {case.reference}"
    assert message["Message-ID"] == row.message_id
    assert message["Auto-Submitted"] == "auto-generated"
    body = message.get_content().replace("\r\n", "\n")
    assert "Det här behöver vi:\nEtt foto av tunnan." in body
    wait_until(lambda: OutboundMessage.objects.get(pk=row.pk).status == OutboundStatus.SENT)
