"""Reads. Every case query starts from ``Case.objects.visible_to(user)``."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Case as DbCase
from django.db.models import Count, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce, Least
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Role, User
from cases import identity, permissions
from cases.choices import Channel, Direction
from cases.models import (
    Case,
    CaseEvent,
    CaseState,
    Contact,
    EventKind,
    Notification,
    Resident,
    ResidentEmail,
    ResidentPhone,
)
from common.exceptions import ApplicationError, NotFoundError, PermissionDeniedError


def case_list(*, user: User, filters: dict[str, Any] | None = None) -> QuerySet[Case]:
    """Cases the user may see, newest first, with what a list row shows joined in."""
    qs = Case.objects.visible_to(user).select_related(
        "category", "department", "resident", "assignee"
    )
    f = filters or {}
    if f.get("state"):
        qs = qs.filter(
            state__in=f["state"] if isinstance(f["state"], list | tuple) else [f["state"]]
        )
    if f.get("department"):
        qs = qs.filter(department__code=f["department"])
    if f.get("category"):
        qs = qs.filter(category__code=f["category"])
    if f.get("channel"):
        qs = qs.filter(origin_channel=f["channel"])
    if f.get("assignee"):
        qs = qs.filter(assignee__username=f["assignee"])
    if f.get("resident"):
        qs = qs.filter(resident_id=f["resident"])
    if f.get("created_from"):
        qs = qs.filter(created_at__gte=f["created_from"])
    if f.get("created_to"):
        qs = qs.filter(created_at__lt=f["created_to"])
    if f.get("q"):
        term = f["q"].strip()
        qs = qs.filter(Q(reference__iexact=term) | Q(subject__icontains=term))
    return qs


def case_get(*, user: User, reference: str) -> Case:
    """One case by reference, or NotFoundError when it does not exist or the user may not see it."""
    case = (
        Case.objects.visible_to(user)
        .select_related("category", "department", "resident", "assignee", "merged_into")
        .filter(reference=reference)
        .first()
    )
    if case is None:
        raise NotFoundError(_("No such case."))
    return case


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime.datetime
    event: CaseEvent
    contact: Contact | None


def case_timeline(*, case: Case) -> list[TimelineEntry]:
    """Every event of the case, oldest first, each contact event with its contact. Two queries,
    however long the timeline."""
    # "viewed" rows (access to sensitive cases) belong to the audit trail, not the work timeline.
    events = list(
        CaseEvent.objects.filter(case=case)
        .exclude(kind=EventKind.VIEWED)
        .select_related("actor")
        .order_by("created_at", "id")
    )
    contact_ids = [e.data.get("contact_id") for e in events if e.kind == "contact_added"]
    # Only contacts the case still holds: after a merge, the duplicate's events stay with it
    # but its contacts live on the surviving case (which got its own contact_added events).
    contacts = (
        {
            c.pk: c
            for c in Contact.objects.filter(
                case=case, pk__in=[i for i in contact_ids if i]
            ).select_related("agent")
        }
        if contact_ids
        else {}
    )
    return [
        TimelineEntry(at=e.created_at, event=e, contact=contacts.get(e.data.get("contact_id")))
        for e in events
    ]


def resident_visible_queryset(*, user: User) -> QuerySet[Resident]:
    """Contact-center staff find any resident; department staff only residents of their cases."""
    qs = Resident.objects.all()
    rule = permissions.case_visibility_filter(user)
    if rule is None:
        return qs
    return qs.filter(pk__in=Case.objects.filter(rule).exclude(resident=None).values("resident_id"))


def resident_find(
    *,
    user: User,
    phone: str = "",
    email: str = "",
    personal_id: str = "",
    country: str = "",
) -> QuerySet[Resident]:
    """Residents matching any spelling of a phone number, e-mail or identity number."""
    errors: dict[str, list[str]] = {}
    c = country or settings.MUNICIPALITY_COUNTRY
    number = (
        identity.collect_errors(errors, "phone", lambda: identity.normalize_phone(phone))
        if phone
        else None
    )
    address = (
        identity.collect_errors(errors, "email", lambda: identity.normalize_email(email))
        if email
        else None
    )
    pid = (
        identity.collect_errors(
            errors, "personal_id", lambda: identity.normalize_personal_id(personal_id, country=c)
        )
        if personal_id
        else None
    )
    conditions = Q()
    if number:
        conditions |= Q(pk__in=ResidentPhone.objects.filter(number=number).values("resident_id"))
    if address:
        conditions |= Q(pk__in=ResidentEmail.objects.filter(address=address).values("resident_id"))
    if pid:
        conditions |= Q(personal_id=pid, personal_id_country=c)
    if errors:
        raise ApplicationError(_("The search contains invalid data."), fields=errors)
    if not conditions:
        raise ApplicationError(
            _("Search by phone number, e-mail or personal identity number."),
            fields={"non_field_errors": [_("Give at least one of phone, email or personal_id.")]},
        )
    return (
        resident_visible_queryset(user=user)
        .filter(conditions)
        .prefetch_related(
            Prefetch("emails", queryset=ResidentEmail.objects.order_by("id")), "phones"
        )
        .order_by("id")
    )


def notifications_for(
    *, user: User, unread_only: bool = False, limit: int = 100
) -> list[Notification]:
    """The user's own notifications, newest first, with their cases (one query)."""
    qs = Notification.objects.filter(recipient=user).select_related("case")
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return list(qs.order_by("-created_at", "-id")[:limit])


def notifications_unread_count(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


# --- Work queues (the agent workspace and the department desk) --------------------------------


class Queue:
    """The queues of the workspace. Contact-center staff work ``mine``, ``contact_center``,
    ``triage``, ``waiting`` and ``deadline``; department staff their ``department`` desk,
    ``mine``, ``waiting`` and ``deadline``."""

    MINE = "mine"
    CONTACT_CENTER = "contact_center"
    TRIAGE = "triage"
    DEPARTMENT = "department"
    WAITING = "waiting"
    DEADLINE = "deadline"

    LABELS = {
        MINE: gettext_lazy("My cases"),
        CONTACT_CENTER: gettext_lazy("Contact center"),
        TRIAGE: gettext_lazy("Triage"),
        DEPARTMENT: gettext_lazy("Department"),
        WAITING: gettext_lazy("Waiting for resident"),
        DEADLINE: gettext_lazy("Close to or past deadline"),
    }


WORK_STATES = (CaseState.NEW, CaseState.OPEN, CaseState.FORWARDED, CaseState.ACCEPTED)


def queues_for(user: User) -> list[str]:
    """The queues this user works, in tab order."""
    if permissions.is_contact_center_staff(user):
        return [Queue.MINE, Queue.CONTACT_CENTER, Queue.TRIAGE, Queue.WAITING, Queue.DEADLINE]
    if user.department_id is not None and user.role in (Role.HANDLER, Role.SUPERVISOR):
        return [Queue.DEPARTMENT, Queue.MINE, Queue.WAITING, Queue.DEADLINE]
    return []


def _at_risk_before(now: datetime.datetime) -> datetime.datetime:
    return now + datetime.timedelta(hours=settings.QUEUE_AT_RISK_HOURS)


def queue_filter(*, user: User, name: str, now: datetime.datetime) -> Q:
    """The condition of queue ``name`` (on top of what the user may see)."""
    cc = user.in_contact_center or user.is_administrator
    if name == Queue.MINE:
        return Q(assignee_id=user.pk, state__in=(*WORK_STATES, CaseState.WAITING))
    if name == Queue.CONTACT_CENTER:
        return Q(
            department__is_contact_center=True,
            state__in=(CaseState.NEW, CaseState.OPEN),
            triage=False,
        )
    if name == Queue.TRIAGE:
        return Q(department__is_contact_center=True, state=CaseState.OPEN, triage=True)
    if name == Queue.DEPARTMENT:
        return Q(state__in=(CaseState.FORWARDED, CaseState.ACCEPTED))
    if name == Queue.WAITING:
        own = Q(department__is_contact_center=True) if cc else Q()
        return own & Q(state=CaseState.WAITING)
    if name == Queue.DEADLINE:
        soon = _at_risk_before(now)
        due = (
            Q(state=CaseState.FORWARDED, accept_due_at__lte=soon)
            | Q(state__in=WORK_STATES, resolve_due_at__lte=soon)
            | Q(state__in=(CaseState.NEW, CaseState.OPEN), respond_due_at__lte=soon)
        )
        return due
    raise NotFoundError(_("No such queue."))


def queue_counts(*, user: User, now: datetime.datetime) -> dict[str, int]:
    """The number of cases in each of the user's queues: one aggregate query."""
    names = queues_for(user)
    if not names:
        return {}
    base = Case.objects.visible_to(user).filter(state__in=(*WORK_STATES, CaseState.WAITING))
    return base.aggregate(
        **{name: Count("pk", filter=queue_filter(user=user, name=name, now=now)) for name in names}
    )


QUEUE_FILTERS = ("channel", "category", "department", "language")


def queue_cases(
    *, user: User, name: str, now: datetime.datetime, filters: dict[str, str] | None = None
) -> QuerySet[Case]:
    """The cases of queue ``name``, in working order: the deadline queue by the earliest
    deadline, the others by priority and then oldest first (first in, first served)."""
    if name not in queues_for(user):
        raise NotFoundError(_("No such queue."))
    qs = (
        Case.objects.visible_to(user)
        .filter(queue_filter(user=user, name=name, now=now))
        .select_related("category", "department", "resident", "assignee")
    )
    f = filters or {}
    if f.get("channel"):
        qs = qs.filter(origin_channel=f["channel"])
    if f.get("category"):
        qs = qs.filter(category__code=f["category"])
    if f.get("department"):
        qs = qs.filter(department__code=f["department"])
    if f.get("language"):
        qs = qs.filter(language=f["language"])
    if name == Queue.DEADLINE:
        first_due = Least(
            Coalesce("accept_due_at", "resolve_due_at", "respond_due_at"),
            Coalesce("resolve_due_at", "accept_due_at", "respond_due_at"),
            Coalesce("respond_due_at", "resolve_due_at", "accept_due_at"),
        )
        return qs.annotate(first_due=first_due).order_by("first_due", "pk")
    urgency = priority_rank()
    return qs.annotate(urgency=urgency).order_by("urgency", "created_at", "pk")


def priority_rank() -> Any:
    """urgent, high, normal, low as 0..3 for ORDER BY."""
    return DbCase(
        When(priority="urgent", then=Value(0)),
        When(priority="high", then=Value(1)),
        When(priority="normal", then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )


def queue_filter_categories() -> list[tuple[str, str]]:
    """(code, name) of the categories valid today, for the queue filter."""
    from django.utils import timezone

    from cases.models import Category

    rows = Category.objects.valid_on(timezone.localdate()).order_by("code")
    return [(c.code, c.name) for c in rows]


# --- The supervisor's view of the day ----------------------------------------------------------


@dataclass(frozen=True)
class SupervisorOverview:
    by_channel: list[dict[str, Any]]  # channel, one count per queue, total
    overdue: int
    at_risk: int
    load: list[dict[str, Any]]  # username, name, active, overdue
    fcr_today: list[dict[str, Any]]  # channel, inbound, resolved, rate (0-100 or None)
    fcr_today_total: dict[str, Any]
    oldest_waiting: Case | None


def supervisor_overview(*, user: User, now: datetime.datetime) -> SupervisorOverview:
    """What a supervisor watches during the day, for the cases they may see (the contact
    center's supervisor: all; a department's: their units). Six queries."""
    from django.utils import timezone

    if user.role != Role.SUPERVISOR and not user.is_administrator:
        raise PermissionDeniedError(_("Only supervisors see the overview."))
    names = queues_for(user)
    active = Case.objects.visible_to(user).filter(state__in=(*WORK_STATES, CaseState.WAITING))
    rows = (
        active.values("origin_channel")
        .annotate(
            total=Count("pk"),
            **{
                name: Count("pk", filter=queue_filter(user=user, name=name, now=now))
                for name in names
                if name != Queue.MINE
            },
        )
        .order_by("origin_channel")
    )
    labels = dict(Channel.choices)
    by_channel = [{**row, "label": labels.get(row["origin_channel"], "")} for row in rows]
    due = Coalesce("accept_due_at", "resolve_due_at")
    risk = (
        active.exclude(state=CaseState.WAITING)
        .annotate(due=due)
        .aggregate(
            overdue=Count("pk", filter=Q(due__lt=now)),
            at_risk=Count("pk", filter=Q(due__gte=now, due__lte=_at_risk_before(now))),
        )
    )
    load_rows = (
        active.filter(assignee__isnull=False)
        .values("assignee__username", "assignee__first_name", "assignee__last_name")
        .annotate(
            active=Count("pk"),
            overdue=Count("pk", filter=Q(resolve_due_at__lt=now) & ~Q(state=CaseState.WAITING)),
        )
        .order_by("-active", "assignee__username")
    )
    load = [
        {
            "username": r["assignee__username"],
            "name": f"{r['assignee__first_name']} {r['assignee__last_name']}".strip(),
            "active": r["active"],
            "overdue": r["overdue"],
        }
        for r in load_rows
    ]
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    contacts = Contact.objects.filter(
        direction=Direction.INBOUND, occurred_at__gte=start, occurred_at__lte=now
    )
    rule = permissions.case_visibility_filter(user)
    if rule is not None:
        contacts = contacts.filter(case__in=Case.objects.filter(rule))
    fcr_rows = (
        contacts.values("channel")
        .annotate(
            inbound=Count("pk"), resolved=Count("pk", filter=Q(resolved_at_first_contact=True))
        )
        .order_by("channel")
    )
    fcr = [
        {
            "channel": r["channel"],
            "label": labels.get(r["channel"], ""),
            "inbound": r["inbound"],
            "resolved": r["resolved"],
            "rate": round(100 * r["resolved"] / r["inbound"]) if r["inbound"] else None,
        }
        for r in fcr_rows
    ]
    inbound = sum(r["inbound"] for r in fcr)
    resolved = sum(r["resolved"] for r in fcr)
    waiting_states = (
        (CaseState.NEW, CaseState.OPEN)
        if permissions.is_contact_center_staff(user)
        else (CaseState.FORWARDED,)
    )
    oldest = (
        active.filter(state__in=waiting_states, assignee__isnull=True)
        .select_related("category", "department")
        .order_by("created_at", "pk")
        .first()
    )
    return SupervisorOverview(
        by_channel=by_channel,
        overdue=risk["overdue"],
        at_risk=risk["at_risk"],
        load=load,
        fcr_today=fcr,
        fcr_today_total={
            "inbound": inbound,
            "resolved": resolved,
            "rate": round(100 * resolved / inbound) if inbound else None,
        },
        oldest_waiting=oldest,
    )


# --- The case view's side panels ----------------------------------------------------------------


@dataclass(frozen=True)
class ResidentPanel:
    resident: Resident
    emails: list[str]
    phones: list[str]
    digitally_exempt: bool
    representatives: list[Resident]
    other_cases: list[Case]


def resident_panel(*, user: User, case: Case, limit: int = 10) -> ResidentPanel | None:
    """Who the resident is and everything else they have contacted us about that the user
    may see (newest first). Four queries, whatever the resident's history."""
    from django.utils import timezone

    from cases.models import PowerOfAttorney

    resident = case.resident
    if resident is None:
        return None
    today = timezone.localdate()
    representatives = [
        poa.representative
        for poa in PowerOfAttorney.objects.filter(resident=resident, valid_from__lte=today)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .select_related("representative")
        .order_by("pk")
    ]
    others = list(
        Case.objects.visible_to(user)
        .filter(resident=resident)
        .exclude(pk=case.pk)
        .select_related("category")
        .order_by("-created_at", "-pk")[:limit]
    )
    return ResidentPanel(
        resident=resident,
        emails=list(resident.emails.order_by("pk").values_list("address", flat=True)),
        phones=list(resident.phones.order_by("pk").values_list("number", flat=True)),
        digitally_exempt=resident.is_digitally_exempt(today),
        representatives=representatives,
        other_cases=others,
    )


#: How far back a case of the same category counts as a possible duplicate.
DUPLICATE_DAYS = 3


def duplicate_suggestions(*, user: User, case: Case, limit: int = 5) -> list[Case]:
    """Active cases that are probably the same matter: the same resident's, or the same
    category's at the same place (``location_key``) from the last few days. One query."""
    if not case.is_active:
        return []
    match = Q(pk__in=[])
    if case.resident_id is not None:
        match |= Q(resident_id=case.resident_id)
    if case.category_id is not None and case.location_key:
        since = case.created_at - datetime.timedelta(days=DUPLICATE_DAYS)
        match |= Q(
            category_id=case.category_id, location_key=case.location_key, created_at__gte=since
        )
    if case.resident_id is None and not case.location_key:
        return []
    return list(
        Case.objects.visible_to(user)
        .filter(match, state__in=(*WORK_STATES, CaseState.WAITING))
        .exclude(pk=case.pk)
        .order_by("-created_at", "-pk")[:limit]
    )


def canned_responses_for(*, case: Case) -> list[Any]:
    """Ready answers for the case: its category's and the general ones, in its language."""
    from cases.models import CannedResponse

    return list(
        CannedResponse.objects.filter(active=True, language=case.language)
        .filter(Q(category__isnull=True) | Q(category_id=case.category_id))
        .order_by("category_id", "title")
    )
