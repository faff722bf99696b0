"""Reads. Every case query starts from ``Case.objects.visible_to(user)``."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import User
from cases import identity, permissions
from cases.models import (
    Case,
    CaseEvent,
    Contact,
    EventKind,
    Notification,
    Resident,
    ResidentEmail,
    ResidentPhone,
)
from common.exceptions import ApplicationError, NotFoundError


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
