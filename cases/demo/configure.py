"""Write the demo municipality's configuration through the ORM, idempotently.

Everything here is a handful of rows, so plain ``update_or_create`` is fast enough and running
``seed_demo`` twice leaves one copy. Returns a ``Setup`` with the ids the history generator
needs, so the generator itself never touches the ORM.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import transaction

from accounts.models import Role, User
from cases.demo import catalogue as cat
from cases.demo.clock import bridge_day
from cases.demo.intake import configure_intake
from cases.models import (
    BusinessCalendar,
    CalendarException,
    Category,
    Department,
    EscalationStep,
    OpeningHours,
    ServiceAgreement,
)

_ASCII = str.maketrans({"å": "a", "ä": "a", "ö": "o", "Å": "A", "Ä": "A", "Ö": "O"})


@dataclass(frozen=True)
class CategoryVersion:
    """One stored category version as the generator sees it."""

    id: int
    spec: cat.CategorySpec
    era: str  # "always", "before" or "after" the taxonomy change
    department_id: int
    agreement_id: int | None
    contact_center_levels: tuple[int, ...]
    accept_hours: int
    resolve_hours: int


@dataclass
class Setup:
    contact_center_id: int
    departments: dict[str, int]
    categories: list[CategoryVersion]
    agents: list[int]
    handlers: dict[int, list[int]]
    logins: list[tuple[str, str, str, str]] = field(default_factory=list)
    change_date: datetime.date = datetime.date(2000, 1, 1)


@transaction.atomic
def configure(
    *, first_day: datetime.date, last_day: datetime.date, keep_dates: bool = False
) -> Setup:
    """Calendars, departments, categories, agreements and staff for the window seeded.

    ``keep_dates``: a history exists and stays, so category versions and agreements keep the
    validity dates it was generated with (a later window would otherwise move them under it).
    """
    calendars = _calendars(first_day.year, last_day.year)
    departments = _departments(calendars)
    change = cat.taxonomy_change_date(first_day)
    start = datetime.date(first_day.year, 1, 1)
    rows = _categories(departments, start=start, change=change, keep_dates=keep_dates)
    agreement_ids = _agreements(departments, start=start, keep_dates=keep_dates)
    if keep_dates:
        change = next(
            (row.valid_from for era, row in rows["snow-clearing"] if era == "after"), change
        )
    versions = _generator_view(rows, departments, agreement_ids)
    agents, handlers, logins = _users(departments)
    configure_intake(departments)
    return Setup(
        contact_center_id=departments[cat.CONTACT_CENTER].pk,
        departments={code: d.pk for code, d in departments.items()},
        categories=versions,
        agents=agents,
        handlers=handlers,
        logins=logins,
        change_date=change,
    )


def _calendars(first_year: int, last_year: int) -> dict[str, BusinessCalendar]:
    out = {}
    for name, country, tz, eves, hours in cat.CALENDARS:
        calendar, _ = BusinessCalendar.objects.update_or_create(
            name=name, defaults={"country": country, "timezone": tz, "eves_closed": eves}
        )
        # Opening hours are not referenced by anything; replacing them keeps re-runs exact.
        calendar.hours.all().delete()
        OpeningHours.objects.bulk_create(
            OpeningHours(calendar=calendar, weekday=day, opens=opens, closes=closes)
            for day, (opens, closes) in sorted(hours.items())
        )
        if country == "SE":
            for year in range(first_year, last_year + 1):
                CalendarException.objects.update_or_create(
                    calendar=calendar,
                    date=bridge_day(year),
                    defaults={
                        "opens": cat.BRIDGE_DAY_HOURS[0],
                        "closes": cat.BRIDGE_DAY_HOURS[1],
                        "note": cat.BRIDGE_DAY_NOTE,
                    },
                )
        out[name] = calendar
    return out


def _departments(calendars: dict[str, BusinessCalendar]) -> dict[str, Department]:
    out: dict[str, Department] = {}
    existing_cc = Department.objects.filter(is_contact_center=True).first()
    for spec in cat.DEPARTMENTS:
        defaults = {
            "name_sv": spec.sv,
            "name_da": spec.da,
            "name_en": spec.en,
            "parent": out[spec.parent] if spec.parent else None,
            "calendar": calendars[spec.calendar],
            "email": f"{spec.code}@exempelstad.example",
            "active": True,
        }
        if spec.code == cat.CONTACT_CENTER and existing_cc is not None:
            # Exactly one contact center may exist; adopt the one already there.
            out[spec.code] = existing_cc
            continue
        if spec.code == cat.CONTACT_CENTER:
            defaults["is_contact_center"] = True
        out[spec.code], _ = Department.objects.update_or_create(code=spec.code, defaults=defaults)
    return out


def _versions(
    spec: cat.CategorySpec, start: datetime.date, change: datetime.date
) -> list[tuple[str, datetime.date, datetime.date | None, tuple[str, str, str]]]:
    """(era, valid_from, valid_to, names) for every version of one category, oldest first."""
    names = (spec.sv, spec.da, spec.en)
    before = change - datetime.timedelta(days=1)
    if spec.renamed_from:
        return [("before", start, before, spec.renamed_from), ("after", change, None, names)]
    if spec.era == "before":
        return [("before", start, before, names)]
    if spec.era == "after":
        return [("after", change, None, names)]
    return [("always", start, None, names)]


def _categories(
    departments: dict[str, Department],
    *,
    start: datetime.date,
    change: datetime.date,
    keep_dates: bool,
) -> dict[str, list[tuple[str, Category]]]:
    """Every category version, per code oldest first, as (era, row)."""
    by_code: dict[str, list[tuple[str, Category]]] = {}
    for spec in cat.CATEGORIES:
        wanted = _versions(spec, start, change)
        existing = list(Category.objects.filter(code=spec.code).order_by("valid_from"))
        if keep_dates and len(existing) == len(wanted):
            wanted = [
                (w[0], e.valid_from, e.valid_to, w[3])
                for w, e in zip(wanted, existing, strict=True)
            ]
        # Shift later versions first when dates move forward, so (code, valid_from) never clashes.
        order = list(range(len(wanted)))
        if existing and wanted[0][1] > existing[0].valid_from:
            order.reverse()
        rows: dict[int, Category] = {}
        for i in order:
            _era, valid_from, valid_to, (sv, da, en) = wanted[i]
            row = existing[i] if i < len(existing) else Category(code=spec.code)
            row.name_sv, row.name_da, row.name_en = sv, da, en
            row.department = departments[spec.department]
            row.case_type, row.default_level = spec.case_type, spec.level
            row.sensitive = spec.sensitive
            row.preferred_channels, row.supplementary_channels = spec.preferred, spec.supplementary
            row.valid_from, row.valid_to = valid_from, valid_to
            row.save()
            rows[i] = row
        by_code[spec.code] = [(wanted[i][0], rows[i]) for i in range(len(wanted))]
    # Link each ended version to what replaced it: the renamed version, or the split parts.
    for spec in cat.CATEGORIES:
        versions = by_code[spec.code]
        if spec.renamed_from:
            versions[0][1].successors.set([versions[1][1]])
        if spec.successors:
            versions[0][1].successors.set([by_code[code][-1][1] for code in spec.successors])
    return by_code


def _generator_view(
    by_code: dict[str, list[tuple[str, Category]]],
    departments: dict[str, Department],
    agreement_ids: dict[str, int],
) -> list[CategoryVersion]:
    agreements = {d.code: d.agreement for d in cat.DEPARTMENTS}
    out = []
    for spec in cat.CATEGORIES:
        # Without an agreement (the contact center's own categories) levels 1-3 are resolved
        # at the contact center, as the live service does.
        agreement = agreements[spec.department] or cat.AgreementSpec([1, 2, 3], 0, 0)
        for era, row in by_code[spec.code]:
            out.append(
                CategoryVersion(
                    id=row.pk,
                    spec=spec,
                    era=era,
                    department_id=departments[spec.department].pk,
                    agreement_id=agreement_ids.get(spec.department),
                    contact_center_levels=tuple(agreement.contact_center_levels),
                    accept_hours=agreement.accept_within_hours,
                    resolve_hours=agreement.resolve_within_hours,
                )
            )
    return out


def _agreements(
    departments: dict[str, Department], *, start: datetime.date, keep_dates: bool
) -> dict[str, int]:
    out = {}
    for spec in cat.DEPARTMENTS:
        if spec.agreement is None:
            continue
        department = departments[spec.code]
        agreement, _ = ServiceAgreement.objects.update_or_create(
            department=department,
            name=f"Serviceavtal Kontaktcenter – {spec.sv}",
            defaults={
                **({} if keep_dates else {"valid_from": start, "valid_to": None}),
                "contact_center_levels": spec.agreement.contact_center_levels,
                "accept_within_hours": spec.agreement.accept_within_hours,
                "resolve_within_hours": spec.agreement.resolve_within_hours,
            },
            create_defaults={
                "valid_from": start,
                "contact_center_levels": spec.agreement.contact_center_levels,
                "accept_within_hours": spec.agreement.accept_within_hours,
                "resolve_within_hours": spec.agreement.resolve_within_hours,
            },
        )
        agreement.categories.set(Category.objects.filter(department=department).order_by("pk"))
        for position, deadline, percent, notify in cat.ESCALATION_LADDER:
            EscalationStep.objects.update_or_create(
                agreement=agreement,
                position=position,
                defaults={"deadline": deadline, "at_percent": percent, "notify": notify},
            )
        out[spec.code] = agreement.pk
    return out


def _user(username: str, defaults: dict[str, object], password: str | None) -> User:
    user, created = User.objects.update_or_create(username=username, defaults=defaults)
    if created:
        # Hash once, only for new users: re-runs keep whatever password was set since.
        user.password = make_password(password)
        user.save(update_fields=["password"])
    return user


def _users(
    departments: dict[str, Department],
) -> tuple[list[int], dict[int, list[int]], list[tuple[str, str, str, str]]]:
    agents: list[int] = []
    handlers: dict[int, list[int]] = {}
    logins = []
    for spec in cat.DEMO_USERS:
        department = departments[spec.department] if spec.department else None
        password = f"demo-{spec.username}"
        user = _user(
            spec.username,
            {
                "role": spec.role,
                "department": department,
                "first_name": spec.first_name,
                "last_name": spec.last_name,
                "email": f"{spec.username}@exempelstad.example",
                "is_staff": spec.superuser,
                "is_superuser": spec.superuser,
                "is_active": True,
            },
            password,
        )
        logins.append(
            (spec.username, password, spec.role, department.name_sv if department else "–")
        )
        if spec.role == Role.AGENT:
            agents.append(user.pk)
        elif spec.role == Role.HANDLER and department is not None:
            handlers.setdefault(department.pk, []).append(user.pk)
    roster = [(cat.CONTACT_CENTER, Role.AGENT, name) for name in cat.ROSTER_AGENTS]
    roster += [
        (code, Role.HANDLER, name) for code, names in cat.ROSTER_HANDLERS.items() for name in names
    ]
    for code, role, (first, last) in roster:
        department = departments[code]
        username = f"{first}.{last}".lower().translate(_ASCII)
        defaults = {
            "role": role,
            "department": department,
            "first_name": first,
            "last_name": last,
            "email": f"{username}@exempelstad.example",
            "is_staff": False,
            "is_active": True,
        }
        user = _user(username, defaults, None)
        if role == Role.AGENT:
            agents.append(user.pk)
        else:
            handlers.setdefault(department.pk, []).append(user.pk)
    return agents, handlers, logins
