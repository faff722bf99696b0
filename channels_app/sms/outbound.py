"""Sending one SMS row through Twilio's Messages API.

The row was written (status pending) in the transaction that caused it; ``sms_send`` claims it
with a conditional UPDATE on the attempt count, as ``email_send`` does, so two workers holding
the same id send it once. Twilio has no idempotency key for messages: a worker that dies after
Twilio accepted the message but before our UPDATE leaves the row pending, and the sweep sends
it again (at-least-once, ADR 0020). The status callback URL carries the row's id, so even then
the callbacks find their row.
"""

from __future__ import annotations

import datetime
import logging

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from twilio.base.exceptions import TwilioRestException

from cases.choices import Channel
from channels_app.models import OutboundMessage, OutboundStatus
from channels_app.sms.client import sender_kwargs, sms_configured, twilio_client
from channels_app.sms.optout import sms_opted_out
from channels_app.sms.webhooks import public_url_for

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5

# Twilio error codes that no retry can cure: the number is invalid, is a landline, has
# unsubscribed (STOP), or the handset is unknown or unreachable for good. Anything else (5xx,
# timeouts, rate limits, a configuration mistake we will fix) is retried up to MAX_ATTEMPTS.
PERMANENT_ERROR_CODES = frozenset(
    {
        21211,  # invalid 'To' number
        21214,  # 'To' number cannot be reached
        21401,  # invalid phone number
        21407,  # not SMS-capable
        21408,  # region not enabled
        21421,  # invalid phone number
        21610,  # recipient unsubscribed (STOP)
        21612,  # cannot route to this number
        21614,  # 'To' is not a mobile number
        30003,  # unreachable destination handset
        30004,  # message blocked
        30005,  # unknown destination handset
        30006,  # landline or unreachable carrier
    }
)


def is_permanent(code: int | str | None) -> bool:
    try:
        return int(code) in PERMANENT_ERROR_CODES  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def status_callback_url(outbound_id: int) -> str:
    return public_url_for(f"{reverse('intake:sms-status')}?outbound={outbound_id}")


def sms_send(*, outbound_id: int) -> bool:
    """Send one pending SMS. True if this call handed it to Twilio."""
    row = OutboundMessage.objects.filter(pk=outbound_id, channel=Channel.SMS).first()
    if row is None or row.status != OutboundStatus.PENDING or row.provider_id:
        return False
    if not sms_configured():
        # Not an attempt: nothing left the building; the sweep tries again once configured.
        OutboundMessage.objects.filter(pk=row.pk, status=OutboundStatus.PENDING).update(
            error="Twilio is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM)."
        )
        return False
    if sms_opted_out(number=row.to):
        # The last guard: the number answered STOP after this row was written.
        OutboundMessage.objects.filter(pk=row.pk, status=OutboundStatus.PENDING).update(
            status=OutboundStatus.FAILED, error="The recipient answered STOP (opted out)."
        )
        return False
    claimed = OutboundMessage.objects.filter(
        pk=row.pk, status=OutboundStatus.PENDING, attempts=row.attempts
    ).update(attempts=row.attempts + 1)
    if claimed != 1:
        return False
    attempts = row.attempts + 1
    try:
        message = twilio_client().messages.create(
            to=row.to,
            body=row.body,
            status_callback=status_callback_url(row.pk),
            **sender_kwargs(),
        )
    except TwilioRestException as exc:
        permanent = is_permanent(exc.code)
        logger.warning(
            "Twilio refused SMS %s (attempt %s, code %s, permanent %s)",
            row.pk,
            attempts,
            exc.code,
            permanent,
        )
        OutboundMessage.objects.filter(pk=row.pk).update(
            error=f"Twilio {exc.code or exc.status}: {exc.msg}"[:2000],
            status=OutboundStatus.FAILED
            if permanent or attempts >= MAX_ATTEMPTS
            else OutboundStatus.PENDING,
        )
        return False
    except Exception as exc:  # network errors, timeouts: retried by the sweep
        logger.warning("Sending SMS %s failed (attempt %s): %s", row.pk, attempts, exc)
        OutboundMessage.objects.filter(pk=row.pk).update(
            error=f"{type(exc).__name__}: {exc}"[:2000],
            status=OutboundStatus.FAILED if attempts >= MAX_ATTEMPTS else OutboundStatus.PENDING,
        )
        return False
    now = timezone.now()
    # A status callback may have beaten us here (it finds the row by its id in the URL): then
    # the row is already sent or delivered and only the bookkeeping is filled in.
    updated = OutboundMessage.objects.filter(pk=row.pk, status=OutboundStatus.PENDING).update(
        status=OutboundStatus.SENT,
        sent_at=now,
        provider_id=message.sid,
        provider_status=message.status or "",
        error="",
    )
    if not updated:
        OutboundMessage.objects.filter(pk=row.pk, provider_id="").update(provider_id=message.sid)
        OutboundMessage.objects.filter(pk=row.pk, sent_at__isnull=True).update(sent_at=now)
    return True


def sms_outbound_stale(*, older_than_seconds: int = 120) -> list[int]:
    """Pending SMS a lost task left behind (or that failed and wait for a retry)."""
    cutoff = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    return list(
        OutboundMessage.objects.filter(
            Q(provider_id=""),
            channel=Channel.SMS,
            status=OutboundStatus.PENDING,
            created_at__lt=cutoff,
            attempts__lt=MAX_ATTEMPTS,
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:1000]
    )
