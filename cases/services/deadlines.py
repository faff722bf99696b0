"""Deadlines from service agreements, in business time of the owning department's calendar."""

from __future__ import annotations

import contextlib
import contextvars
import datetime
from collections.abc import Iterator
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _

from cases.businesstime import CalendarSpec, add_business_time, business_time_between
from cases.models import Category, Department, EscalationStep, ServiceAgreement
from common.caches import ttl_cached
from common.exceptions import ApplicationError


def calendar_for(department: Department) -> CalendarSpec:
    """The department's calendar, its nearest parent's, or the default office week."""
    unit: Department | None = department
    while unit is not None:
        if unit.calendar_id is not None:
            return CalendarSpec.from_calendar(unit.calendar)
        unit = unit.parent
    return CalendarSpec.default(country=settings.MUNICIPALITY_COUNTRY, tz=settings.TIME_ZONE)


def agreement_for(
    *, category: Category | None, department: Department, on: datetime.date
) -> ServiceAgreement | None:
    """The agreement with ``department`` (or a unit above it) covering ``category`` on ``on``."""
    if category is None:
        return None
    units: list[int] = []
    unit: Department | None = department
    while unit is not None:
        units.append(unit.pk)
        unit = unit.parent
    candidates = list(
        ServiceAgreement.objects.valid_on(on)
        .filter(department_id__in=units, categories=category)
        .order_by("-valid_from", "-id")
    )
    # The agreement of the most specific unit wins over its parent's.
    candidates.sort(key=lambda a: units.index(a.department_id))
    return candidates[0] if candidates else None


_active_lookup: contextvars.ContextVar[DeadlineLookup | None] = contextvars.ContextVar(
    "deadline_lookup", default=None
)


class DeadlineLookup:
    """Agreements and calendars read once per lookup object (a routing batch), not per case.

    A fresh object reads everything anew, so a change in the admin applies to the next batch.
    Inside ``with lookup.active():`` code that has no lookup handed to it (a transition hook
    planning escalations) finds it with ``DeadlineLookup.current()``.
    """

    def __init__(self, *, shared: bool = False) -> None:
        # shared: agreements come from a per-process index kept for AGREEMENT_INDEX_SECONDS
        # (routing, thousands of cases a minute); otherwise each is read when first needed.
        self.shared = shared
        self._agreements: dict[tuple[int, int, datetime.date], ServiceAgreement | None] = {}
        self._calendars: dict[int, CalendarSpec] = {}
        self._steps: dict[int, list[EscalationStep]] = {}

    @staticmethod
    def current() -> DeadlineLookup:
        """The lookup of the batch being processed, or a fresh one outside any batch."""
        return _active_lookup.get() or DeadlineLookup()

    @contextlib.contextmanager
    def active(self) -> Iterator[DeadlineLookup]:
        token = _active_lookup.set(self)
        try:
            yield self
        finally:
            _active_lookup.reset(token)

    def agreement(
        self, category: Category | None, department: Department, on: datetime.date
    ) -> ServiceAgreement | None:
        if category is None:
            return None
        key = (category.pk, department.pk, on)
        if key not in self._agreements:
            if self.shared:
                self._agreements[key] = _agreement_index().find(category.pk, department, on)
            else:
                self._agreements[key] = agreement_for(
                    category=category, department=department, on=on
                )
        return self._agreements[key]

    def steps(self, agreement: ServiceAgreement) -> list[EscalationStep]:
        """The agreement's escalation ladder, in position order."""
        if agreement.pk not in self._steps:
            self._steps[agreement.pk] = list(agreement.escalation_steps.order_by("position"))
        return self._steps[agreement.pk]

    def calendar(self, department: Department) -> CalendarSpec:
        if department.pk not in self._calendars:
            self._calendars[department.pk] = calendar_for(department)
        return self._calendars[department.pk]


#: How long a routing process keeps its index of agreements: a change in the admin reaches
#: routing within this many seconds (agents' forwards read the agreement every time).
AGREEMENT_INDEX_SECONDS = 30


class _AgreementIndex:
    """Every service agreement with its category ids, for lookups without a query."""

    def __init__(self) -> None:
        through = ServiceAgreement.categories.through
        by_agreement: dict[int, set[int]] = {}
        for agreement_id, category_id in through.objects.values_list(
            "serviceagreement_id", "category_id"
        ):
            by_agreement.setdefault(agreement_id, set()).add(category_id)
        self.rows = [
            (agreement, by_agreement.get(agreement.pk, set()))
            for agreement in ServiceAgreement.objects.order_by("-valid_from", "-id")
        ]

    def find(
        self, category_id: int, department: Department, on: datetime.date
    ) -> ServiceAgreement | None:
        """The same answer as ``agreement_for``: the most specific unit's agreement, newest
        first."""
        units: list[int] = []
        unit: Department | None = department
        while unit is not None:
            units.append(unit.pk)
            unit = unit.parent
        candidates = [
            agreement
            for agreement, categories in self.rows
            if category_id in categories
            and agreement.department_id in units
            and agreement.valid_from <= on
            and (agreement.valid_to is None or agreement.valid_to >= on)
        ]
        candidates.sort(key=lambda a: units.index(a.department_id))
        return candidates[0] if candidates else None


def _agreement_index() -> _AgreementIndex:
    return ttl_cached("agreement-index", AGREEMENT_INDEX_SECONDS, _AgreementIndex)


def _hours(value: Decimal) -> datetime.timedelta:
    return datetime.timedelta(seconds=int(value * 3600))


def deadlines_for(
    *,
    agreement: ServiceAgreement | None,
    department: Department,
    start: datetime.datetime,
    spec: CalendarSpec | None = None,
) -> tuple[datetime.datetime | None, datetime.datetime | None]:
    """(accept by, resolve by) counted in business time from ``start``; (None, None) without
    agreement. ``spec`` is the department's calendar when the caller has it already."""
    if agreement is None:
        return None, None
    spec = spec or calendar_for(department)
    try:
        return (
            add_business_time(spec, start, _hours(agreement.accept_within_hours)),
            add_business_time(spec, start, _hours(agreement.resolve_within_hours)),
        )
    except ValueError as exc:
        raise _calendar_error(department) from exc


def shift_after_pause(
    *,
    due: datetime.datetime | None,
    paused_at: datetime.datetime,
    resumed_at: datetime.datetime,
    department: Department,
) -> datetime.datetime | None:
    """Move a deadline by the business time the clock stood still.

    What was left at the pause is left again at the resume. A deadline already passed when the
    case was paused stays where it was: waiting for the resident does not undo a breach.
    """
    if due is None or due <= paused_at:
        return due
    spec = calendar_for(department)
    try:
        remaining = business_time_between(spec, paused_at, due)
        return add_business_time(spec, resumed_at, remaining)
    except ValueError as exc:
        raise _calendar_error(department) from exc


def _calendar_error(department: Department) -> ApplicationError:
    return ApplicationError(
        _(
            "The business calendar of %(dept)s has no opening hours, so no deadline can be computed. An administrator must add its opening hours."
        )
        % {"dept": department},
        code="calendar_without_hours",
    )
