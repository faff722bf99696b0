from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from cases.models import Case, CaseEvent
from cases.services.actors import Actor


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
    return CaseEvent.objects.create(
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
