"""One service per case transition: lock, check, transition, save, one CaseEvent, on-commit.

Every interface calls these: API, pages, admin actions, tasks. Each function:
1. locks the case row (``case_lock``; not visible -> NotFoundError, 404),
2. checks the actor may do this (PermissionDeniedError, 403),
3. checks the transition is allowed from the current state (ConflictError, 409) and that the
   state is still what the caller saw (``expected_state``; ConflictError, 409),
4. applies the pure transition method on the model and saves (``ConcurrentTransitionMixin``
   refuses the UPDATE if the state changed under us: 409),
5. writes one ``CaseEvent`` (who, when, from, to, why, before/after),
6. registers side effects with ``common.transactions`` so they happen only after commit.
"""

from __future__ import annotations

import datetime
import inspect
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import ConcurrentTransition, can_proceed

from cases import permissions
from cases.choices import Direction
from cases.models import Case, CaseEvent, Contact, Department, EventKind
from cases.services.actors import Actor
from cases.services.common import case_lock, contact_center
from cases.services.deadlines import (
    DeadlineLookup,
    agreement_for,
    deadlines_for,
    shift_after_pause,
)
from cases.services.events import case_event_record, changed, snapshot
from cases.services.hooks import run_transition_hooks
from common.exceptions import ApplicationError, ConflictError, PermissionDeniedError
from common.transactions import grouped_enqueue_on_commit

# The fields an event records before and after any transition.
TRACKED = (
    "state",
    "department_id",
    "assignee_id",
    "agreement_id",
    "triage",
    "accept_due_at",
    "resolve_due_at",
    "paused_at",
    "resolved_at_first_contact",
    "merged_into_id",
)


def _authorize(actor: Actor, case: Case, name: str) -> None:
    """403 unless the actor may apply transition ``name`` to ``case`` (visibility came first)."""
    if actor.is_staff:
        permissions.ensure_may_transition(actor.user, case, name)  # type: ignore[arg-type]
    elif actor.type == "resident" and name not in ("withdraw", "resume"):
        raise PermissionDeniedError(_("Residents cannot do this."))


def _ensure_allowed(case: Case, name: str, expected_state: str | None) -> None:
    """409 if the state moved on since the caller looked, or the transition is not possible now."""
    if expected_state and case.state != expected_state:
        raise ConflictError(
            _("Case %(ref)s is now “%(state)s”; someone else changed it. Reload it and try again.")
            % {"ref": case.reference, "state": case.get_state_display()},
            code="state_changed",
            extra={"state": case.state},
        )
    if not can_proceed(getattr(case, name)):
        raise ConflictError(
            _("Case %(ref)s is “%(state)s”, so it cannot be %(action)s.")
            % {
                "ref": case.reference,
                "state": case.get_state_display(),
                "action": TRANSITION_LABELS[name],
            },
            code="transition_not_allowed",
            extra={"state": case.state},
        )


def _run(
    *,
    actor: Actor,
    case_id: int,
    name: str,
    apply: Callable[[Case], Any],
    reason: str = "",
    expected_state: str | None = None,
    check: Callable[[Case], None] | None = None,
    extra: dict[str, Any] | None = None,
    case: Case | None = None,
    also_update: tuple[str, ...] = (),
) -> Case:
    """The shared body of every transition service. Must run inside ``transaction.atomic``.

    ``also_update`` names fields the caller changed on ``case`` before calling (they are saved
    with the transition's own changes)."""
    case = case or case_lock(case_id=case_id, actor=actor)
    _authorize(actor, case, name)
    _ensure_allowed(case, name, expected_state)
    if check is not None:
        check(case)
    before = snapshot(case, TRACKED)
    columns = _columns(case)
    from_state = case.state
    apply(case)
    # Only the columns that changed (and what the caller changed before: routing's category):
    # a full-row UPDATE of a case costs twice as much at routing rates.
    now_columns = _columns(case)
    update = [name for name, value in now_columns.items() if columns[name] != value]
    try:
        case.save(update_fields=[*update, *also_update, "updated_at"])
    except ConcurrentTransition:
        # Second line of defence after the row lock (see ConcurrentTransitionMixin on Case).
        raise ConflictError(
            _("Someone else changed case %(ref)s at the same time. Reload it and try again.")
            % {"ref": case.reference},
            code="concurrent_change",
        ) from None
    diff = changed(before, snapshot(case, TRACKED))
    event = case_event_record(
        case=case,
        kind=EventKind.TRANSITION,
        actor=actor,
        transition=name,
        from_state=from_state,
        to_state=case.state,
        reason=reason,
        data={**diff, **(extra or {})},
    )
    run_transition_hooks(case=case, event=event, actor=actor)
    return case


def _columns(case: Case) -> dict[str, Any]:
    return {
        f.name: getattr(case, f.attname) for f in Case._meta.concrete_fields if not f.primary_key
    }


# Past participles for the conflict message ("... so it cannot be forwarded").
TRANSITION_LABELS = {
    "open": gettext_lazy("opened"),
    "resolve_at_first_contact": gettext_lazy("resolved at first contact"),
    "forward": gettext_lazy("forwarded"),
    "accept": gettext_lazy("accepted"),
    "return_to_contact_center": gettext_lazy("returned to the contact center"),
    "wait_for_resident": gettext_lazy("put on hold for the resident"),
    "resume": gettext_lazy("resumed"),
    "resolve": gettext_lazy("resolved"),
    "close": gettext_lazy("closed"),
    "reopen": gettext_lazy("reopened"),
    "merge": gettext_lazy("merged"),
    "withdraw": gettext_lazy("withdrawn"),
    "mark_spam": gettext_lazy("marked as spam"),
}


def _require_reason(reason: str, message: str) -> str:
    if not reason.strip():
        raise ApplicationError(message, fields={"reason": [_("This field is required.")]})
    return reason.strip()


@transaction.atomic
def case_open(*, actor: Actor, case_id: int, expected_state: str | None = None) -> Case:
    """A contact-center agent takes a new case into handling."""
    return _run(
        actor=actor,
        case_id=case_id,
        name="open",
        expected_state=expected_state,
        apply=lambda c: c.open(),
    )


@transaction.atomic
def case_resolve_at_first_contact(
    *, actor: Actor, case_id: int, reason: str = "", expected_state: str | None = None
) -> Case:
    """The agent answered the resident in the contact that opened the case.

    Allowed only while the case has a single inbound contact (otherwise it was not the first
    contact) and, where a service agreement covers the category, only for the complexity levels
    the agreement leaves to the contact center. The inbound contact is marked as resolved at
    first contact too: the report counts contacts.
    """
    now = timezone.now()

    def check(case: Case) -> None:
        if (
            case.forwarded_at is not None
            or CaseEvent.objects.filter(case=case, transition="reopen").exists()
        ):
            raise ApplicationError(
                _(
                    "Case %(ref)s has been forwarded or reopened, so it was not resolved at the first contact; resolve it instead."
                )
                % {"ref": case.reference},
                code="not_first_contact",
            )
        inbound = Contact.objects.filter(case=case, direction=Direction.INBOUND).count()
        if inbound > 1:
            raise ApplicationError(
                _("Case %(ref)s already has %(n)d contacts from the resident; resolve it instead.")
                % {"ref": case.reference, "n": inbound},
                code="not_first_contact",
            )
        level = case.complexity_level
        owner = case.category.department if case.category is not None else None
        agreement = (
            agreement_for(category=case.category, department=owner, on=timezone.localdate(now))
            if owner is not None
            else None
        )
        if agreement is not None:
            allowed = agreement.contact_center_may_resolve(level)
        else:
            # No agreement says otherwise: the contact center resolves levels 1-3, never 4.
            allowed = level is None or level < 4
        if not allowed:
            raise ApplicationError(
                _(
                    "The contact center may not resolve level %(level)s cases of this category (%(dept)s). Forward the case instead."
                )
                % {"dept": owner or _("no department"), "level": level},
                code="level_not_allowed",
            )

    case = _run(
        actor=actor,
        case_id=case_id,
        name="resolve_at_first_contact",
        reason=reason,
        expected_state=expected_state,
        check=check,
        apply=lambda c: c.resolve_at_first_contact(now=now),
    )
    Contact.objects.filter(case=case, direction=Direction.INBOUND).update(
        resolved_at_first_contact=True
    )
    return case


@transaction.atomic
def case_forward(
    *,
    actor: Actor,
    case_id: int,
    department: Department | None = None,
    reason: str = "",
    expected_state: str | None = None,
) -> Case:
    """Hand the case to a department under its service agreement; deadlines start now.

    The target is the given department or, by default, the category's owner. The accept and
    resolve deadlines come from the agreement covering the category, in business hours of the
    department's calendar; without an agreement the case has no deadline (and the event says so).
    """
    case = case_lock(case_id=case_id, actor=actor)
    return forward_locked(
        actor=actor, case=case, department=department, reason=reason, expected_state=expected_state
    )


def forward_locked(
    *,
    actor: Actor,
    case: Case,
    department: Department | None = None,
    reason: str = "",
    expected_state: str | None = None,
    lookup: DeadlineLookup | None = None,
    extra: dict[str, Any] | None = None,
    also_update: tuple[str, ...] = (),
) -> Case:
    """``case_forward`` on a case the caller has locked, inside the caller's transaction.

    Routing forwards a batch of cases this way, with a ``lookup`` that reads each agreement and
    calendar once per batch instead of once per case.
    """
    lookup = lookup or DeadlineLookup.current()
    now = timezone.now()
    _authorize(actor, case, "forward")
    _ensure_allowed(case, "forward", expected_state)
    target = department or (case.category.department if case.category else None)
    if target is None:
        raise ApplicationError(
            _("Choose a department, or classify the case first so that it has an owner."),
            fields={"department": [_("This field is required when the case has no category.")]},
        )
    if target.is_contact_center:
        raise ApplicationError(
            _("The case is already at the contact center."),
            fields={"department": [_("Choose a department.")]},
        )
    if not target.active:
        raise ApplicationError(
            _("%(dept)s no longer takes cases.") % {"dept": target},
            fields={"department": [_("Inactive department.")]},
        )
    agreement = lookup.agreement(case.category, target, timezone.localdate(now))
    accept_due, resolve_due = deadlines_for(
        agreement=agreement, department=target, start=now, spec=lookup.calendar(target)
    )
    case = _run(
        actor=actor,
        case=case,
        case_id=case.pk,
        name="forward",
        reason=reason,
        expected_state=expected_state,
        apply=lambda c: c.forward(
            department=target,
            now=now,
            agreement=agreement,
            accept_due_at=accept_due,
            resolve_due_at=resolve_due,
        ),
        extra={"agreement_id": agreement.pk if agreement else None, **(extra or {})},
        also_update=also_update,
    )
    from cases.tasks import (
        notify_department_of_forward_batch_task,
        notify_department_of_forward_task,
    )

    # Not coalesced: no sweep would send a notification lost with a process's buffer.
    grouped_enqueue_on_commit(
        notify_department_of_forward_task,
        notify_department_of_forward_batch_task,
        case.pk,
        coalesce=False,
    )
    return case


@transaction.atomic
def case_accept(*, actor: Actor, case_id: int, expected_state: str | None = None) -> Case:
    """The department takes responsibility for a forwarded case (and, by default, the actor is assignee)."""
    now = timezone.now()

    def apply(case: Case) -> None:
        case.accept(now=now)
        if actor.is_staff and case.assignee_id is None:
            case.assignee = actor.user

    return _run(
        actor=actor, case_id=case_id, name="accept", expected_state=expected_state, apply=apply
    )


@transaction.atomic
def case_return_to_contact_center(
    *, actor: Actor, case_id: int, reason: str, expected_state: str | None = None
) -> Case:
    """A department sends a misrouted case back to the contact center's triage, with a reason.

    Never to nobody: the contact center becomes the owner again and the case is open there.
    """
    reason = _require_reason(
        reason, _("Say why the case is returned, so the contact center can route it right.")
    )
    cc = contact_center()
    return _run(
        actor=actor,
        case_id=case_id,
        name="return_to_contact_center",
        reason=reason,
        expected_state=expected_state,
        apply=lambda c: c.return_to_contact_center(contact_center=cc),
    )


@transaction.atomic
def case_wait_for_resident(
    *, actor: Actor, case_id: int, reason: str = "", expected_state: str | None = None
) -> Case:
    """Ask the resident for something; the deadlines stand still until they answer."""
    now = timezone.now()
    return _run(
        actor=actor,
        case_id=case_id,
        name="wait_for_resident",
        reason=reason,
        expected_state=expected_state,
        apply=lambda c: c.wait_for_resident(now=now),
    )


@transaction.atomic
def case_resume(
    *, actor: Actor, case_id: int, reason: str = "", expected_state: str | None = None
) -> Case:
    """The resident answered (or the wait is over): back to where the case was, deadlines moved on
    by the business time the clock stood still."""
    now = timezone.now()
    case = case_lock(case_id=case_id, actor=actor)
    _authorize(actor, case, "resume")
    _ensure_allowed(case, "resume", expected_state)
    paused_at = case.paused_at or now
    accept_due = shift_after_pause(
        due=case.accept_due_at, paused_at=paused_at, resumed_at=now, department=case.department
    )
    resolve_due = shift_after_pause(
        due=case.resolve_due_at, paused_at=paused_at, resumed_at=now, department=case.department
    )
    return _run(
        actor=actor,
        case=case,
        case_id=case_id,
        name="resume",
        reason=reason,
        expected_state=expected_state,
        apply=lambda c: c.resume(accept_due_at=accept_due, resolve_due_at=resolve_due),
        extra={"paused_seconds": int((now - paused_at).total_seconds())},
    )


@transaction.atomic
def case_resolve(
    *, actor: Actor, case_id: int, reason: str = "", expected_state: str | None = None
) -> Case:
    """The unit holding the case has done what was asked. The contact center follows up and closes."""
    now = timezone.now()
    return _run(
        actor=actor,
        case_id=case_id,
        name="resolve",
        reason=reason,
        expected_state=expected_state,
        apply=lambda c: c.resolve(now=now),
    )


@transaction.atomic
def case_close(
    *,
    actor: Actor,
    case_id: int,
    reason: str = "",
    expected_state: str | None = None,
    resolved_before: datetime.datetime | None = None,
) -> Case:
    """Close a resolved case after feedback to the resident (or automatically after a quiet period).

    ``resolved_before`` (the auto-close sweep) is checked under the row lock: a case reopened
    and resolved again since the sweep looked is not closed.
    """
    now = timezone.now()

    def check(case: Case) -> None:
        if resolved_before is not None and (
            case.resolved_at is None or case.resolved_at >= resolved_before
        ):
            raise ConflictError(
                _("Case %(ref)s was resolved again recently.") % {"ref": case.reference},
                code="recently_resolved",
            )

    return _run(
        actor=actor,
        case_id=case_id,
        name="close",
        reason=reason,
        expected_state=expected_state,
        check=check,
        apply=lambda c: c.close(now=now),
    )


@transaction.atomic
def case_reopen(
    *, actor: Actor, case_id: int, reason: str, expected_state: str | None = None
) -> Case:
    """The resident says it is not done: the case is open at the contact center again."""
    reason = _require_reason(reason, _("Say why the case is reopened."))
    cc = contact_center()
    case = _run(
        actor=actor,
        case_id=case_id,
        name="reopen",
        reason=reason,
        expected_state=expected_state,
        apply=lambda c: c.reopen(contact_center=cc),
    )
    # It was not resolved after all: the report must not count its first contact as resolved.
    Contact.objects.filter(case=case, resolved_at_first_contact=True).update(
        resolved_at_first_contact=False
    )
    return case


@transaction.atomic
def case_merge(
    *,
    actor: Actor,
    case_id: int,
    into_case_id: int,
    reason: str = "",
    expected_state: str | None = None,
) -> Case:
    """Merge a duplicate into another case: its contacts move to the surviving case.

    Both rows are locked in primary-key order so that two merges of the same pair in opposite
    directions cannot deadlock; one of them then finds its case already merged (409).
    """
    if case_id == into_case_id:
        raise ApplicationError(
            _("A case cannot be merged into itself."), fields={"into": [_("Choose another case.")]}
        )
    first, second = sorted((case_id, into_case_id))
    locked = {
        first: case_lock(case_id=first, actor=actor),
        second: case_lock(case_id=second, actor=actor),
    }
    case, target = locked[case_id], locked[into_case_id]
    _authorize(actor, case, "merge")
    if not target.is_active:
        raise ConflictError(
            _("Case %(ref)s is “%(state)s”; merge into an active case.")
            % {"ref": target.reference, "state": target.get_state_display()},
            code="target_not_active",
        )
    if case.resident_id and target.resident_id and case.resident_id != target.resident_id:
        # A duplicate is the same matter from the same person. Merging two residents' cases
        # would show one resident's contacts to whoever handles the other's case.
        raise ApplicationError(
            _("Cases %(a)s and %(b)s belong to different residents and cannot be merged.")
            % {"a": case.reference, "b": target.reference},
            fields={"into": [_("Choose a case of the same resident.")]},
            code="different_residents",
        )
    now = timezone.now()
    moved_rows = list(Contact.objects.filter(case=case).values_list("pk", "channel", "direction"))
    moved = [pk for pk, _channel, _direction in moved_rows]
    case = _run(
        actor=actor,
        case=case,
        case_id=case_id,
        name="merge",
        reason=reason,
        expected_state=expected_state,
        apply=lambda c: c.merge(into=target, now=now),
        extra={"into": target.reference, "moved_contact_ids": moved},
    )
    Contact.objects.filter(pk__in=moved).update(case=target)
    if target.resident_id is None and case.resident_id is not None:
        Case.objects.filter(pk=target.pk).update(resident_id=case.resident_id)
    case_event_record(
        case=target,
        kind=EventKind.MERGED_IN,
        actor=actor,
        reason=reason,
        data={"from": case.reference, "moved_contact_ids": moved},
        at=now,
    )
    # The surviving case's timeline shows every contact it now holds: one entry per moved one.
    CaseEvent.objects.bulk_create(
        CaseEvent(
            case=target,
            kind=EventKind.CONTACT_ADDED,
            actor_type=actor.type,
            actor=actor.user,
            actor_channel=actor.channel,
            data={
                "contact_id": pk,
                "channel": channel,
                "direction": direction,
                "moved_from": case.reference,
            },
            created_at=now,
        )
        for pk, channel, direction in moved_rows
    )
    return case


@transaction.atomic
def case_withdraw(
    *, actor: Actor, case_id: int, reason: str = "", expected_state: str | None = None
) -> Case:
    """The resident no longer wants the case handled."""
    now = timezone.now()
    return _run(
        actor=actor,
        case_id=case_id,
        name="withdraw",
        reason=reason,
        expected_state=expected_state,
        apply=lambda c: c.withdraw(now=now),
    )


@transaction.atomic
def case_mark_spam(
    *, actor: Actor, case_id: int, reason: str = "", expected_state: str | None = None
) -> Case:
    """Junk that reached intake. Kept (records duty), but out of every queue and count of work."""
    now = timezone.now()
    return _run(
        actor=actor,
        case_id=case_id,
        name="mark_spam",
        reason=reason,
        expected_state=expected_state,
        apply=lambda c: c.mark_spam(now=now),
    )


# Imperative labels for buttons and menus.
TRANSITION_ACTIONS = {
    "open": gettext_lazy("Open"),
    "resolve_at_first_contact": gettext_lazy("Resolve at first contact"),
    "forward": gettext_lazy("Forward to department"),
    "accept": gettext_lazy("Accept"),
    "return_to_contact_center": gettext_lazy("Return to the contact center"),
    "wait_for_resident": gettext_lazy("Wait for the resident"),
    "resume": gettext_lazy("Resume"),
    "resolve": gettext_lazy("Resolve"),
    "close": gettext_lazy("Close"),
    "reopen": gettext_lazy("Reopen"),
    "merge": gettext_lazy("Merge into another case"),
    "withdraw": gettext_lazy("Withdraw"),
    "mark_spam": gettext_lazy("Mark as spam"),
}

# Name -> service, for interfaces that dispatch on the transition's name (API, pages, admin).
TRANSITIONS: dict[str, Callable[..., Case]] = {
    "open": case_open,
    "resolve_at_first_contact": case_resolve_at_first_contact,
    "forward": case_forward,
    "accept": case_accept,
    "return_to_contact_center": case_return_to_contact_center,
    "wait_for_resident": case_wait_for_resident,
    "resume": case_resume,
    "resolve": case_resolve,
    "close": case_close,
    "reopen": case_reopen,
    "merge": case_merge,
    "withdraw": case_withdraw,
    "mark_spam": case_mark_spam,
}


def case_transition(name: str, *, actor: Actor, case_id: int, **params: Any) -> Case:
    """Apply transition ``name`` with whichever of ``params`` its service takes (reason,
    expected_state, department, into_case_id): one dispatcher for pages and API alike."""
    service = TRANSITIONS[name]
    accepted = inspect.signature(service).parameters
    return service(
        actor=actor, case_id=case_id, **{k: v for k, v in params.items() if k in accepted}
    )
