"""Outbound e-mail: a row first, the send after commit; headers; injection; claims; retries."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail as django_mail
from django.utils import timezone

from channels_app.email import outbound
from channels_app.email.tasks import email_outbound_sweep_task
from channels_app.models import OutboundMessage, OutboundStatus
from tests.municipality import Org

pytestmark = pytest.mark.django_db


def _queue(**overrides: object) -> OutboundMessage:
    kwargs: dict = {
        "case": None,
        "to": "eva@example.se",
        "subject": "Hej",
        "body": "Text",
        "kind": "reply",
        "auto_generated": False,
    }
    kwargs.update(overrides)
    return outbound.email_queue(**kwargs)


def test_queueing_writes_a_pending_row_and_sends_only_after_commit(
    org: Org, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    settings.MESSAGE_ID_DOMAIN = "cc.example"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        row = _queue()
    assert row.status == OutboundStatus.PENDING
    assert row.message_id.startswith("<") and row.message_id.endswith("@cc.example>")
    assert len(row.message_id) == len("<@cc.example>") + 32
    assert django_mail.outbox == [] and len(callbacks) == 1
    callbacks[0]()
    row.refresh_from_db()
    assert (row.status, row.attempts, row.sent_at is not None) == ("sent", 1, True)
    assert len(django_mail.outbox) == 1


def test_the_sent_mail_carries_our_threading_and_loop_headers(
    org: Org, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        row = _queue(
            auto_generated=True,
            kind="receipt",
            in_reply_to="<their@example.se>",
            references="<first@example.se> <their@example.se>",
        )
    (sent,) = django_mail.outbox
    message = sent.message()
    assert message["Message-ID"] == row.message_id
    assert message["In-Reply-To"] == "<their@example.se>"
    assert message["References"] == "<first@example.se> <their@example.se>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Auto-Response-Suppress"] == "All"


def test_a_human_reply_is_not_marked_automatic(
    org: Org, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        _queue()
    message = django_mail.outbox[0].message()
    assert message["Auto-Submitted"] is None and message["X-Auto-Response-Suppress"] is None


def test_header_injection_in_subject_and_headers_is_neutralised(
    org: Org, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        row = _queue(
            subject="Hej\r\nBcc: victim@example.com",
            in_reply_to="<a@b>\nBcc: x@example.com",
            to="eva@example.se\r\nCc: x@example.com",
        )
    assert row.subject == "Hej Bcc: victim@example.com"
    (sent,) = django_mail.outbox
    message = sent.message()
    assert message["Bcc"] is None and message["Cc"] is None
    assert sent.bcc == [] and sent.cc == []
    assert message["Subject"] == "Hej Bcc: victim@example.com"
    row.refresh_from_db()
    assert row.status == "sent"


def test_a_row_is_sent_once_however_often_the_task_runs(org: Org) -> None:
    row = _queue()
    assert outbound.email_send(outbound_id=row.pk) is True
    assert outbound.email_send(outbound_id=row.pk) is False
    assert len(django_mail.outbox) == 1


def test_a_stale_claim_loses_to_the_one_that_got_there_first(org: Org) -> None:
    row = _queue()
    # Another worker claimed it after we read attempts=0.
    OutboundMessage.objects.filter(pk=row.pk).update(attempts=1)
    claimed = OutboundMessage.objects.filter(
        pk=row.pk, status=OutboundStatus.PENDING, attempts=0
    ).update(attempts=1)
    assert claimed == 0


def test_a_failing_backend_is_retried_then_marked_failed_after_five_attempts(
    org: Org, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    def broken(self, fail_silently=False):  # type: ignore[no-untyped-def]
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", broken)
    row = _queue()
    for attempt in range(1, 6):
        assert outbound.email_send(outbound_id=row.pk) is False
        row.refresh_from_db()
        assert row.attempts == attempt
    assert row.status == OutboundStatus.FAILED
    assert "smtp down" in row.error
    assert outbound.email_send(outbound_id=row.pk) is False


def test_the_sweep_resends_what_waited_more_than_two_minutes(org: Org) -> None:
    old = _queue()
    fresh = _queue()
    OutboundMessage.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=3)
    )
    assert email_outbound_sweep_task() == 1  # eager in tests: sends right away
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert (old.status, fresh.status) == ("sent", "pending")
    assert email_outbound_sweep_task() == 0
