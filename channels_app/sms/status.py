"""Twilio's delivery callbacks applied to our rows, idempotent and order-proof.

Twilio posts one callback per status change (queued, sent, delivered, undelivered, failed),
may repeat one, and does not promise their order: a late "sent" can arrive after "delivered".
Each update is therefore conditional on the statuses it may follow, so a duplicate or an
out-of-order callback changes nothing, and what was delivered stays delivered.
"""

from __future__ import annotations

import logging

from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from cases.choices import Channel
from channels_app.models import OutboundMessage, OutboundStatus

logger = logging.getLogger(__name__)

# Twilio MessageStatus -> ours. Statuses before "sent" (accepted, queued, sending, scheduled)
# mean Twilio has the message: for us it has left the building.
TWILIO_STATUSES = {
    "accepted": OutboundStatus.SENT,
    "scheduled": OutboundStatus.SENT,
    "queued": OutboundStatus.SENT,
    "sending": OutboundStatus.SENT,
    "sent": OutboundStatus.SENT,
    "delivered": OutboundStatus.DELIVERED,
    "read": OutboundStatus.DELIVERED,
    "undelivered": OutboundStatus.FAILED,
    "failed": OutboundStatus.FAILED,
    "canceled": OutboundStatus.FAILED,
}

# Which of our statuses each new status may replace. Delivered and failed are final.
MAY_FOLLOW = {
    OutboundStatus.SENT: (OutboundStatus.PENDING,),
    OutboundStatus.DELIVERED: (OutboundStatus.PENDING, OutboundStatus.SENT),
    OutboundStatus.FAILED: (OutboundStatus.PENDING, OutboundStatus.SENT),
}


def sms_status_apply(
    *,
    message_sid: str,
    twilio_status: str,
    error_code: str = "",
    outbound_id: int | None = None,
) -> int:
    """Apply one callback; the number of rows it changed (0 for a duplicate, a late or an
    unknown callback). The row is found by MessageSid, or by the id in the callback URL while
    our own bookkeeping after the send has not written the MessageSid yet."""
    new = TWILIO_STATUSES.get(twilio_status.lower())
    if new is None or not message_sid:
        logger.info("Ignoring Twilio status %r for %s", twilio_status, message_sid)
        return 0
    match = Q(provider_id=message_sid)
    if outbound_id is not None:
        match |= Q(pk=outbound_id, provider_id="")
    now = timezone.now()
    fields: dict[str, object] = {
        "status": new,
        "provider_id": message_sid,
        "provider_status": twilio_status.lower()[:20],
        "sent_at": Coalesce(F("sent_at"), now),
    }
    if new == OutboundStatus.DELIVERED:
        fields["delivered_at"] = now
        fields["error"] = ""
    elif new == OutboundStatus.FAILED:
        fields["error"] = f"Twilio {error_code or '?'}: {twilio_status.lower()}"
    changed = (
        OutboundMessage.objects.filter(match, channel=Channel.SMS, status__in=MAY_FOLLOW[new])
        .order_by()
        .update(**fields)
    )
    if not changed and not OutboundMessage.objects.filter(match, channel=Channel.SMS).exists():
        logger.warning("Twilio status %r for unknown message %s", twilio_status, message_sid)
    return changed
