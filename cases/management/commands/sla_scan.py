"""Run one escalation scan, as of now or of a given moment, and say what it did.

    python manage.py sla_scan                         # what Celery beat runs every minute
    python manage.py sla_scan --at 2026-12-28T08:00   # as of that moment (naive = TIME_ZONE)

One line per escalation fired or deferred, then a summary line. ``--at`` lets an operator see
what is due (and simulate time in a test environment): the rows fired are stamped with that
moment, exactly as a scan running then would have stamped them.
"""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.services.escalation import ScanItem, sla_scan


def parse_moment(value: str) -> datetime.datetime:
    """An ISO-8601 date and time; without an offset it is read in ``settings.TIME_ZONE``."""
    try:
        moment = parse_datetime(value.strip())
        if moment is None:
            day = datetime.date.fromisoformat(value.strip())
            moment = datetime.datetime.combine(day, datetime.time(0))
    except ValueError:
        moment = None
    if moment is None:
        raise CommandError(
            _(
                "--at needs an ISO-8601 date and time, such as 2026-03-03T09:00 or "
                "2026-03-03T09:00:00+01:00; got %(value)r."
            )
            % {"value": value}
        )
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _local(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")


def _describe(item: ScanItem) -> str:
    return _("%(ref)s step %(position)d (%(deadline)s %(percent)d %%, %(notify)s) due %(due)s") % {
        "ref": item.reference,
        "position": item.position,
        "deadline": item.deadline,
        "percent": item.at_percent,
        "notify": item.notify,
        "due": _local(item.due_at),
    }


class Command(BaseCommand):
    help = gettext_lazy(
        "Fire the escalation steps that are due (one scan), and print what was done."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--at",
            default=None,
            help=gettext_lazy(
                "Scan as of this ISO-8601 moment (default: now; without an offset: local time)."
            ),
        )

    def handle(self, *args: object, **options: object) -> None:
        at = parse_moment(str(options["at"])) if options.get("at") else timezone.now()
        result = sla_scan(at=at)
        for item in result.fired:
            self.stdout.write(
                _("fired     %(item)s: %(n)d recipient(s) %(ids)s")
                % {
                    "item": _describe(item),
                    "n": len(item.recipients),
                    "ids": list(item.recipients),
                }
            )
        for item in result.deferred:
            self.stdout.write(
                _("deferred  %(item)s: outside business hours, until %(until)s")
                % {"item": _describe(item), "until": _local(item.until) if item.until else "–"}
            )
        summary = _(
            "sla_scan at %(at)s: %(fired)d fired, %(deferred)d deferred, %(cancelled)d "
            "cancelled, %(paused)d paused; %(notifications)d notifications, %(emails)d e-mails."
        ) % {
            "at": _local(result.at),
            "fired": len(result.fired),
            "deferred": len(result.deferred),
            "cancelled": result.cancelled,
            "paused": result.paused,
            "notifications": result.notifications,
            "emails": result.emails,
        }
        if result.more:
            summary += " " + _("The limit was reached; the next scan goes on.")
        self.stdout.write(summary)
