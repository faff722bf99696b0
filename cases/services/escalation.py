"""Escalation ladders: planned on a case when it is forwarded, fired once by a periodic scan.

Two halves (docs/adr/0019-escalation-ladders.md):

* **Planning**, a transition hook (``escalation_on_transition``, registered in
  ``CasesConfig.ready``). A forward writes one ``CaseEscalation`` row per rung of the case's
  agreement with its ``due_at`` already counted in business time; an accept cancels the accept
  rungs; a resume moves the unfired rungs on by the business time the clock stood still; a
  transition that takes the case away from the department or finishes it cancels what is left.
  It runs inside the transition's transaction, so a transition that rolls back plans nothing.
* **Firing**, ``sla_scan``: every minute (Celery beat) it reads the rows that are due, claims
  them with a conditional UPDATE and writes, in bulk, one ``escalated`` CaseEvent per rung plus
  a workspace ``Notification`` and an e-mail per recipient. Deadlines live in the database;
  the broker only carries the e-mail sends after commit.

Each rung happens at most once per case: the row is unique per (case, step), and the claim
``UPDATE ... WHERE fired_at IS NULL AND cancelled_at IS NULL RETURNING id`` lets only one of two
concurrent scans change a row. The rows are also read ``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
so a second scan passes over rows the first one holds instead of waiting on (or deadlocking
with) it.
"""

from __future__ import annotations

import datetime
import enum
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Role, User
from cases.businesstime import (
    CalendarSpec,
    add_business_time,
    business_time_between,
    is_open,
    next_opening,
)
from cases.models import (
    ActorType,
    Case,
    CaseEscalation,
    CaseEvent,
    CaseState,
    Category,
    Department,
    EscalationStep,
    EventKind,
    Notification,
    ServiceAgreement,
)
from cases.services.actors import Actor
from cases.services.deadlines import DeadlineLookup, calendar_for

logger = logging.getLogger(__name__)

Notify = EscalationStep.Notify
Deadline = EscalationStep.Deadline

#: The states in which a deadline still runs. A due rung of a case in any other state is
#: cancelled by the scan instead of fired (a transition hook normally got there first).
LIVE_STATES: dict[str, frozenset[str]] = {
    Deadline.ACCEPT: frozenset({CaseState.FORWARDED}),
    Deadline.RESOLVE: frozenset({CaseState.FORWARDED, CaseState.ACCEPTED, CaseState.WAITING}),
}

#: Transitions after which nothing of the ladder applies any more: the case left the
#: department, or it is finished. (Reopen comes after a resolve, which cancelled already; it is
#: listed so that the rule does not depend on that.)
CANCELLING_TRANSITIONS = frozenset(
    {
        "return_to_contact_center",
        "resolve",
        "resolve_at_first_contact",
        "merge",
        "withdraw",
        "mark_spam",
        "close",
        "reopen",
    }
)

#: Rows per scan transaction: big enough for few round trips, small enough for short locks.
CHUNK_SIZE = 2000
#: E-mails per send task (one broker message per batch, not per e-mail).
EMAIL_BATCH = 200
NOTIFICATION_KIND = "escalation"
EMAIL_KIND = "escalation"


# --- Planning ----------------------------------------------------------------------------------


def escalation_due_at(
    *, spec: CalendarSpec, start: datetime.datetime, hours: Decimal, at_percent: int
) -> datetime.datetime:
    """``at_percent`` % of ``hours`` business hours after ``start`` (UTC).

    Whole seconds, truncated exactly as ``deadlines_for`` does, so the 100 % rung falls on the
    case's own deadline to the second.
    """
    seconds = int(Decimal(hours) * 36 * at_percent)  # hours * 3600 s * at_percent / 100
    return add_business_time(spec, start, datetime.timedelta(seconds=seconds))


def _hours_for(agreement: ServiceAgreement, deadline: str) -> Decimal:
    if deadline == Deadline.ACCEPT:
        return agreement.accept_within_hours
    return agreement.resolve_within_hours


def escalations_plan(*, case: Case, at: datetime.datetime, first: bool = False) -> int:
    """Plan every rung of the case's agreement, counted from ``case.forwarded_at``.

    A forward after a return updates the rows that have not fired (and un-cancels them); a rung
    that fired for this case stays fired: each rung happens once per case. Unfired rows of
    rungs the current agreement does not have (an earlier forward elsewhere) are cancelled.
    Returns the number of rows planned. ``first``: the case was never forwarded before (it
    comes straight from ``new``), so there are no rows to read.
    """
    lookup = DeadlineLookup.current()
    existing = (
        {} if first else {row.step_id: row for row in CaseEscalation.objects.filter(case=case)}
    )
    agreement = case.agreement if case.agreement_id else None
    steps = lookup.steps(agreement) if agreement is not None else []
    start = case.forwarded_at or at
    spec = lookup.calendar(case.department) if steps else None
    new: list[CaseEscalation] = []
    moved: list[CaseEscalation] = []
    for step in steps:
        assert spec is not None and agreement is not None
        due = escalation_due_at(
            spec=spec,
            start=start,
            hours=_hours_for(agreement, step.deadline),
            at_percent=step.at_percent,
        )
        row = existing.get(step.pk)
        if row is None:
            new.append(CaseEscalation(case=case, step=step, due_at=due))
        elif row.fired_at is None:
            row.due_at, row.cancelled_at = due, None
            moved.append(row)
    CaseEscalation.objects.bulk_create(new)
    if moved:
        CaseEscalation.objects.bulk_update(moved, ["due_at", "cancelled_at"])
    planned = {step.pk for step in steps}
    stale = [
        row.pk
        for step_id, row in existing.items()
        if step_id not in planned and row.fired_at is None and row.cancelled_at is None
    ]
    if stale:
        CaseEscalation.objects.filter(pk__in=stale).update(cancelled_at=at)
    return len(new) + len(moved)


def escalations_cancel(*, case_id: int, at: datetime.datetime, deadline: str | None = None) -> int:
    """Cancel the rungs of a case that have not fired (only those of ``deadline`` if given)."""
    pending = CaseEscalation.objects.filter(
        case_id=case_id, fired_at__isnull=True, cancelled_at__isnull=True
    )
    if deadline is not None:
        pending = pending.filter(step__deadline=deadline)
    return pending.update(cancelled_at=at)


def escalations_shift_after_pause(
    *, case: Case, paused_at: datetime.datetime, resumed_at: datetime.datetime
) -> int:
    """Move unfired rungs on by the business time the clock stood still.

    The rule of ``deadlines.shift_after_pause``, with the calendar loaded once: what was left
    at the pause is left again at the resume, and a rung already due at the pause stays due.
    """
    rows = list(
        CaseEscalation.objects.filter(
            case=case, fired_at__isnull=True, cancelled_at__isnull=True, due_at__gt=paused_at
        )
    )
    if not rows:
        return 0
    spec = DeadlineLookup.current().calendar(case.department)
    for row in rows:
        remaining = business_time_between(spec, paused_at, row.due_at)
        row.due_at = add_business_time(spec, resumed_at, remaining)
    CaseEscalation.objects.bulk_update(rows, ["due_at"])
    return len(rows)


def escalation_on_transition(*, case: Case, event: CaseEvent, actor: Actor) -> None:
    """The transition hook (``register_transition_hook("escalation", ...)``).

    Runs inside the transition's transaction, after its event. A case that was never forwarded
    has no rows, so most intake transitions cost no query here.
    """
    name = event.transition
    at = event.created_at
    if name == "forward":
        escalations_plan(case=case, at=at, first=event.from_state == CaseState.NEW)
    elif case.forwarded_at is None:
        return
    elif name == "accept":
        escalations_cancel(case_id=case.pk, at=at, deadline=Deadline.ACCEPT)
    elif name == "resume":
        paused = (event.data.get("before") or {}).get("paused_at")
        if paused:
            escalations_shift_after_pause(
                case=case, paused_at=datetime.datetime.fromisoformat(paused), resumed_at=at
            )
    elif name in CANCELLING_TRANSITIONS:
        escalations_cancel(case_id=case.pk, at=at)


# --- The scan ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanItem:
    """One rung the scan fired or deferred."""

    escalation_id: int
    case_id: int
    reference: str
    position: int
    deadline: str
    at_percent: int
    notify: str
    due_at: datetime.datetime
    recipients: tuple[int, ...] = ()
    until: datetime.datetime | None = None  # deferred: the department's next opening


@dataclass
class ScanResult:
    """What one ``sla_scan`` did. ``more``: it stopped at its limit; the next scan goes on."""

    at: datetime.datetime
    fired: list[ScanItem] = field(default_factory=list)
    deferred: list[ScanItem] = field(default_factory=list)
    cancelled: int = 0
    paused: int = 0
    notifications: int = 0
    emails: int = 0
    more: bool = False


@dataclass(frozen=True)
class _Person:
    pk: int
    email: str
    language: str


class _Context:
    """What a scan reads once: departments and their calendars, rungs, supervisors and heads.

    All small tables; loaded only when something is due, in a handful of queries.
    """

    def __init__(self, at: datetime.datetime) -> None:
        self.at = at
        departments = list(
            Department.objects.select_related("calendar").prefetch_related(
                "calendar__hours", "calendar__exceptions"
            )
        )
        self.departments = {d.pk: d for d in departments}
        for dept in departments:
            # Link parents by hand so that calendar_for() walks them without a query each.
            dept.parent = self.departments.get(dept.parent_id)  # type: ignore[assignment]
        self.steps = {s.pk: s for s in EscalationStep.objects.order_by()}
        self.contact_center_id = next((d.pk for d in departments if d.is_contact_center), None)
        heads = {d.head_id for d in departments if d.head_id}
        self.people: dict[int, _Person] = {}
        self.supervisors: dict[int, list[int]] = {}
        staff = User.objects.filter(Q(role=Role.SUPERVISOR) | Q(pk__in=heads), is_active=True)
        for pk, role, dept_id, email, language in staff.order_by("pk").values_list(
            "pk", "role", "department_id", "email", "language"
        ):
            self.people[pk] = _Person(pk, email, language)
            if role == Role.SUPERVISOR and dept_id is not None:
                self.supervisors.setdefault(dept_id, []).append(pk)
        self._keys: dict[int, int | None] = {}
        self._specs: dict[int | None, CalendarSpec] = {}
        self._open: dict[int | None, bool] = {}
        self._next: dict[int | None, datetime.datetime] = {}
        self._roles: dict[tuple[str, int], tuple[int, ...]] = {}
        self.templates: dict[tuple[Any, ...], tuple[str, str, str]] = {}
        self.link = settings.PUBLIC_BASE_URL + reverse("cases:detail", args=["__ref__"]).replace(
            "__ref__", _REF
        )

    def step(self, step_id: int) -> EscalationStep:
        """A rung by id; one added to a ladder while the scan runs is read when first met."""
        if step_id not in self.steps:
            self.steps[step_id] = EscalationStep.objects.get(pk=step_id)
        return self.steps[step_id]

    # Calendars: one spec, one is_open and one next_opening per calendar per scan.
    def _calendar_key(self, dept_id: int) -> int | None:
        if dept_id not in self._keys:
            key = None
            for unit in self._chain(dept_id):
                if unit.calendar_id is not None:
                    key = unit.calendar_id
                    break
            self._keys[dept_id] = key
        return self._keys[dept_id]

    def spec(self, dept_id: int) -> CalendarSpec:
        key = self._calendar_key(dept_id)
        if key not in self._specs:
            self._specs[key] = calendar_for(self.departments[dept_id])
        return self._specs[key]

    def is_open(self, dept_id: int) -> bool:
        key = self._calendar_key(dept_id)
        if key not in self._open:
            self._open[key] = is_open(self.spec(dept_id), self.at)
        return self._open[key]

    def next_opening(self, dept_id: int) -> datetime.datetime:
        key = self._calendar_key(dept_id)
        if key not in self._next:
            self._next[key] = next_opening(self.spec(dept_id), self.at)
        return self._next[key]

    def local(self, moment: datetime.datetime, dept_id: int) -> str:
        """``moment`` on the department's wall clock, for a message."""
        return moment.astimezone(self.spec(dept_id).tz).strftime("%Y-%m-%d %H:%M %Z")

    # Recipients.
    def _chain(self, dept_id: int) -> Iterable[Department]:
        unit = self.departments.get(dept_id)
        while unit is not None:
            yield unit
            unit = self.departments.get(unit.parent_id) if unit.parent_id else None

    def _head_or_supervisors(self, unit: Department) -> tuple[int, ...]:
        if unit.head_id and unit.head_id in self.people:
            return (unit.head_id,)
        return tuple(self.supervisors.get(unit.pk, ()))

    def _supervisors_above(self, dept_id: int) -> tuple[int, ...]:
        """Supervisors of the unit, else of the nearest unit above that has any (a supervisor
        of a unit supervises its sub-units too), else the nearest head."""
        for unit in self._chain(dept_id):
            if self.supervisors.get(unit.pk):
                return tuple(self.supervisors[unit.pk])
        for unit in self._chain(dept_id):
            if unit.head_id and unit.head_id in self.people:
                return (unit.head_id,)
        return ()

    def role(self, notify: str, dept_id: int) -> tuple[int, ...]:
        """Who stands behind a role for a department (not the assignee): cached per scan."""
        key = (notify, dept_id)
        if key in self._roles:
            return self._roles[key]
        found: tuple[int, ...] = ()
        if notify == Notify.DEPARTMENT_SUPERVISOR:
            # The unit head, else the unit's supervisors; a sub-unit with neither is led from above.
            for unit in self._chain(dept_id):
                found = self._head_or_supervisors(unit)
                if found:
                    break
        elif notify == Notify.DEPARTMENT_DIRECTOR:
            top = list(self._chain(dept_id))[-1] if dept_id in self.departments else None
            found = self._head_or_supervisors(top) if top is not None else ()
        elif notify == Notify.CONTACT_CENTER_SUPERVISOR and self.contact_center_id:
            cc = self.departments[self.contact_center_id]
            found = tuple(self.supervisors.get(cc.pk, ())) or self._head_or_supervisors(cc)
        elif notify == Notify.ASSIGNEE:
            found = self._supervisors_above(dept_id)
        self._roles[key] = found
        return found


# Columns of a due row, in the order of the SELECT below.
_ROW = (
    "pk",
    "case_id",
    "step_id",
    "due_at",
    "case__state",
    "case__paused_at",
    "case__department_id",
    "case__assignee_id",
    "case__reference",
    "case__category_id",
    "case__accept_due_at",
    "case__resolve_due_at",
)


def _due_rows(
    at: datetime.datetime, after: tuple[datetime.datetime, int] | None, size: int
) -> list[tuple[Any, ...]]:
    """The next ``size`` due rows in (due_at, id) order after ``after`` (keyset pagination: rows
    left for later, deferred or paused, are not read twice in one scan)."""
    pending = CaseEscalation.objects.filter(
        due_at__lte=at, fired_at__isnull=True, cancelled_at__isnull=True
    )
    if after is not None:
        due, pk = after
        # The redundant due_at >= bound lets PostgreSQL start the index range there.
        pending = pending.filter(due_at__gte=due).filter(
            Q(due_at__gt=due) | Q(due_at=due, pk__gt=pk)
        )
    return list(
        pending.order_by("due_at", "pk")
        .select_for_update(skip_locked=True, of=("self",))
        .values_list(*_ROW)[:size]
    )


def _claim(fire: dict[int, list[int]], at: datetime.datetime) -> set[int]:
    """Mark rows fired, with who was told, unless someone fired or cancelled them first.

    One ``UPDATE ... SET fired_at, notified FROM (id -> recipients) WHERE id = ... AND fired_at
    IS NULL AND cancelled_at IS NULL RETURNING id``: the ids that come back are ours to
    announce; a concurrent scan gets the others. On PostgreSQL the pairs travel as one JSON
    object (``jsonb_each``), not thousands of parameters; SQLite gets a VALUES list (it names
    the columns column1, column2).
    """
    if not fire:
        return set()
    qn = connection.ops.quote_name
    table = qn(CaseEscalation._meta.db_table)
    fired_at = CaseEscalation._meta.get_field("fired_at").get_db_prep_value(
        at, connection, prepared=False
    )
    params: list[Any] = [fired_at]
    if connection.vendor == "postgresql":
        pairs = "jsonb_each(%s::jsonb) AS v"
        key, value = "v.key::bigint", "v.value"
        params.append(json.dumps({str(pk): recipients for pk, recipients in fire.items()}))
    else:
        pairs = f"(VALUES {', '.join(['(%s, %s)'] * len(fire))}) AS v"
        key, value = "v.column1", "v.column2"
        for pk, recipients in fire.items():
            params += [pk, json.dumps(recipients)]
    sql = (
        f"UPDATE {table} SET {qn('fired_at')} = %s, {qn('notified')} = {value} "  # noqa: S608 - names from the model
        f"FROM {pairs} WHERE {table}.{qn('id')} = {key} "
        f"AND {table}.{qn('fired_at')} IS NULL AND {table}.{qn('cancelled_at')} IS NULL "
        f"RETURNING {table}.{qn('id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


def _cancel(ids: list[int], at: datetime.datetime) -> int:
    if not ids:
        return 0
    return CaseEscalation.objects.filter(
        pk__in=ids, fired_at__isnull=True, cancelled_at__isnull=True
    ).update(cancelled_at=at)


def sla_scan(
    *, at: datetime.datetime | None = None, limit: int = 100_000, chunk_size: int = CHUNK_SIZE
) -> ScanResult:
    """Fire every escalation due at ``at`` (default now), at most ``limit`` rows per scan.

    Per row: a case paused for the resident is left for later; a case in a state the deadline
    no longer applies to is cancelled; a rung not allowed outside business hours waits while
    the department is closed (``deferred``, with its next opening); the rest are claimed and
    announced. One transaction per chunk of ``chunk_size`` rows; e-mails leave after commit.
    """
    at = at or timezone.now()
    if timezone.is_naive(at):
        raise ValueError("sla_scan needs an aware datetime")
    result = ScanResult(at=at)
    ctx: _Context | None = None
    after: tuple[datetime.datetime, int] | None = None
    seen = 0
    while seen < limit:
        with transaction.atomic():
            rows = _due_rows(at, after, min(chunk_size, limit - seen))
            if not rows:
                break
            ctx = ctx or _Context(at)
            _scan_chunk(rows, ctx, result)
        seen += len(rows)
        after = (rows[-1][3], rows[-1][0])
        if len(rows) < chunk_size and seen < limit:
            break
    else:
        result.more = True
    return result


def _scan_chunk(rows: list[tuple[Any, ...]], ctx: _Context, result: ScanResult) -> None:
    at = ctx.at
    cancel: list[int] = []
    fire: dict[int, list[int]] = {}
    by_id: dict[int, tuple[Any, ...]] = {}
    assignees = {row[7] for row in rows if row[7] is not None and row[7] not in ctx.people}
    if assignees:
        for pk, email, language in User.objects.filter(
            pk__in=assignees, is_active=True
        ).values_list("pk", "email", "language"):
            ctx.people[pk] = _Person(pk, email, language)
    for row in rows:
        pk, _case, step_id, _due, state, paused_at, dept_id, assignee_id = row[:8]
        step = ctx.step(step_id)
        if state not in LIVE_STATES[step.deadline]:
            cancel.append(pk)
            continue
        if paused_at is not None:
            result.paused += 1
            continue
        if not step.outside_business_hours and not ctx.is_open(dept_id):
            result.deferred.append(_item(row, step, until=ctx.next_opening(dept_id)))
            continue
        if step.notify == Notify.ASSIGNEE and assignee_id in ctx.people:
            recipients: tuple[int, ...] = (assignee_id,)
        else:
            recipients = ctx.role(step.notify, dept_id)
        fire[pk] = list(dict.fromkeys(recipients))
        by_id[pk] = row
    result.cancelled += _cancel(cancel, at)
    claimed = _claim(fire, at)
    if not claimed:
        return
    fired = [(by_id[pk], fire[pk]) for pk in sorted(claimed, key=lambda pk: (by_id[pk][3], pk))]
    _announce(fired, ctx, result)


def _item(
    row: tuple[Any, ...],
    step: EscalationStep,
    *,
    recipients: Iterable[int] = (),
    until: datetime.datetime | None = None,
) -> ScanItem:
    return ScanItem(
        escalation_id=row[0],
        case_id=row[1],
        reference=row[8] or f"#{row[1]}",
        position=step.position,
        deadline=step.deadline,
        at_percent=step.at_percent,
        notify=step.notify,
        due_at=row[3],
        recipients=tuple(recipients),
        until=until,
    )


def _announce(
    fired: list[tuple[tuple[Any, ...], list[int]]], ctx: _Context, result: ScanResult
) -> None:
    """Write the events, notifications and e-mails of the rows this scan claimed, in bulk."""
    from channels_app.email.outbound import header_safe, new_message_id
    from channels_app.email.tasks import email_send_batch_task
    from channels_app.models import OutboundMessage
    from common.transactions import enqueue_on_commit

    at = ctx.at
    categories = {
        c.pk: c
        for c in Category.objects.filter(pk__in={row[9] for row, _r in fired if row[9]}).only(
            "pk", "name_sv", "name_da", "name_en", "sensitive"
        )
    }
    escalated, system = EventKind.ESCALATED.value, ActorType.SYSTEM.value
    events: list[tuple[Any, ...]] = []
    notes: list[tuple[Any, ...]] = []
    mails: list[tuple[Any, ...]] = []
    for row, recipients in fired:
        step = ctx.step(row[2])
        item = _item(row, step, recipients=recipients)
        result.fired.append(item)
        data = {
            "deadline": step.deadline,
            "at_percent": step.at_percent,
            "notify": step.notify,
            "step": step.position,
            "step_id": step.pk,
            "due_at": item.due_at.isoformat(),
            "recipients": recipients,
        }
        events.append((item.case_id, escalated, system, data, at))
        deadline = row[10] if step.deadline == Deadline.ACCEPT else row[11]
        due = ctx.local(deadline or item.due_at, row[6])
        texts: dict[str, tuple[str, ...]] = {}
        for pk in recipients:
            person = ctx.people[pk]
            language = person.language or settings.LANGUAGE_CODE
            if language not in texts:
                templates = _templates(ctx, step, categories.get(row[9]), row[6], language)
                texts[language] = tuple(_fill(t, item.reference, due) for t in templates)
            message, subject, body = texts[language]
            notes.append((pk, item.case_id, NOTIFICATION_KIND, message, at))
            if person.email:
                mails.append(
                    (
                        "email",
                        item.case_id,
                        header_safe(person.email)[:254],
                        header_safe(subject)[:300],
                        body,
                        new_message_id(),
                        True,
                        EMAIL_KIND,
                        at,
                    )
                )
    _insert(CaseEvent, ("case_id", "kind", "actor_type", "data", "created_at"), events)
    _insert(Notification, ("recipient_id", "case_id", "kind", "message", "created_at"), notes)
    ids = _insert(OutboundMessage, _MAIL_COLUMNS, mails, returning_ids=True)
    result.notifications += len(notes)
    result.emails += len(mails)
    for start in range(0, len(ids), EMAIL_BATCH):
        enqueue_on_commit(email_send_batch_task, ids[start : start + EMAIL_BATCH])


_MAIL_COLUMNS = (
    "channel",
    "case_id",
    "to",
    "subject",
    "body",
    "message_id",
    "auto_generated",
    "kind",
    "created_at",
)


def _plain(value: Any) -> Any:
    # psycopg adapts an Enum by its name; a TextChoices default must go in as its value.
    return value.value if isinstance(value, enum.Enum) else value


def _insert(
    model: type[models.Model],
    columns: tuple[str, ...],
    rows: list[tuple[Any, ...]],
    *,
    returning_ids: bool = False,
) -> list[int]:
    """Insert ``rows`` (values of ``columns``; every other column gets its field default).

    On PostgreSQL with COPY, as the demo seeder does (ADR 0013): a backlog scan writes tens of
    thousands of rows, and ``bulk_create`` spent more time building model instances and
    escaping parameters than the server spent inserting. Ids, when wanted (the e-mail send
    tasks take them), are drawn from the table's sequence first. Elsewhere ``bulk_create``.
    """
    if not rows:
        return []
    meta = model._meta
    if connection.vendor != "postgresql":
        objs = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        model.objects.bulk_create(objs)
        return [obj.pk for obj in objs]
    given = [meta.get_field(name) for name in columns]
    rest = [f for f in meta.concrete_fields if not f.primary_key and f not in given]
    extra = tuple(
        json.dumps(f.get_default()) if isinstance(f, models.JSONField) else _plain(f.get_default())
        for f in rest
    )
    as_json = [i for i, f in enumerate(given) if isinstance(f, models.JSONField)]
    qn = connection.ops.quote_name
    names = [f.column for f in given] + [f.column for f in rest]
    ids: list[int] = []
    with connection.cursor() as cursor:
        if returning_ids:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(rows)],
            )
            ids = [pk for (pk,) in cursor.fetchall()]
            names.insert(0, meta.pk.column)
        sql = f"COPY {qn(meta.db_table)} ({', '.join(qn(n) for n in names)}) FROM STDIN"
        # The Django cursor wraps a psycopg 3 cursor, which streams COPY data.
        with cursor.cursor.copy(sql) as copy:
            for i, row in enumerate(rows):
                values = list(row)
                for j in as_json:
                    values[j] = json.dumps(values[j])
                if returning_ids:
                    copy.write_row((ids[i], *values, *extra))
                else:
                    copy.write_row((*values, *extra))
    return ids


# Placeholders for what differs per case; a scan translates each template once per language,
# rung, category and department, and fills it in per case (tens of thousands of mails a scan).
_REF = "\x00ref\x00"
_DUE = "\x00due\x00"


def _templates(
    ctx: _Context, step: EscalationStep, category: Category | None, dept_id: int, language: str
) -> tuple[str, str, str]:
    """(workspace message, e-mail subject, e-mail body) in ``language``, with placeholders.

    Only the reference, category, department and deadline: never the case's content. The
    e-mail does not name a sensitive category either; the workspace message may.
    """
    key = (language, step.pk, category.pk if category is not None else None, dept_id)
    if key in ctx.templates:
        return ctx.templates[key]
    with translation.override(language):
        args = {"ref": _REF, "percent": step.at_percent, "due": _DUE}
        if step.deadline == Deadline.ACCEPT:
            if step.at_percent < 100:
                headline = _(
                    "Case %(ref)s has used %(percent)d %% of its time to be accepted (deadline %(due)s)."
                )
            else:
                headline = _("Case %(ref)s was not accepted by its deadline, %(due)s.")
        elif step.at_percent < 100:
            headline = _(
                "Case %(ref)s has used %(percent)d %% of its time to be resolved (deadline %(due)s)."
            )
        else:
            headline = _("Case %(ref)s was not resolved by its deadline, %(due)s.")
        headline = headline % args
        department = ctx.departments.get(dept_id)
        category_name = category.name if category is not None else _("no category")
        mailed_category = (
            _("(sensitive category, see the case)")
            if category is not None and category.sensitive
            else category_name
        )
        role = _("Escalation step %(position)d: %(role)s.") % {
            "position": step.position,
            "role": step.get_notify_display(),
        }
        message = f"{headline} {role}"
        subject = _("Escalation: case %(ref)s (%(category)s)") % {
            "ref": _REF,
            "category": mailed_category,
        }
        body = _(
            "%(headline)s\n\n"
            "Case: %(ref)s\n"
            "Category: %(category)s\n"
            "Department: %(department)s\n"
            "%(role)s\n\n"
            "Open the case: %(link)s\n\n"
            "This message was sent automatically by the contact center."
        ) % {
            "headline": headline,
            "ref": _REF,
            "category": mailed_category,
            "department": department or "–",
            "role": role,
            "link": ctx.link,
        }
    ctx.templates[key] = (message, subject, body)
    return ctx.templates[key]


def _fill(template: str, reference: str, due: str) -> str:
    return template.replace(_REF, reference).replace(_DUE, due)
