"""Poll the IMAP mailboxes once and say what happened to each:

    python manage.py poll_mailboxes                  # every active mailbox with an IMAP host
    python manage.py poll_mailboxes --mailbox rates  # only this one (repeatable)

The same work as the beat task ``mailboxes_poll_task``; running both at once records nothing
twice (see ``channels_app.email.imap``). Exits non-zero when a mailbox failed.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from channels_app.email import imap
from channels_app.models import Mailbox


class Command(BaseCommand):
    help = "Fetch new mail from the IMAP mailboxes into the inbound queue."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--mailbox",
            action="append",
            dest="names",
            metavar="NAME",
            help="poll only this mailbox (by name; may be given more than once)",
        )

    def handle(self, *args: Any, names: list[str] | None = None, **options: Any) -> None:
        if names:
            pollable = set(
                Mailbox.objects.filter(name__in=names, active=True)
                .exclude(imap_host="")
                .values_list("name", flat=True)
            )
            unknown = [name for name in names if name not in pollable]
            if unknown:
                raise CommandError(
                    "No active mailbox with an IMAP host named: " + ", ".join(unknown)
                )
        outcomes = imap.mailboxes_poll(names=names)
        if not outcomes:
            self.stdout.write("No active mailbox with an IMAP host.")
            return
        failed = 0
        for outcome in outcomes:
            result = outcome.result
            if result is None:
                failed += 1
                self.stderr.write(self.style.ERROR(f"{outcome.name}: FAILED: {outcome.error}"))
                continue
            line = (
                f"{outcome.name}: {result.fetched} fetched, {result.recorded} recorded, "
                f"{result.duplicates} already known"
            )
            if result.uidvalidity_reset:
                line += " (UIDVALIDITY changed: folder read again from the start)"
            if result.remaining:
                line += f"; {result.remaining} more left for the next poll"
            self.stdout.write(line)
        if failed:
            raise CommandError(f"{failed} of {len(outcomes)} mailboxes failed.")
