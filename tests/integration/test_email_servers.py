"""E-mail against real servers: Dovecot for intake, aiosmtpd for outbound (tests/servers.py).

* ``test_the_worker_polls_dovecot_...`` is an integration test: PostgreSQL, Redis and the real
  Celery worker process poll a real Dovecot, record the mail and process it into a case.
* The SMTP tests need no worker: they send in this process, through Django's SMTP backend, to
  a real SMTP server on 127.0.0.1, and run in both passes of scripts/test.sh. (The worker uses
  the test settings' locmem backend, which no test can read from another process.)
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator

import pytest
from django.core.mail import send_mail
from django.db import transaction

from cases.models import Case
from channels_app.email.imap_tasks import mailboxes_poll_task
from channels_app.email.outbound import email_queue, email_send
from channels_app.models import InboundMessage, Mailbox, OutboundMessage, OutboundStatus
from tests.municipality import Org
from tests.servers import (
    DOVECOT_PASSWORD,
    DovecotServer,
    SmtpSink,
    dovecot_running,
    free_port,
    smtp_sink_running,
)

PASSWORD_ENV = "INTEGRATION_IMAP_PASSWORD"
# The worker is started once per session with a copy of this process's environment, possibly
# before any test of this module runs; setting the variable at import (collection) time is
# what makes it reach the worker.
os.environ.setdefault(PASSWORD_ENV, DOVECOT_PASSWORD)

SMTP_SETTINGS = {
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "EMAIL_USE_TLS": False,
    "EMAIL_USE_SSL": False,
    "EMAIL_HOST_USER": "",
    "EMAIL_HOST_PASSWORD": "",
    "EMAIL_TIMEOUT": 10,
}


@pytest.fixture
def dovecot() -> Iterator[DovecotServer]:
    with dovecot_running() as server:
        yield server


@pytest.fixture
def smtp(settings) -> Iterator[SmtpSink]:  # type: ignore[no-untyped-def]
    with smtp_sink_running() as sink:
        for name, value in SMTP_SETTINGS.items():
            setattr(settings, name, value)
        settings.EMAIL_HOST, settings.EMAIL_PORT = sink.host, sink.port
        yield sink


# --- intake: Dovecot -> worker -> case -------------------------------------------------------
@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_worker_polls_dovecot_and_the_mail_becomes_a_case(
    org: Org, dovecot: DovecotServer, celery_worker_process, celery_app, wait_until
) -> None:
    registered = celery_app.control.inspect(
        destination=[celery_worker_process.hostname], timeout=5
    ).registered()
    names = (registered or {}).get(celery_worker_process.hostname, [])
    assert mailboxes_poll_task.name in names, (
        f"the worker does not know {mailboxes_poll_task.name} (beat would send it in vain): "
        "channels_app/email/imap_tasks.py must be imported by the worker (CELERY_IMPORTS, or "
        "autodiscover in contactcenter/celery.py)"
    )
    # Given a mailbox on a real IMAP server with one mail from a resident
    folder = dovecot.new_folder()
    Mailbox.objects.create(
        name="rates",
        address="rates@kommun.example",
        department=org.waste,
        imap_host=dovecot.host,
        imap_port=dovecot.port,
        imap_ssl=False,
        imap_user=dovecot.user,
        imap_password_env=PASSWORD_ENV,
        imap_folder=folder,
    )
    dovecot.deliver(
        b"Message-ID: <e2e-1@resident.example>\r\n"
        b"From: Anna Andersson <anna@resident.example>\r\n"
        b"To: rates@kommun.example\r\n"
        b"Subject: Soptunnan har inte tomts\r\n"
        b"Date: Mon, 23 Nov 2026 09:00:00 +0100\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
        b"Hej! Soptunnan pa Storgatan 1 har inte tomts pa tva veckor.\r\n",
        folder=folder,
    )

    # When the periodic poll runs on the worker
    mailboxes_poll_task.delay()

    # Then the mail is recorded raw, once, and remembered on the mailbox
    message = wait_until(
        lambda: InboundMessage.objects.filter(external_id="e2e-1@resident.example").first(),
        message="the worker recorded no inbound message from Dovecot",
    )
    assert message.source == "email:rates"
    assert b"Storgatan 1" in bytes(message.raw)
    wait_until(lambda: Mailbox.objects.get(name="rates").last_uid == 1)
    # and, the e-mail processor being there, processed into a case
    if importlib.util.find_spec("channels_app.email.processor") is not None:
        message = wait_until(
            lambda: InboundMessage.objects.filter(pk=message.pk, case__isnull=False).first(),
            message="the inbound message did not become a case",
        )
        assert Case.objects.get(pk=message.case_id).subject == "Soptunnan har inte tomts"

    # And the next poll records only what is new (results are not kept: watch the database)
    dovecot.deliver(
        b"Message-ID: <e2e-2@resident.example>\r\n\r\nOch en sak till.\r\n", folder=folder
    )
    mailboxes_poll_task.delay()
    wait_until(lambda: Mailbox.objects.get(name="rates").last_uid == 2)
    assert sorted(
        InboundMessage.objects.filter(source="email:rates").values_list("external_id", flat=True)
    ) == ["e2e-1@resident.example", "e2e-2@resident.example"]


# --- outbound: Django's SMTP backend -> aiosmtpd ---------------------------------------------
@pytest.mark.django_db
def test_a_receipt_goes_out_over_smtp_with_its_threading_headers(smtp: SmtpSink) -> None:
    # Given an automatic receipt queued in reply to a resident's mail
    with transaction.atomic():
        row = email_queue(
            case=None,
            to="anna@resident.example",
            subject="Vi har tagit emot ditt ärende KC-2026-000001",
            body="Tack! Ditt ärende har nummer KC-2026-000001.",
            kind="receipt",
            auto_generated=True,
            in_reply_to="<e2e-1@resident.example>",
            references="<e2e-1@resident.example>",
        )

    # When it is sent
    assert email_send(outbound_id=row.pk) is True

    # Then a real SMTP server got exactly that mail
    assert len(smtp.received) == 1
    received = smtp.received[0]
    assert received.rcpt_tos == ["anna@resident.example"]
    mail = received.message()
    assert mail["Message-ID"] == row.message_id
    assert mail["In-Reply-To"] == "<e2e-1@resident.example>"
    assert mail["References"] == "<e2e-1@resident.example>"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["Subject"] == "Vi har tagit emot ditt ärende KC-2026-000001"
    assert "KC-2026-000001" in mail.get_content()
    row.refresh_from_db()
    assert row.status == OutboundStatus.SENT


@pytest.mark.django_db
def test_an_smtp_server_that_is_down_leaves_the_mail_pending(settings) -> None:  # type: ignore[no-untyped-def]
    for name, value in SMTP_SETTINGS.items():
        setattr(settings, name, value)
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    with transaction.atomic():
        row = email_queue(
            case=None,
            to="a@resident.example",
            subject="s",
            body="b",
            kind="reply",
            auto_generated=False,
        )

    assert email_send(outbound_id=row.pk) is False

    row = OutboundMessage.objects.get(pk=row.pk)
    assert (row.status, row.attempts) == (OutboundStatus.PENDING, 1)
    assert "Connection refused" in row.error or "ConnectionRefused" in row.error


@pytest.mark.django_db
def test_django_send_mail_reaches_the_smtp_server(smtp: SmtpSink) -> None:
    send_mail("Hej", "Text", "kontaktcenter@kommun.example", ["anna@resident.example"])

    assert [r.message()["Subject"] for r in smtp.received] == ["Hej"]
