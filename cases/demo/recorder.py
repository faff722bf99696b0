"""The rows of one demo case, written the way the live services write them.

``go`` is the generator's ``case_<verb>``: it applies one transition and appends one
``transition`` event whose data holds the tracked fields that changed, ``{"before": ...,
"after": ...}``, plus the service's extras. ``contact`` appends a contact and its
``contact_added`` event. Nothing at or after the end of the window is recorded: ``go`` and
``contact`` then return False and the caller stops playing the case.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from cases.demo.clock import Clock
from cases.demo.people import Residents

STAFF_LOGGED = frozenset({"phone", "visit", "chat", "video", "letter"})
INACTIVE = frozenset(
    {"resolved_first_contact", "resolved", "closed", "merged", "withdrawn", "spam"}
)
NOW = -1  # as a change value: "the time of this transition"
# Attribute -> key in an event's before/after (the fields the transition services track).
TRACKED = {
    "department": "department_id",
    "assignee": "assignee_id",
    "accept_due": "accept_due_at",
    "resolve_due": "resolve_due_at",
    "paused": "paused_at",
    "fcr": "resolved_at_first_contact",
    "merged_into": "merged_into_id",
}
TIMES = frozenset({"accept_due", "resolve_due", "paused"})


@dataclass
class Buffers:
    """Rows waiting to be written, and the next free id of each table."""

    next_case: int
    next_contact: int
    next_event: int
    cases: list[tuple] = field(default_factory=list)
    contacts: list[tuple] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)


def duration(rng: random.Random, channel: str) -> int | None:
    """Seconds a call, visit, chat or video meeting takes (queue time included)."""
    if channel == "phone":
        return int(rng.triangular(120, 600, 200))
    if channel == "visit":
        return int(rng.triangular(300, 1800, 600))
    if channel == "chat":
        return int(rng.triangular(180, 1500, 420))
    if channel == "video":
        return int(rng.triangular(900, 2700, 1500))
    return None


class Recorder:
    """Per-case state (the Case columns) and the row writers."""

    def __init__(
        self,
        *,
        rng: random.Random,
        clock: Clock,
        end: int,
        buffers: Buffers,
        contact_center_id: int,
        residents: Residents,
        reference_prefix: str,
    ) -> None:
        self.rng, self.clock, self.end, self.buf = rng, clock, end, buffers
        self.cc = contact_center_id
        self.res = residents
        self.prefix = reference_prefix

    def begin(self, *, t0: int, year: int, resident: int | None, room: int) -> None:
        """Start a new case (state new, held by the contact center) with the next free id."""
        self.case_id = cid = self.buf.next_case
        self.buf.next_case += 1
        self.reference = f"{self.prefix}-{year}-{cid:06d}"
        self.resident = self.res.ids[resident] if resident is not None else None
        self.lang = self.res.languages[resident] if resident is not None else "sv"
        self.exempt = resident is not None and self.res.exempt[resident]
        self.state, self.updated, self.t, self.room, self.n_contacts = "new", t0, t0, room, 0
        self.department, self.assignee, self.fcr, self.merged_into = self.cc, None, False, None
        self.accept_due = self.resolve_due = self.paused = None
        self.forwarded = self.accepted = self.resolved = self.closed = None
        self.resume_state = ""
        self.inactive_at: int | None = None
        self.contact_case: int | None = None  # where new contacts go (a merge target, else us)

    # --- rows --------------------------------------------------------------------------------
    def event(
        self,
        t: int,
        kind: str,
        *,
        transition: str = "",
        frm: str = "",
        to: str = "",
        actor_type: str = "user",
        actor: int | None = None,
        channel: str = "",
        reason: str = "",
        data: str = "{}",
        case_id: int | None = None,
    ) -> None:
        buf = self.buf
        buf.events.append(
            (
                buf.next_event,
                case_id or self.case_id,
                kind,
                transition,
                frm,
                to,
                actor_type,
                actor,
                channel,
                reason,
                data,
                self.clock.fmt(t),
            )
        )
        buf.next_event += 1

    def _json(self, attr: str, value: object) -> str:
        if value is None:
            return "null"
        if attr in TIMES:
            return f'"{self.clock.iso(value)}"'  # type: ignore[arg-type]
        if value is True or value is False:
            return "true" if value else "false"
        return str(value)

    def go(
        self,
        t: int,
        name: str,
        to: str,
        actor: int | None,
        *,
        actor_type: str = "user",
        channel: str = "",
        reason: str = "",
        extra: str = "",
        **changes: object,
    ) -> bool:
        """Apply transition ``name`` at ``t`` with its field ``changes``: one audit event."""
        if t > self.end:
            return False
        t = max(t, self.updated + 1)
        before = [f'"state": "{self.state}"']
        after = [f'"state": "{to}"']
        for attr, value in changes.items():
            if value is NOW:
                value = t
            old = getattr(self, attr)
            key = TRACKED.get(attr)
            if key is not None and old != value:
                before.append(f'"{key}": {self._json(attr, old)}')
                after.append(f'"{key}": {self._json(attr, value)}')
            setattr(self, attr, value)
        data = f'{{"before": {{{", ".join(before)}}}, "after": {{{", ".join(after)}}}{extra}}}'
        self.event(
            t,
            "transition",
            transition=name,
            frm=self.state,
            to=to,
            actor_type=actor_type,
            actor=actor,
            channel=channel,
            reason=reason,
            data=data,
        )
        self.state, self.updated, self.t = to, t, t
        if to in INACTIVE and self.inactive_at is None:
            self.inactive_at = t
        return True

    def contact(
        self,
        t: int,
        channel: str,
        *,
        nature: str,
        summary: str,
        agent: int | None,
        direction: str = "in",
        failure: bool = False,
        fcr: bool = False,
        seconds: int | None = None,
        first: bool = False,
    ) -> bool:
        """Record a contact at ``t`` with its ``contact_added`` event (staff log it in office hours)."""
        if not first:
            if self.room <= 0:
                return False
            if channel in STAFF_LOGGED or direction == "out":
                t = self.clock.office_time(t, self.rng.random())
            if seconds is None:
                seconds = duration(self.rng, channel)
                if direction == "out" and seconds:
                    seconds //= 2
        if t > self.end:
            return False
        buf = self.buf
        cid = buf.next_contact
        buf.next_contact += 1
        stamp = self.clock.fmt(t)
        recorded = stamp if seconds is None else self.clock.fmt(t + seconds)
        buf.contacts.append(
            (
                cid,
                self.contact_case or self.case_id,
                channel,
                direction,
                stamp,
                seconds,
                agent,
                self.resident,
                nature,
                failure,
                fcr,
                summary,
                recorded,
            )
        )
        self.room -= 1
        self.n_contacts += 1
        self.event(
            t,
            "contact_added",
            actor_type="resident" if agent is None else "user",
            actor=agent,
            channel=channel if agent is None else "",
            data=f'{{"contact_id": {cid}, "channel": "{channel}", "direction": "{direction}"}}',
        )
        self.updated = max(self.updated, t)
        return True

    def row(
        self,
        subject: str,
        description: str,
        category_id: int | None,
        level: int | None,
        case_type: str,
        channel: str,
        priority: str,
        t0: int,
    ) -> None:
        """Append the case row as it stands after the last transition played."""
        fmt = self.clock.fmt

        def opt(value: int | None) -> str | None:
            return None if value is None else fmt(value)

        self.buf.cases.append(
            (
                self.case_id,
                self.reference,
                subject,
                description,
                self.resident,
                category_id,
                self.department,
                self.assignee,
                priority,
                level,
                case_type,
                channel,
                self.lang,
                self.state,
                self.resume_state,
                self.fcr,
                self.merged_into,
                opt(self.accept_due),
                opt(self.resolve_due),
                opt(self.paused),
                fmt(t0),
                fmt(self.updated),
                opt(self.forwarded),
                opt(self.accepted),
                opt(self.resolved),
                opt(self.closed),
            )
        )
