from __future__ import annotations

import contextlib
import contextvars
import datetime
from collections.abc import Iterator
from typing import Any

from django.utils import timezone

from cases.models import Case, CaseEvent
from cases.services.actors import Actor

# Inside ``buffered_events()``: events to write with one INSERT when the block ends.
_buffer: contextvars.ContextVar[list[CaseEvent] | None] = contextvars.ContextVar(
    "case_event_buffer", default=None
)


@contextlib.contextmanager
def buffered_events() -> Iterator[None]:
    """Collect the events ``case_event_record`` makes inside the block and write them with one
    ``bulk_create`` at its end (a routing batch: one INSERT instead of one per case). Must be
    used inside the transaction, so that the events commit with what they describe. Events
    made in the block have no primary key until then."""
    events: list[CaseEvent] = []
    token = _buffer.set(events)
    try:
        yield
    finally:
        _buffer.reset(token)
    if events:
        CaseEvent.objects.bulk_create(events)


def case_event_record(
    *,
    case: Case,
    kind: str,
    actor: Actor,
    transition: str = "",
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
    at: datetime.datetime | None = None,
) -> CaseEvent:
    """Append one audit row. Called only from inside a service's transaction."""
    event = CaseEvent(
        case=case,
        kind=kind,
        transition=transition,
        from_state=from_state,
        to_state=to_state,
        actor_type=actor.type,
        actor=actor.user,
        actor_channel=actor.channel,
        reason=reason,
        data=data or {},
        created_at=at or timezone.now(),
    )
    buffer = _buffer.get()
    if buffer is not None:
        buffer.append(event)
    else:
        event.save()
    return event


def snapshot(case: Case, fields: tuple[str, ...]) -> dict[str, Any]:
    """JSON-safe values of ``fields`` for an event's before/after."""
    out: dict[str, Any] = {}
    for name in fields:
        value = getattr(case, name)
        if isinstance(value, datetime.datetime | datetime.date):
            value = value.isoformat()
        out[name] = value
    return out


def changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Only the keys whose value changed, as ``{"before": {...}, "after": {...}}``."""
    keys = [k for k in after if before.get(k) != after[k]]
    return {"before": {k: before.get(k) for k in keys}, "after": {k: after[k] for k in keys}}
