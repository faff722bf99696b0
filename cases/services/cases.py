"""Creating cases and the changes that are not state transitions: contacts, notes, assignment,
classification. Each function is one transaction with one audit row per change."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from cases import permissions
from cases.choices import Channel, Direction, Nature, Priority
from cases.models import (
    Case,
    CaseEvent,
    CaseState,
    Category,
    Contact,
    Department,
    EventKind,
    Resident,
)
from cases.services.actors import Actor
from cases.services.common import case_lock, contact_center, ensure_may_work_on
from cases.services.events import case_event_record, changed, snapshot
from common.exceptions import ApplicationError, PermissionDeniedError
from common.inserts import insert_together, preallocated_id
from common.transactions import grouped_enqueue_on_commit


@dataclass(frozen=True)
class ContactInput:
    """What a service needs to record one contact."""

    channel: str
    direction: str = Direction.INBOUND
    occurred_at: datetime.datetime | None = None
    duration_seconds: int | None = None
    nature: str = Nature.INFORMATION
    failure_demand: bool = False
    summary: str = ""


def _validate_contact(contact: ContactInput) -> None:
    fields: dict[str, list[str]] = {}
    if contact.channel not in Channel.values:
        fields["channel"] = [_("Unknown channel.")]
    if contact.direction not in Direction.values:
        fields["direction"] = [_("Unknown direction.")]
    if contact.nature not in Nature.values:
        fields["nature"] = [_("Choose information or transaction.")]
    if contact.duration_seconds is not None and contact.duration_seconds < 0:
        fields["duration_seconds"] = [_("The duration cannot be negative.")]
    if (
        contact.occurred_at is not None
        and contact.occurred_at > timezone.now() + datetime.timedelta(minutes=5)
    ):
        fields["occurred_at"] = [_("The contact cannot be in the future.")]
    if fields:
        raise ApplicationError(_("The contact contains invalid data."), fields=fields)


def _category_valid_today(category: Category | None) -> None:
    if category is not None and not category.is_valid_on(timezone.localdate()):
        raise ApplicationError(
            _("The category %(code)s is no longer in use.") % {"code": category.code},
            fields={"category": [_("This category is no longer in use; choose its successor.")]},
        )


def _reference_for(case_id: int, created_at: datetime.datetime) -> str:
    year = timezone.localtime(created_at).year
    return f"{settings.CASE_REFERENCE_PREFIX}-{year}-{case_id:06d}"


def case_create(
    *,
    actor: Actor,
    subject: str,
    contact: ContactInput,
    description: str = "",
    resident: Resident | None = None,
    category: Category | None = None,
    complexity_level: int | None = None,
    case_type: str = "",
    priority: str = Priority.NORMAL,
    language: str = "",
    location_key: str = "",
) -> Case:
    """Open a case from its first contact. It starts ``new``, owned by the contact center.
    ``location_key`` (``identity.location_key``) says where a reported fault is."""
    case, _contact = case_create_with_contact(
        actor=actor,
        subject=subject,
        contact=contact,
        description=description,
        resident=resident,
        category=category,
        complexity_level=complexity_level,
        case_type=case_type,
        priority=priority,
        language=language,
        location_key=location_key,
    )
    return case


def case_create_with_contact(
    *,
    actor: Actor,
    subject: str,
    contact: ContactInput,
    description: str = "",
    resident: Resident | None = None,
    category: Category | None = None,
    complexity_level: int | None = None,
    case_type: str = "",
    priority: str = Priority.NORMAL,
    language: str = "",
    location_key: str = "",
) -> tuple[Case, Contact]:
    """``case_create``, also returning the contact it recorded (intake links its inbound
    record to that contact without reading it back)."""
    if actor.is_staff and not permissions.is_contact_center_staff(actor.user):  # type: ignore[arg-type]
        raise PermissionDeniedError(_("Only the contact center registers new cases."))
    if not subject.strip():
        raise ApplicationError(
            _("A case needs a subject."), fields={"subject": [_("This field is required.")]}
        )
    _validate_contact(contact)
    _category_valid_today(category)
    owner = contact_center()
    return _case_insert(
        actor=actor,
        subject=subject,
        contact=contact,
        description=description,
        resident=resident,
        category=category,
        complexity_level=complexity_level,
        case_type=case_type,
        priority=priority,
        language=language,
        owner=owner,
        location_key=location_key,
    )


# Checks happen in case_create before this: nothing in here raises for bad input, so it needs
# no savepoint when nested (intake calls it inside its own transaction; a savepoint would cost
# two more statements per case at intake rates).
@transaction.atomic(savepoint=False)
def _case_insert(
    *,
    actor: Actor,
    subject: str,
    contact: ContactInput,
    description: str,
    resident: Resident | None,
    category: Category | None,
    complexity_level: int | None,
    case_type: str,
    priority: str,
    language: str,
    owner: Department,
    location_key: str = "",
) -> tuple[Case, Contact]:
    now = timezone.now()
    case_id = preallocated_id(Case)
    case = Case(
        id=case_id,
        reference=_reference_for(case_id, now) if case_id else None,
        subject=subject.strip()[:200],
        description=description,
        resident=resident,
        category=category,
        department=owner,
        complexity_level=complexity_level or (category.default_level if category else None),
        case_type=case_type or (category.case_type if category else ""),
        priority=priority,
        origin_channel=contact.channel,
        language=language
        or (resident.preferred_language if resident else settings.LANGUAGE_CODE[:2]),
        location_key=location_key[:120],
        created_at=now,
    )
    row = _contact_instance(
        case=case,
        actor=actor,
        contact=contact,
        resident=resident,
        at=now,
        pk=preallocated_id(Contact),
    )
    if case_id is None:  # SQLite: ids are known only after each insert
        case.save(force_insert=True)
        case.reference = _reference_for(case.pk, now)
        Case.objects.filter(pk=case.pk).update(reference=case.reference)
        row.case = case
        row.save(force_insert=True)
    events = [
        _event(
            case,
            actor,
            EventKind.CREATED,
            now,
            to_state=CaseState.NEW,
            data={"channel": contact.channel, "category": category.code if category else None},
        ),
        _event(case, actor, EventKind.CONTACT_ADDED, now, data=_contact_data(row)),
    ]
    if case_id is None:
        CaseEvent.objects.bulk_create(events)
    else:
        # The case, its contact and both audit rows in one statement: intake creates many
        # cases a second, and the ORM building three INSERTs was most of a create's CPU.
        insert_together([case], [row], events)
    # Routing decides where the case goes once it is committed (one task per intake batch).
    from cases.tasks import case_route_batch_task, case_route_task

    grouped_enqueue_on_commit(case_route_task, case_route_batch_task, case.pk)
    return case, row


def _event(
    case: Case, actor: Actor, kind: str, at: datetime.datetime, **fields: object
) -> CaseEvent:
    return CaseEvent(
        case=case,
        kind=kind,
        actor_type=actor.type,
        actor=actor.user,
        actor_channel=actor.channel,
        created_at=at,
        **fields,  # type: ignore[arg-type]
    )


def _contact_data(row: Contact) -> dict[str, object]:
    return {"contact_id": row.pk, "channel": row.channel, "direction": row.direction}


def _contact_instance(
    *,
    case: Case,
    actor: Actor,
    contact: ContactInput,
    resident: Resident | None,
    at: datetime.datetime,
    pk: int | None = None,
) -> Contact:
    return Contact(
        id=pk,
        case=case,
        channel=contact.channel,
        direction=contact.direction,
        occurred_at=contact.occurred_at or at,
        duration_seconds=contact.duration_seconds,
        agent=actor.user,
        resident=resident,
        nature=contact.nature,
        failure_demand=contact.failure_demand,
        summary=contact.summary,
        created_at=at,
    )


def _contact_insert(
    *,
    case: Case,
    actor: Actor,
    contact: ContactInput,
    resident: Resident | None,
    at: datetime.datetime,
) -> Contact:
    row = _contact_instance(case=case, actor=actor, contact=contact, resident=resident, at=at)
    row.save(force_insert=True)
    case_event_record(
        case=case, kind=EventKind.CONTACT_ADDED, actor=actor, data=_contact_data(row), at=at
    )
    return row


def case_record_outbound(*, actor: Actor, case: Case, contact: ContactInput) -> Contact:
    """Record a message we send (a reply, a notice) as an outbound contact on ``case``.

    For callers inside a transaction that already holds the case's row lock (a reply service,
    a transition hook): ``case_add_contact`` would lock and read the row a second time.
    """
    if contact.direction != Direction.OUTBOUND:
        raise ValueError("case_record_outbound records outbound contacts only")
    _validate_contact(contact)
    return _contact_insert(
        case=case, actor=actor, contact=contact, resident=case.resident, at=timezone.now()
    )


@transaction.atomic
def case_add_contact(*, actor: Actor, case_id: int, contact: ContactInput) -> Contact:
    """Record another contact on a case, on any channel.

    An inbound contact on a case that waits for the resident is the resident's answer: the case
    resumes (and its clock restarts) in the same transaction.
    """
    case = case_lock(case_id=case_id, actor=actor)
    ensure_may_work_on(actor, case)
    _validate_contact(contact)
    if case.state in (CaseState.MERGED, CaseState.SPAM):
        raise ApplicationError(
            _("Case %(ref)s is %(state)s; add the contact to the case it was merged into.")
            % {"ref": case.reference, "state": case.get_state_display()},
            code="case_final",
        )
    row = _contact_insert(
        case=case, actor=actor, contact=contact, resident=case.resident, at=timezone.now()
    )
    if case.state == CaseState.WAITING and contact.direction == Direction.INBOUND:
        from cases.services.transitions import case_resume

        # The system resumes, not the actor: an agent logging the resident's call on a case a
        # department holds may record the contact but not move the department's case.
        case_resume(actor=Actor.system(), case_id=case.pk, reason=_("The resident answered."))
    return row


@transaction.atomic
def case_add_note(*, actor: Actor, case_id: int, text: str, public: bool = False) -> None:
    """A note on the timeline. Internal by default; a ``public`` note is one the resident may
    read (Open311 ``status_notes``, the resident's case page). Only staff write public notes."""
    case = case_lock(case_id=case_id, actor=actor)
    ensure_may_work_on(actor, case)
    if not text.strip():
        raise ApplicationError(
            _("A note cannot be empty."), fields={"text": [_("This field is required.")]}
        )
    if public and not actor.is_staff:
        raise PermissionDeniedError(_("Only staff can write public notes."))
    case_event_record(
        case=case,
        kind=EventKind.NOTE,
        actor=actor,
        reason=text.strip(),
        data={"public": True} if public else None,
    )


@transaction.atomic
def case_assign(*, actor: Actor, case_id: int, assignee: User | None) -> Case:
    """Give the case to a member of staff (or to nobody in particular: the unit's queue)."""
    case = case_lock(case_id=case_id, actor=actor)
    ensure_may_work_on(actor, case)
    if actor.is_staff and not permissions.owns_case(actor.user, case):  # type: ignore[arg-type]
        raise PermissionDeniedError(
            _("Only the unit that holds case %(ref)s can assign it.") % {"ref": case.reference}
        )
    if not case.is_active:
        raise ApplicationError(_("A finished case cannot be assigned."), code="case_not_active")
    if assignee is not None and not (assignee.is_active and permissions.owns_case(assignee, case)):
        raise ApplicationError(
            _("%(user)s cannot work on cases of %(unit)s.")
            % {"user": assignee.get_username(), "unit": case.department},
            fields={"assignee": [_("This person does not work for the unit that holds the case.")]},
        )
    if case.assignee_id == (assignee.pk if assignee else None):
        return case
    before = {"assignee": case.assignee.get_username() if case.assignee else None}
    case.assignee = assignee
    case.save(update_fields=["assignee", "updated_at"])
    case_event_record(
        case=case,
        kind=EventKind.ASSIGNED,
        actor=actor,
        data={
            "before": before,
            "after": {"assignee": assignee.get_username() if assignee else None},
        },
    )
    return case


CLASSIFY_FIELDS = ("category_id", "complexity_level", "case_type", "priority", "triage")


@transaction.atomic
def case_classify(
    *,
    actor: Actor,
    case_id: int,
    category: Category | None = None,
    complexity_level: int | None = None,
    case_type: str | None = None,
    priority: str | None = None,
) -> Case:
    """Set what the case is about. Only the unit holding an active case may reclassify it."""
    case = case_lock(case_id=case_id, actor=actor)
    ensure_may_work_on(actor, case)
    if actor.is_staff and not permissions.owns_case(actor.user, case):  # type: ignore[arg-type]
        raise PermissionDeniedError(
            _("Only the unit that holds case %(ref)s can classify it.") % {"ref": case.reference}
        )
    if not case.is_active:
        raise ApplicationError(_("A finished case cannot be reclassified."), code="case_not_active")
    _category_valid_today(category)
    before = snapshot(case, CLASSIFY_FIELDS)
    if category is not None:
        case.category = category
        case.complexity_level = complexity_level or category.default_level
        case.case_type = case_type or category.case_type
    if complexity_level is not None:
        case.complexity_level = complexity_level
    if case_type:
        case.case_type = case_type
    if priority:
        case.priority = priority
    if case.triage and case.category_id is not None:
        case.triage = False  # classified: out of triage, into the contact center's queue
    after = snapshot(case, CLASSIFY_FIELDS)
    diff = changed(before, after)
    if diff["after"]:
        case.save(
            update_fields=[
                "category",
                "complexity_level",
                "case_type",
                "priority",
                "triage",
                "updated_at",
            ]
        )
        case_event_record(case=case, kind=EventKind.CLASSIFIED, actor=actor, data=diff)
    return case


def case_record_view(*, actor: Actor, case: Case) -> None:
    """Log that a member of staff opened a case of a sensitive category (records duty).

    Written in its own small transaction; ordinary cases are not logged (it would drown the
    audit trail and cost a write per page view).
    """
    if case.category is None or not case.category.sensitive or not actor.is_staff:
        return
    case_event_record(case=case, kind=EventKind.VIEWED, actor=actor)


@transaction.atomic
def case_take(*, actor: Actor, case_id: int) -> Case:
    """Take a case from a queue (one key press in the workspace): the actor becomes assignee.

    A ``new`` case at the contact center is opened first; a ``forwarded`` case is accepted by
    the department (which makes the actor assignee). Taking a case one already has changes
    nothing; a case someone else has is taken over, and the event says from whom.
    """
    from cases.services.transitions import case_accept, case_open

    case = case_lock(case_id=case_id, actor=actor)
    ensure_may_work_on(actor, case)
    if case.state == CaseState.NEW and case.department.is_contact_center:
        case_open(actor=actor, case_id=case_id)
    elif case.state == CaseState.FORWARDED and not case.department.is_contact_center:
        return case_accept(actor=actor, case_id=case_id)
    return case_assign(actor=actor, case_id=case_id, assignee=actor.user)
