"""SMS through Twilio: sending with the real ``twilio`` library, permanent and passing errors,
the signed status callback, idempotent and order-proof.

Only Twilio's cloud is replaced: ``RecordedTwilio`` is a ``twilio.http.HttpClient`` that the
real ``twilio.rest.Client`` uses as its transport (``TWILIO_HTTP_CLIENT``), answering with the
recorded responses in tests/fixtures/twilio/. Callbacks are the recorded payloads, signed with
twilio's own ``RequestValidator``.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import pytest
from django.test import Client
from django.utils import timezone
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator

from channels_app.models import OutboundMessage, OutboundStatus
from channels_app.notices.tasks import outbound_sweep_task
from channels_app.sms.outbound import MAX_ATTEMPTS, sms_outbound_stale, sms_send

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "twilio"
ACCOUNT_SID = "AC0000000000000000000000000000test"
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
SENDER = "+46766920000"
PUBLIC = "https://kontakt.kommun.example"
SID = "SM1f0e8ae6ade43cb3c0ce4525424e404f"
STATUS_PATH = "/intake/sms/status/"


class RecordedTwilio(HttpClient):
    """Twilio's cloud, replayed: each request gets the next recorded answer and is kept."""

    answers: ClassVar[list[tuple[int, str]]] = []
    requests: ClassVar[list[dict[str, Any]]] = []

    def __init__(self) -> None:
        super().__init__(logger=logging.getLogger("tests.twilio"), is_async=False)

    def request(  # type: ignore[override]
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        type(self).requests.append({"method": method, "uri": uri, "data": dict(data or {})})
        if not type(self).answers:
            raise AssertionError(f"unexpected request to Twilio: {method} {uri}")
        status, text = type(self).answers.pop(0)
        return Response(status, text)


def recorded(name: str) -> tuple[int, str]:
    """A recorded API answer: HTTP 201 for a message, an error's own ``status`` otherwise."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    status = json.loads(text).get("status")
    return (status if isinstance(status, int) else 201), text


@contextlib.contextmanager
def recorded_twilio(settings) -> Iterator[type[RecordedTwilio]]:  # type: ignore[no-untyped-def]
    """Twilio configured (test credentials, public URL) and its cloud replaced by
    ``RecordedTwilio``; yields the class, whose ``answers`` the test fills."""
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_FROM = SENDER
    settings.PUBLIC_BASE_URL = PUBLIC
    settings.TWILIO_HTTP_CLIENT = "tests.channels.test_sms.RecordedTwilio"
    RecordedTwilio.answers = []
    RecordedTwilio.requests = []
    try:
        yield RecordedTwilio
    finally:
        RecordedTwilio.answers = []
        RecordedTwilio.requests = []


@pytest.fixture
def twilio(settings) -> Iterator[type[RecordedTwilio]]:  # type: ignore[no-untyped-def]
    with recorded_twilio(settings) as client:
        yield client


def callback_form(name: str) -> dict[str, str]:
    return dict(parse_qsl((FIXTURES / name).read_text(encoding="utf-8")))


def post_callback(
    params: dict[str, str],
    *,
    path: str = STATUS_PATH,
    token: str = AUTH_TOKEN,
    signed_url: str | None = None,
    signature: str | None = None,
) -> Any:
    """POST a callback as Twilio does: form-encoded, signed over the public URL it called."""
    from urllib.parse import urlencode

    if signature is None:
        signature = RequestValidator(token).compute_signature(signed_url or PUBLIC + path, params)
    headers = {"HTTP_X_TWILIO_SIGNATURE": signature} if signature else {}
    return Client().post(
        path, data=urlencode(params), content_type="application/x-www-form-urlencoded", **headers
    )


def sms_row(**fields: Any) -> OutboundMessage:
    values: dict[str, Any] = {
        "channel": "sms",
        "to": "+46701234567",
        "body": "Vi har tagit emot ditt ärende KC-2026-000001.",
        "kind": "notice:received",
        "auto_generated": True,
    }
    values.update(fields)
    return OutboundMessage.objects.create(**values)


def snapshot(row: OutboundMessage) -> tuple:
    row.refresh_from_db()
    return tuple(getattr(row, f.attname) for f in OutboundMessage._meta.concrete_fields)


# --- sending ---------------------------------------------------------------------------------
def test_it_sends_through_twilio_with_a_status_callback_to_the_public_url(twilio) -> None:  # type: ignore[no-untyped-def]
    row = sms_row()
    twilio.answers.append(recorded("messages_create_queued.json"))

    assert sms_send(outbound_id=row.pk) is True

    [request] = twilio.requests
    assert request["method"] == "POST"
    assert (
        request["uri"] == f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    )
    assert request["data"] == {
        "To": "+46701234567",
        "From": SENDER,
        "Body": "Vi har tagit emot ditt ärende KC-2026-000001.",
        "StatusCallback": f"{PUBLIC}/intake/sms/status/?outbound={row.pk}",
    }
    row.refresh_from_db()
    assert (row.status, row.provider_id, row.provider_status, row.attempts, row.error) == (
        OutboundStatus.SENT,
        SID,
        "queued",
        1,
        "",
    )
    assert row.sent_at is not None


def test_a_messaging_service_sid_is_sent_as_such(twilio, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TWILIO_FROM = "MG" + "0" * 32
    row = sms_row()
    twilio.answers.append(recorded("messages_create_queued.json"))

    sms_send(outbound_id=row.pk)

    data = twilio.requests[0]["data"]
    assert data["MessagingServiceSid"] == "MG" + "0" * 32
    assert "From" not in data


def test_a_row_is_sent_once_however_often_the_task_runs(twilio) -> None:  # type: ignore[no-untyped-def]
    row = sms_row()
    twilio.answers.append(recorded("messages_create_queued.json"))

    assert sms_send(outbound_id=row.pk) is True
    assert sms_send(outbound_id=row.pk) is False

    assert len(twilio.requests) == 1
    assert OutboundMessage.objects.get(pk=row.pk).attempts == 1


@pytest.mark.parametrize(
    ("fixture", "code"),
    [("messages_create_error_21211.json", 21211), ("messages_create_error_21610.json", 21610)],
)
def test_a_permanent_error_marks_the_row_failed_at_once(twilio, fixture: str, code: int) -> None:  # type: ignore[no-untyped-def]
    row = sms_row(created_at=timezone.now() - datetime.timedelta(hours=1))
    twilio.answers.append(recorded(fixture))

    assert sms_send(outbound_id=row.pk) is False

    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboundStatus.FAILED, 1)
    assert row.error.startswith(f"Twilio {code}: ")
    # and it is never tried again
    assert sms_outbound_stale() == []
    assert outbound_sweep_task.delay().get() == 0
    assert len(twilio.requests) == 1


def test_invalid_number_error_text_is_kept(twilio) -> None:  # type: ignore[no-untyped-def]
    row = sms_row()
    twilio.answers.append(recorded("messages_create_error_21211.json"))

    sms_send(outbound_id=row.pk)

    row.refresh_from_db()
    assert (
        row.error
        == "Twilio 21211: Unable to create record: Invalid 'To' Phone Number: +46701234XXX"
    )


def test_a_passing_error_is_retried_by_the_sweep_until_the_attempts_run_out(twilio) -> None:  # type: ignore[no-untyped-def]
    row = sms_row(created_at=timezone.now() - datetime.timedelta(minutes=5))
    twilio.answers.append(recorded("messages_create_error_20500.json"))

    sms_send(outbound_id=row.pk)

    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboundStatus.PENDING, 1)
    assert row.error.startswith("Twilio 20500: ")
    assert sms_outbound_stale() == [row.pk]

    # The sweep retries; Twilio keeps failing until the cap, then the row is failed for good.
    twilio.answers.extend([recorded("messages_create_error_20500.json")] * (MAX_ATTEMPTS - 1))
    for _ in range(MAX_ATTEMPTS - 1):
        assert outbound_sweep_task.delay().get() == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboundStatus.FAILED, MAX_ATTEMPTS)
    assert outbound_sweep_task.delay().get() == 0
    assert len(twilio.requests) == MAX_ATTEMPTS


def test_the_sweep_sends_what_a_lost_task_left_pending(twilio) -> None:  # type: ignore[no-untyped-def]
    old = sms_row(created_at=timezone.now() - datetime.timedelta(minutes=5))
    fresh = sms_row()  # its own task is still on the way
    twilio.answers.append(recorded("messages_create_queued.json"))

    assert outbound_sweep_task.delay().get() == 1

    assert OutboundMessage.objects.get(pk=old.pk).status == OutboundStatus.SENT
    assert OutboundMessage.objects.get(pk=fresh.pk).status == OutboundStatus.PENDING


def test_without_twilio_settings_nothing_is_sent_and_no_attempt_is_used(twilio, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TWILIO_AUTH_TOKEN = ""
    row = sms_row()

    assert sms_send(outbound_id=row.pk) is False

    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboundStatus.PENDING, 0)
    assert "not configured" in row.error
    assert twilio.requests == []


# --- status callbacks -------------------------------------------------------------------------
def sent_row(**fields: Any) -> OutboundMessage:
    values: dict[str, Any] = {
        "status": OutboundStatus.SENT,
        "provider_id": SID,
        "provider_status": "queued",
        "attempts": 1,
        "sent_at": timezone.now(),
    }
    return sms_row(**{**values, **fields})


def test_a_delivered_callback_marks_the_row_delivered(twilio) -> None:  # type: ignore[no-untyped-def]
    row = sent_row()

    response = post_callback(callback_form("status_delivered.form"))

    assert response.status_code == 204
    row.refresh_from_db()
    assert (row.status, row.provider_status) == (OutboundStatus.DELIVERED, "delivered")
    assert row.delivered_at is not None


def test_a_late_sent_does_not_overwrite_delivered_and_a_repeat_changes_nothing(twilio) -> None:  # type: ignore[no-untyped-def]
    row = sent_row()
    post_callback(callback_form("status_delivered.form"))
    delivered = snapshot(row)

    assert post_callback(callback_form("status_sent.form")).status_code == 204
    assert post_callback(callback_form("status_delivered.form")).status_code == 204

    assert snapshot(row) == delivered
    assert row.status == OutboundStatus.DELIVERED


def test_an_undelivered_callback_marks_the_row_failed_with_the_error_code(twilio) -> None:  # type: ignore[no-untyped-def]
    row = sent_row()

    post_callback(callback_form("status_undelivered_30003.form"))

    row.refresh_from_db()
    assert (row.status, row.error) == (OutboundStatus.FAILED, "Twilio 30003: undelivered")
    assert sms_outbound_stale() == []


def test_a_callback_before_our_own_bookkeeping_finds_the_row_by_its_id(twilio) -> None:  # type: ignore[no-untyped-def]
    """Twilio can call back before the worker wrote the MessageSid: the URL carries our id."""
    row = sms_row(attempts=1)  # claimed, Twilio has it, provider_id not yet written

    post_callback(callback_form("status_sent.form"), path=f"{STATUS_PATH}?outbound={row.pk}")

    row.refresh_from_db()
    assert (row.status, row.provider_id) == (OutboundStatus.SENT, SID)
    # and the sweep does not send it again
    assert sms_outbound_stale() == []


def test_a_callback_for_an_unknown_message_is_acknowledged_and_changes_nothing(twilio) -> None:  # type: ignore[no-untyped-def]
    row = sent_row(provider_id="SM" + "f" * 32)
    before = snapshot(row)

    assert post_callback(callback_form("status_delivered.form")).status_code == 204

    assert snapshot(row) == before


@pytest.mark.parametrize(
    "how",
    ["unsigned", "other token", "signed for the internal host", "tampered", "garbage"],
)
def test_a_wrongly_signed_callback_gets_403_and_writes_nothing(twilio, how: str) -> None:  # type: ignore[no-untyped-def]
    row = sent_row()
    before = snapshot(row)
    params = callback_form("status_delivered.form")
    if how == "unsigned":
        response = post_callback(params, signature="")
    elif how == "other token":
        response = post_callback(params, token="not-our-token")
    elif how == "signed for the internal host":
        # what a validator trusting the Host header would check: behind the proxy we see
        # http://testserver, but Twilio signed the public https URL
        response = post_callback(params, signed_url=f"http://testserver{STATUS_PATH}")
    elif how == "tampered":
        signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + STATUS_PATH, params)
        response = post_callback({**params, "MessageStatus": "failed"}, signature=signature)
    else:
        response = post_callback(params, signature="bm90IGEgc2lnbmF0dXJl")

    assert response.status_code == 403
    assert snapshot(row) == before


def test_without_an_auth_token_every_callback_is_refused(twilio, settings) -> None:  # type: ignore[no-untyped-def]
    row = sent_row()
    before = snapshot(row)
    params = callback_form("status_delivered.form")
    signature = RequestValidator("").compute_signature(PUBLIC + STATUS_PATH, params)
    settings.TWILIO_AUTH_TOKEN = ""

    assert post_callback(params, signature=signature).status_code == 403
    assert snapshot(row) == before


def test_the_callback_takes_only_post(twilio) -> None:  # type: ignore[no-untyped-def]
    assert Client().get(STATUS_PATH).status_code == 405
