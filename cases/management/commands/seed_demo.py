"""Build the demo municipality "Exempelstad kommun" with years of realistic history.

    python manage.py seed_demo [--contacts N] [--years Y] [--seed S] [--end-date YYYY-MM-DD]
                               [--reset] [--json]

Configuration (calendars, departments, categories, agreements, demo users) is written
idempotently every time. History (residents, cases, contacts, events) is written once: without
``--reset`` an existing history is left alone, with it the history tables are emptied first.
Same ``--seed`` and ``--end-date`` give the same data. Demo passwords are ``demo-<username>``,
for demonstrations only.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import random
import sqlite3
import time
import tomllib
import zoneinfo
from typing import Any

import django
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from cases.demo import catalogue, writer
from cases.demo.clock import Clock, bridge_day, swedish_closed_days
from cases.demo.configure import Setup, configure
from cases.demo.generator import History
from cases.demo.intake import OPEN311_DEMO_KEY
from cases.demo.people import Residents, make_residents
from cases.demo.recorder import Buffers
from cases.models import (
    Case,
    CaseEvent,
    Contact,
    PowerOfAttorney,
    Resident,
    ResidentEmail,
    ResidentPhone,
)

HISTORY = [CaseEvent, Contact, Case, PowerOfAttorney, ResidentPhone, ResidentEmail, Resident]
CASE_FIELDS = [
    "id",
    "reference",
    "subject",
    "description",
    "resident",
    "category",
    "department",
    "assignee",
    "priority",
    "complexity_level",
    "case_type",
    "origin_channel",
    "language",
    "state",
    "resume_state",
    "resolved_at_first_contact",
    "merged_into",
    "accept_due_at",
    "resolve_due_at",
    "paused_at",
    "created_at",
    "updated_at",
    "forwarded_at",
    "accepted_at",
    "resolved_at",
    "closed_at",
]
CONTACT_FIELDS = [
    "id",
    "case",
    "channel",
    "direction",
    "occurred_at",
    "duration_seconds",
    "agent",
    "resident",
    "nature",
    "failure_demand",
    "resolved_at_first_contact",
    "summary",
    "created_at",
]
EVENT_FIELDS = [
    "id",
    "case",
    "kind",
    "transition",
    "from_state",
    "to_state",
    "actor_type",
    "actor",
    "actor_channel",
    "reason",
    "data",
    "created_at",
]
POA_FIELDS = [
    "id",
    "resident",
    "representative",
    "scope",
    "valid_from",
    "valid_until",
    "receives_copies",
]
RESIDENT_FIELDS = [
    "id",
    "kind",
    "name",
    "personal_id",
    "personal_id_country",
    "org_number",
    "preferred_language",
    "preferred_channel",
    "digital_exemption_reason",
    "digital_exemption_until",
    "created_at",
]


class Command(BaseCommand):
    help = "Create the demo municipality Exempelstad kommun with a reproducible contact history."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--contacts", type=int, default=20000, help="contacts to create (default 20000)"
        )
        parser.add_argument(
            "--years", type=int, default=3, help="years of history up to the end date (default 3)"
        )
        parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
        parser.add_argument(
            "--end-date", dest="end_date", help="last day, YYYY-MM-DD (default: now)"
        )
        parser.add_argument(
            "--reset", action="store_true", help="delete all existing history first"
        )
        parser.add_argument(
            "--json", action="store_true", help="print a benchmark JSON line at the end"
        )
        parser.add_argument(
            "--chunk", type=int, default=50000, help="contacts per write batch (default 50000)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        n_contacts, years = options["contacts"], options["years"]
        if n_contacts < 1 or years < 1:
            raise CommandError("--contacts and --years must be at least 1.")
        end, last_day = _end(options["end_date"])
        first_day = _years_before(last_day, years) + datetime.timedelta(days=1)
        timings: dict[str, float] = {}

        t = time.perf_counter()
        keep = Case.objects.exists() and not options["reset"]
        setup = configure(first_day=first_day, last_day=last_day, keep_dates=keep)
        timings["config"] = time.perf_counter() - t
        self.stdout.write(
            f"Configuration: {len(catalogue.DEPARTMENTS)} departments, "
            f"{len(setup.categories)} category versions, {len(setup.logins)} demo logins."
        )
        if keep:
            self.stdout.write("History already exists: skipped (use --reset to rebuild it).")
            self._logins(setup.logins)
            return
        if options["reset"]:
            t = time.perf_counter()
            writer.wipe(HISTORY)
            timings["wipe"] = time.perf_counter() - t
            self.stdout.write("History deleted.")

        counts = self._history(setup, options, first_day, last_day, end, started, timings)
        t = time.perf_counter()
        writer.analyze()
        timings["analyze"] = time.perf_counter() - t
        total = time.perf_counter() - started

        n_cases = counts.get(Case._meta.db_table, 0)
        n_events = counts.get(CaseEvent._meta.db_table, 0)
        self._logins(setup.logins)
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {catalogue.MUNICIPALITY}: {n_contacts:,} contacts, {n_cases:,} cases, "
                f"{n_events:,} events, {counts.get(Resident._meta.db_table, 0):,} residents, "
                f"{first_day} – {last_day}, in {total:.1f} s ({n_contacts / total:,.0f} contacts/s)."
            )
        )
        if options["json"]:
            record = _facts() | {
                "workload": "seed",
                "n_contacts": n_contacts,
                "n_cases": n_cases,
                "n_events": n_events,
                "n_tickets": n_cases,
                "rows": counts,
                "seconds_total": round(total, 2),
                **{f"seconds_{k}": round(v, 2) for k, v in timings.items()},
                "contacts_per_s": round(n_contacts / total, 1),
                "tickets_per_s": round(n_cases / total, 1),
                "seed": options["seed"],
                "years": years,
                "end_date": last_day.isoformat(),
                "ts": timezone.localtime().isoformat(timespec="seconds"),
                "note": "wall time incl. configuration, Python generation, COPY/INSERT, ANALYZE; "
                "n_tickets = cases (our ticket), contacts are the follow-up-like rows",
            }
            self.stdout.write(json.dumps(record, ensure_ascii=False))

    def _history(
        self,
        setup: Setup,
        options: dict[str, Any],
        first_day: datetime.date,
        last_day: datetime.date,
        end: int,
        started: float,
        timings: dict[str, float],
    ) -> dict[str, int]:
        """Residents, cases, contacts and events; returns rows written per table."""
        n_contacts = options["contacts"]
        out = writer.BulkWriter()
        sink = writer.Sink(out)
        rng = random.Random(options["seed"])
        clock = _clock(first_day, last_day)
        t = time.perf_counter()
        residents = self._residents(sink, rng, clock, n_contacts, last_day)
        buffers = Buffers(
            next_case=writer.next_id(Case),
            next_contact=writer.next_id(Contact),
            next_event=writer.next_id(CaseEvent),
        )
        history = History(
            rng=rng,
            setup=setup,
            clock=clock,
            end=end,
            residents=residents,
            n_contacts=n_contacts,
            buffers=buffers,
            reference_prefix=settings.CASE_REFERENCE_PREFIX,
            auto_close_days=settings.CASE_AUTO_CLOSE_DAYS,
        )
        done = 0
        for _ in history.run(options["chunk"]):
            done += len(buffers.contacts)
            sink.put(_take(buffers))
            self.stdout.write(
                f"  {done:>10,} / {n_contacts:,} contacts generated  "
                f"({time.perf_counter() - started:.1f} s)"
            )
        sink.put(_take(buffers))
        timings["generate"] = time.perf_counter() - t
        sink.close()  # waits for the background writer
        timings["write_tail"] = time.perf_counter() - t - timings["generate"]
        if sink.skipped_fk_triggers:
            t = time.perf_counter()
            problems = writer.verify_references(HISTORY)
            timings["verify"] = time.perf_counter() - t
            if problems:
                raise CommandError(f"Seeded rows point at nothing: {'; '.join(problems)}")
        writer.reset_sequences(HISTORY)
        return dict(out.counts)

    def _residents(
        self,
        sink: writer.Sink,
        rng: random.Random,
        clock: Clock,
        n_contacts: int,
        today: datetime.date,
    ) -> Residents:
        residents = make_residents(
            rng,
            max(10, n_contacts // 4),
            first_id=writer.next_id(Resident),
            today=today,
            created_at=clock.fmt(clock.midnights[0] - 86400 * 30),
            email_id=writer.next_id(ResidentEmail),
            phone_id=writer.next_id(ResidentPhone),
            poa_id=writer.next_id(PowerOfAttorney),
        )
        sink.put(
            [
                (Resident, RESIDENT_FIELDS, residents.rows),
                (ResidentEmail, ["id", "resident", "address"], residents.emails),
                (ResidentPhone, ["id", "resident", "number"], residents.phones),
                (PowerOfAttorney, POA_FIELDS, residents.proxies),
            ]
        )
        self.stdout.write(
            f"  {len(residents.rows):,} residents, {len(residents.emails):,} e-mail addresses, "
            f"{len(residents.phones):,} phone numbers, {len(residents.proxies)} powers of attorney"
        )
        return residents

    def _logins(self, logins: list[tuple[str, str, str, str]]) -> None:
        self.stdout.write(
            "Demo logins (for demonstrations only; passwords kept if the user existed):"
        )
        for username, password, role, department in logins:
            self.stdout.write(f"  {username:<11} {password:<16} {role:<15} {department}")
        self.stdout.write(
            f"Intake: e-service forms at /e/, Open311 at /open311/v2/ (demo API key: {OPEN311_DEMO_KEY}), "
            "mail with `manage.py ingest_email --mailbox kontakt < message.eml`."
        )


def _take(buffers: Buffers) -> writer.Batch:
    """Hand the buffered rows over (cases before the contacts and events that point at them)."""
    batch: writer.Batch = [
        (Case, CASE_FIELDS, buffers.cases),
        (Contact, CONTACT_FIELDS, buffers.contacts),
        (CaseEvent, EVENT_FIELDS, buffers.events),
    ]
    buffers.cases, buffers.contacts, buffers.events = [], [], []
    return batch


def _end(end_date: str | None) -> tuple[int, datetime.date]:
    """The end of the window as epoch seconds, and its local date."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    if end_date:
        try:
            day = datetime.date.fromisoformat(end_date)
        except ValueError as exc:
            raise CommandError("--end-date must be YYYY-MM-DD.") from exc
        return int(
            datetime.datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=zone).timestamp()
        ), day
    now = timezone.now()
    return int(now.timestamp()), now.astimezone(zone).date()


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _clock(first_day: datetime.date, last_day: datetime.date) -> Clock:
    year_span = range(first_day.year, last_day.year + 3)
    office = next(c for c in catalogue.CALENDARS if c[0] == catalogue.OFFICE_CALENDAR)
    return Clock(
        first_day=first_day,
        last_day=last_day,
        tz=office[2],
        office_hours=office[4],
        closed=swedish_closed_days(year_span, eves=office[3]),
        short_days={bridge_day(year): catalogue.BRIDGE_DAY_HOURS for year in year_span},
    )


def _facts() -> dict[str, Any]:
    """Versions and machine facts, in the shape of the peer benchmark's JSON lines."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            db = f"postgresql {cursor.fetchone()[0].split()[0]}"
    elif connection.vendor == "sqlite":
        db = f"sqlite {sqlite3.sqlite_version}"
    else:
        db = connection.vendor
    mem_gib = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    with open(settings.BASE_DIR / "pyproject.toml", "rb") as f:
        version = tomllib.load(f)["project"]["version"]
    return {
        "system": "contactcenter",
        "system_version": version,
        "django": django.get_version(),
        "python": platform.python_version(),
        "db": db,
        "nproc": os.cpu_count(),
        "mem_gib": mem_gib,
    }
