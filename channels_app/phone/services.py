"""What Twilio's voice webhooks tell us about a call, written as facts on its ``Call`` row.

Every function is idempotent and order-proof: it sets only the fields it knows, and only those
still empty (a conditional UPDATE), so a webhook repeated or arriving late changes nothing that
was already known. The call's outcome is derived from the facts (``Call.outcome``).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone

from cases import identity
from cases.models import Resident
from channels_app.models import Call, CallbackRequest, PhoneQueue

LANGUAGES = ("sv", "da", "en")


def _resident_for(number: str) -> Resident | None:
    """The resident whose number calls (the oldest, as intake picks it); never created: most
    calls need no resident record, and the agent registers one when it does."""
    try:
        e164 = identity.normalize_phone(number)
    except ValidationError:
        return None
    return Resident.objects.filter(phones__number=e164).order_by("pk").first()


def call_started(*, call_sid: str, from_number: str, to_number: str) -> Call:
    """The call reached our number (the first webhook; Twilio may send it again)."""
    try:
        with transaction.atomic():
            return Call.objects.create(
                call_sid=call_sid,
                from_number=from_number[:32],
                to_number=to_number[:32],
                resident=_resident_for(from_number),
            )
    except IntegrityError:
        return Call.objects.get(call_sid=call_sid)


def _known(call_sid: str, **fields: object) -> int:
    """Set each field of ``fields`` on the call unless already set; rows changed."""
    changed = 0
    for name, value in fields.items():
        empty = {f"{name}__isnull": True} if name.endswith(("_at", "_seconds")) else {name: ""}
        changed += Call.objects.filter(call_sid=call_sid, **empty).update(**{name: value})
    return changed


def call_language_chosen(*, call_sid: str, language: str) -> None:
    if language in LANGUAGES:
        _known(call_sid, language=language)


def call_enqueued(*, call_sid: str, queue: PhoneQueue, at: datetime.datetime | None = None) -> None:
    Call.objects.filter(call_sid=call_sid, queue__isnull=True).update(queue=queue)
    _known(call_sid, enqueued_at=at or timezone.now())


def call_left_queue(*, call_sid: str, result: str, queue_seconds: int | None) -> None:
    """Twilio's Enqueue action: ``bridged`` (an agent took it), ``hangup`` (the caller hung up
    while waiting: abandoned), ``leave`` (a callback request), or an error."""
    now = timezone.now()
    facts: dict[str, object] = {"queue_result": result[:20], "left_queue_at": now}
    if queue_seconds is not None:
        facts["queue_seconds"] = queue_seconds
    if result in ("bridged", "redirected"):
        facts["answered_at"] = now
    _known(call_sid, **facts)


def call_ended(*, call_sid: str, status: str, duration_seconds: int | None) -> None:
    """Twilio's call status callback at the end (completed, busy, no-answer, failed, canceled)."""
    facts: dict[str, object] = {"ended_at": timezone.now(), "end_status": status[:20]}
    if duration_seconds is not None:
        facts["duration_seconds"] = duration_seconds
    _known(call_sid, **facts)


def callback_request(*, call_sid: str, queue_position: int | None) -> CallbackRequest | None:
    """The caller pressed the callback key while waiting: one request per call, keeping the
    caller's place (requests are worked in the order they were made). None for a call we
    do not know or that is in no queue."""
    call = Call.objects.filter(call_sid=call_sid).select_related("queue").first()
    if call is None or call.queue is None:
        return None
    request, _created = CallbackRequest.objects.get_or_create(
        call=call,
        defaults={
            "number": call.from_number,
            "queue": call.queue,
            "language": call.language,
            "queue_position": queue_position,
        },
    )
    Call.objects.filter(pk=call.pk).update(callback_requested=True)
    return request


def queue_for(*, digits: str = "", speech: str = "") -> PhoneQueue | None:
    """The active queue of the key pressed, or whose name the caller said (any language)."""
    queues = list(PhoneQueue.objects.filter(active=True))
    if digits.strip().isdigit():
        return next((q for q in queues if q.digit == int(digits.strip())), None)
    said = speech.strip().lower()
    if not said:
        return None
    for queue in queues:
        names = {queue.name_sv.lower(), queue.name_da.lower(), queue.name_en.lower()}
        if any(name and (name in said or said in name) for name in names):
            return queue
    return None


def callbacks_due(*, now: datetime.datetime | None = None):  # type: ignore[no-untyped-def]
    """Callback requests to make now, first requested first: not done, not given up, and not
    waiting for a retry."""
    now = now or timezone.now()
    return (
        CallbackRequest.objects.filter(completed_at__isnull=True, given_up_at__isnull=True)
        .filter(models.Q(next_attempt_at__isnull=True) | models.Q(next_attempt_at__lte=now))
        .select_related("queue", "call__resident")
        .order_by("requested_at", "pk")
    )


def callback_completed(*, request_id: int, user: object) -> bool:
    """An agent called back and reached the caller. True the first time (a double click, or
    two agents at once, count once)."""
    return bool(
        CallbackRequest.objects.filter(
            pk=request_id, completed_at__isnull=True, given_up_at__isnull=True
        ).update(completed_at=timezone.now(), completed_by=user, attempts=F("attempts") + 1)
    )


def callback_unanswered(*, request_id: int, attempts_seen: int) -> str:
    """An agent called and nobody answered: try again later, or give up after the last
    attempt. Conditional on the attempts the agent saw, so a double click counts once.
    Returns ``"retry"``, ``"given_up"``, or ``""`` when nothing changed."""
    now = timezone.now()
    pending = CallbackRequest.objects.filter(
        pk=request_id, completed_at__isnull=True, given_up_at__isnull=True, attempts=attempts_seen
    )
    if attempts_seen + 1 >= settings.VOICE_CALLBACK_MAX_ATTEMPTS:
        return "given_up" if pending.update(attempts=attempts_seen + 1, given_up_at=now) else ""
    retry_at = now + datetime.timedelta(minutes=settings.VOICE_CALLBACK_RETRY_MINUTES)
    return "retry" if pending.update(attempts=attempts_seen + 1, next_attempt_at=retry_at) else ""
