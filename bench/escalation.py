#!/usr/bin/env python
"""Escalation scan benchmark: one ``sla_scan`` over 100,000 open cases on PostgreSQL.

    .venv/bin/python bench/escalation.py --out /tmp/cc_results.jsonl

Uses its own database (``cc_bench_sla`` unless ``DATABASE_URL`` names another), creates and
migrates it if needed, and seeds it once: a municipality of 6 departments with 2 sub-units
each, one calendar (Mon–Fri 08–16, Swedish holidays), agreements with the demo ladder (resolve
75/100/150/200 %, accept 100 %), and ``--cases`` open forwarded cases with their escalation
rows planned exactly as the forward hook plans them. Later runs reuse the rows and only undo
what the previous run's scan did (then VACUUM ANALYZE, since autovacuum is off here).

The forward moments are spread so that at the scan moment (Tuesday 24 November 2026, 10:00
Stockholm) about ``--due-share`` of the cases have a rung due. It then times:

* ``sla_scan_backlog``: the scan that fires all of them (events, notifications, e-mail rows,
  the batched send tasks enqueued after commit to an in-memory broker);
* ``sla_scan_repeat``: the same moment again, which must fire nothing (exactly once);
* ``sla_scan_night``: a scan at 20:00 the same day, where the rungs due since 10:00 wait for
  the next opening (nothing is mailed at night).

Prints one JSON line per measurement (``workload``, ``n``, ``wall_ms``, ``queries``, ...);
progress goes to stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/cc_bench_sla"
TZ = "Europe/Stockholm"
PREFIX = "SLA"


def log(message: str) -> None:
    print(f"[escalation] {message}", file=sys.stderr, flush=True)


def ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            log(f"created database {name}")


class QueryCounter:
    """Counts statements without keeping their text (a bulk INSERT's SQL is megabytes)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def seed_org() -> dict[str, Any]:
    from accounts.models import Role, User
    from cases.models import (
        BusinessCalendar,
        Category,
        Department,
        EscalationStep,
        OpeningHours,
        ServiceAgreement,
    )

    calendar, _new = BusinessCalendar.objects.get_or_create(
        name="Bench", defaults={"country": "SE", "timezone": TZ, "eves_closed": True}
    )
    if not calendar.hours.exists():
        OpeningHours.objects.bulk_create(
            OpeningHours(calendar=calendar, weekday=d, opens=dt.time(8), closes=dt.time(16))
            for d in range(5)
        )
    cc, _new = Department.objects.get_or_create(
        code="kc",
        defaults={
            "is_contact_center": True,
            "name_sv": "Kontaktcenter",
            "name_da": "Kontaktcenter",
            "name_en": "Contact center",
            "calendar": calendar,
        },
    )

    def user(username: str, role: str, department: Any) -> Any:
        found, _created = User.objects.get_or_create(
            username=username,
            defaults={
                "role": role,
                "department": department,
                "email": f"{username}@example.org",
            },
        )
        return found

    for i in range(3):
        user(f"cc-sup-{i}", Role.SUPERVISOR, cc)
    units: list[tuple[Any, Any, list[Any], Any]] = []  # (unit, category, handlers, agreement)
    for d in range(6):
        top, _new = Department.objects.get_or_create(
            code=f"dept-{d}",
            defaults={
                "name_sv": f"Förvaltning {d}",
                "name_da": f"Forvaltning {d}",
                "name_en": f"Department {d}",
                "calendar": calendar,
                "email": f"dept-{d}@example.org",
            },
        )
        if top.head_id is None:
            top.head = user(f"director-{d}", Role.SUPERVISOR, top)
            top.save(update_fields=["head"])
        category, _new = Category.objects.get_or_create(
            code=f"bench-{d}",
            defaults={
                "name_sv": f"Ärende {d}",
                "name_da": f"Sag {d}",
                "name_en": f"Matter {d}",
                "department": top,
            },
        )
        agreement = ServiceAgreement.objects.filter(department=top).first()
        if agreement is None:
            agreement = ServiceAgreement.objects.create(
                name=f"Bench {d}",
                department=top,
                valid_from=dt.date(2020, 1, 1),
                accept_within_hours=Decimal(8),
                resolve_within_hours=Decimal(40),
            )
            agreement.categories.set([category])
            EscalationStep.objects.bulk_create(
                EscalationStep(
                    agreement=agreement,
                    position=position,
                    deadline=deadline,
                    at_percent=percent,
                    notify=notify,
                )
                for position, deadline, percent, notify in [
                    (1, "resolve", 75, "assignee"),
                    (2, "resolve", 100, "department_supervisor"),
                    (3, "resolve", 150, "department_director"),
                    (4, "resolve", 200, "contact_center_supervisor"),
                    (5, "accept", 100, "department_supervisor"),
                ]
            )
        for s in range(2):
            sub, _new = Department.objects.get_or_create(
                code=f"dept-{d}-{s}",
                defaults={
                    "name_sv": f"Enhet {d}.{s}",
                    "name_da": f"Enhed {d}.{s}",
                    "name_en": f"Unit {d}.{s}",
                    "parent": top,
                },
            )
            if sub.head_id is None:
                sub.head = user(f"head-{d}-{s}", Role.SUPERVISOR, sub)
                sub.save(update_fields=["head"])
            handlers = [user(f"handler-{d}-{s}-{h}", Role.HANDLER, sub) for h in range(10)]
            units.append((sub, category, handlers, agreement))
    return {"calendar": calendar, "units": units}


def backwards(spec: Any, end: dt.datetime, amount: dt.timedelta) -> dt.datetime:
    """The moment from which ``amount`` of business time runs up to ``end``."""
    from cases.businesstime import open_intervals

    day = end.astimezone(spec.tz).date()
    left = amount
    while True:
        for opens, closes in reversed(open_intervals(spec, day)):
            if opens >= end:
                continue
            closes = min(closes, end)
            if closes - opens >= left:
                return closes - left
            left -= closes - opens
        day -= dt.timedelta(days=1)


def seed_cases(n: int, at: dt.datetime, due_share: float, rng: random.Random) -> None:
    """``n`` open cases forwarded before ``at``, with their rungs planned as the hook plans
    them. Accepted cases: elapsed resolve time uniform so that ``due_share`` of them have
    reached the 75 % rung, a few of them late (past 100 %). Forwarded, not yet accepted:
    ``due_share`` past their accept deadline. Five per cent wait for the resident."""
    from django.db import transaction

    from cases.models import Case, CaseEscalation, CaseState
    from cases.services.deadlines import calendar_for
    from cases.services.escalation import escalation_due_at

    org = seed_org()
    spec = calendar_for(org["units"][0][0])
    steps = {
        agreement.pk: list(agreement.escalation_steps.all())
        for _u, _c, _h, agreement in org["units"]
    }
    hour = dt.timedelta(hours=1)
    due_cache: dict[tuple[dt.datetime, Decimal, int], dt.datetime] = {}

    def due(start: dt.datetime, hours: Decimal, percent: int) -> dt.datetime:
        key = (start, hours, percent)
        if key not in due_cache:
            due_cache[key] = escalation_due_at(
                spec=spec, start=start, hours=hours, at_percent=percent
            )
        return due_cache[key]

    start_cache: dict[int, dt.datetime] = {}

    def forwarded_at(elapsed_minutes: int) -> dt.datetime:
        if elapsed_minutes not in start_cache:
            start_cache[elapsed_minutes] = backwards(
                spec, at, dt.timedelta(minutes=elapsed_minutes)
            )
        return start_cache[elapsed_minutes]

    batch = 5000
    made = 0
    t0 = time.monotonic()
    while made < n:
        cases: list[Case] = []
        plans: list[list[tuple[Any, dt.datetime, dt.datetime | None]]] = []
        for i in range(made, min(n, made + batch)):
            unit, category, handlers, agreement = org["units"][i % len(org["units"])]
            kind = rng.random()
            if kind < 0.25:  # forwarded, waiting to be accepted (8 h)
                state = CaseState.FORWARDED
                minutes = int(rng.uniform(0, 8 * 60 / (1 - due_share)))
            else:
                state = CaseState.WAITING if kind > 0.95 else CaseState.ACCEPTED
                late = rng.random() < 0.1
                span = 30 / (1 - due_share * 0.9)
                minutes = int(rng.uniform(40, 60) * 60 if late and rng.random() < due_share
                              else rng.uniform(0, span) * 60)  # fmt: skip
            start = forwarded_at(max(minutes, 1))
            accepted = (
                None
                if state == CaseState.FORWARDED
                else min(start + dt.timedelta(minutes=30), at - dt.timedelta(minutes=1))
            )
            accept_due = due(start, agreement.accept_within_hours, 100)
            resolve_due = due(start, agreement.resolve_within_hours, 100)
            cases.append(
                Case(
                    reference=f"{PREFIX}-{i:07d}",
                    subject="Bench",
                    department=unit,
                    category=category,
                    agreement=agreement,
                    origin_channel="phone",
                    state=state,
                    resume_state=CaseState.ACCEPTED if state == CaseState.WAITING else "",
                    assignee=None if state == CaseState.FORWARDED else rng.choice(handlers),
                    forwarded_at=start,
                    accepted_at=accepted,
                    accept_due_at=accept_due,
                    resolve_due_at=resolve_due,
                    paused_at=at - 3 * hour if state == CaseState.WAITING else None,
                    created_at=start - hour,
                )
            )
            plan = []
            for step in steps[agreement.pk]:
                hours = (
                    agreement.accept_within_hours
                    if step.deadline == "accept"
                    else agreement.resolve_within_hours
                )
                cancelled = accepted if step.deadline == "accept" and accepted else None
                plan.append((step, due(start, hours, step.at_percent), cancelled))
            plans.append(plan)
        with transaction.atomic():
            Case.objects.bulk_create(cases)
            CaseEscalation.objects.bulk_create(
                CaseEscalation(case=case, step=step, due_at=due_at, cancelled_at=cancelled)
                for case, plan in zip(cases, plans, strict=True)
                for step, due_at, cancelled in plan
            )
        made += len(cases)
        log(f"seeded {made:,} cases ({time.monotonic() - t0:.0f} s)")


def moments(at: dt.datetime) -> list[tuple[str, dt.datetime]]:
    return [
        ("sla_scan_backlog", at),
        ("sla_scan_repeat", at),
        ("sla_scan_night", at.replace(hour=20)),
    ]


def reset(at: dt.datetime) -> None:
    """Undo what earlier scans did, so that every run starts from the same rows."""
    from django.db import connection, transaction

    from cases.models import CaseEscalation, EventKind, Notification
    from channels_app.models import OutboundMessage

    with transaction.atomic():
        # CaseEvent is append-only through the ORM; the bench owns this database.
        with connection.cursor() as cur:
            cur.execute("DELETE FROM cases_caseevent WHERE kind = %s", [EventKind.ESCALATED.value])
        Notification.objects.all().delete()
        OutboundMessage.objects.filter(kind="escalation").delete()
        CaseEscalation.objects.filter(fired_at__isnull=False).update(fired_at=None, notified=[])
        # The scans stamp what they cancel with their moment; the seed's cancellations are
        # earlier (an accept is always before ``at``).
        CaseEscalation.objects.filter(cancelled_at__in=[m for _w, m in moments(at)]).update(
            cancelled_at=None
        )
    with connection.cursor() as cur:
        for table in (
            "cases_caseescalation",
            "cases_caseevent",
            "cases_notification",
            "channels_app_outboundmessage",
            "cases_case",
        ):
            cur.execute(f"VACUUM ANALYZE {table}")


def warm_up(at: dt.datetime) -> None:
    """Load what a worker loads on its first scan and keeps (the URL resolver for the links in
    the mails, the holiday tables of the year): the figures are for a warm worker."""
    from django.urls import reverse

    from cases.businesstime import is_open
    from cases.models import Department
    from cases.services.deadlines import calendar_for

    reverse("cases:detail", args=["x"])
    is_open(calendar_for(Department.objects.get(code="dept-0")), at)


def backend_cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) of the PostgreSQL backend serving us, from /proc (same host)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(workload: str, at: dt.datetime, extra: dict[str, Any]) -> dict[str, Any]:
    from django.db import connection

    from cases.services.escalation import sla_scan

    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        backend = cur.fetchone()[0]
    counter = QueryCounter()
    load = os.getloadavg()[0]
    server0, client0 = backend_cpu_seconds(backend), time.process_time()
    with connection.execute_wrapper(counter):
        t0 = time.perf_counter()
        result = sla_scan(at=at)
        wall = time.perf_counter() - t0
    client = time.process_time() - client0
    server1 = backend_cpu_seconds(backend)
    server = server1 - server0 if server0 is not None and server1 is not None else None
    return {
        "workload": workload,
        "at": at.isoformat(),
        "n": extra["n_cases"],
        "fired": len(result.fired),
        "deferred": len(result.deferred),
        "cancelled": result.cancelled,
        "paused": result.paused,
        "notifications": result.notifications,
        "emails": result.emails,
        "more": result.more,
        "wall_ms": round(wall * 1000, 1),
        "seconds_total": round(wall, 3),
        "escalations_per_s": round(len(result.fired) / wall, 1) if wall else None,
        # Statements through Django; each chunk that fires also streams three COPYs.
        "queries": counter.count,
        "cpu_ms_client": round(client * 1000),
        "cpu_ms_server": round(server * 1000) if server is not None else None,
        "loadavg_1m_before": round(load, 2),
        **extra,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--due-share", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reseed", action="store_true", help="drop the seeded cases first")
    parser.add_argument("--label", default=None)
    parser.add_argument("--out", default=None, help="append the JSON lines to this file")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("bench/escalation.py measures PostgreSQL: set DATABASE_URL=postgres://...")
    ensure_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactcenter.settings.dev")
    os.environ["DJANGO_DEBUG"] = "0"
    # E-mail send tasks go to an in-process broker: publishing them is measured, sending not.
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench._common import emit, env_facts
    from cases.models import Case, CaseEscalation

    call_command("migrate", verbosity=0, interactive=False)
    at = dt.datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo(TZ))  # a Tuesday, office open
    seeded = Case.objects.filter(reference__startswith=f"{PREFIX}-")
    if args.reseed and seeded.exists():
        log("dropping the seeded cases")
        with connection.cursor() as cur:
            cur.execute("TRUNCATE cases_caseescalation, cases_notification")
            cur.execute("DELETE FROM cases_caseevent WHERE case_id IN (SELECT id FROM cases_case "
                        "WHERE reference LIKE %s)", [f"{PREFIX}-%"])  # fmt: skip
            cur.execute("DELETE FROM channels_app_outboundmessage WHERE kind = 'escalation'")
            cur.execute("DELETE FROM cases_case WHERE reference LIKE %s", [f"{PREFIX}-%"])
    if seeded.count() != args.cases:
        if seeded.exists():
            sys.exit(f"{seeded.count()} seeded cases, not {args.cases}: run with --reseed")
        seed_cases(args.cases, at, args.due_share, random.Random(args.seed))
    reset(at)
    pending = CaseEscalation.objects.filter(fired_at__isnull=True, cancelled_at__isnull=True)
    extra = {
        **env_facts(),
        "n_cases": args.cases,
        "n_pending_rows": pending.count(),
        "n_due_rows": pending.filter(due_at__lte=at).count(),
        "n_cases_due": pending.filter(due_at__lte=at).values("case_id").distinct().count(),
    }
    if args.label:
        extra["label"] = args.label
    log(
        f"{extra['n_pending_rows']:,} pending rungs, {extra['n_due_rows']:,} due at {at} "
        f"({extra['n_cases_due']:,} cases)"
    )
    warm_up(at)
    for workload, moment in moments(at):
        record = measure(workload, moment, extra)
        record["ts"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        emit(record, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
