"""Poll the IMAP mailboxes once and say what happened to each:

    python manage.py poll_mailboxes                  # every active mailbox with an IMAP host
    python manage.py poll_mailboxes --mailbox rates  # only this one (repeatable)
    python manage.py poll_mailboxes --mailbox rates --start-from-now

The same work as the beat task ``mailboxes_poll_task``; running both at once records nothing
twice (see ``channels_app.email.imap``). Exits non-zero when a mailbox failed.

``--start-from-now`` imports nothing: it records the folder's UIDVALIDITY and highest UID, so
that polls fetch only mail that arrives afterwards. Run it once before the first poll of a
mailbox that already holds old mail, or every old message becomes a case (ADR 0014).
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
        parser.add_argument(
            "--start-from-now",
            action="store_true",
            help=(
                "import nothing: remember the folder's current UIDVALIDITY and highest UID, "
                "so the next poll fetches only newer mail (needs --mailbox)"
            ),
        )

    def handle(
        self,
        *args: Any,
        names: list[str] | None = None,
        start_from_now: bool = False,
        **options: Any,
    ) -> None:
        if start_from_now and not names:
            raise CommandError("--start-from-now needs --mailbox NAME (one or more).")
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
        if start_from_now:
            self._start_from_now(names or [])
            return
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

    def _start_from_now(self, names: list[str]) -> None:
        failed = 0
        for name in dict.fromkeys(names):
            mailbox = Mailbox.objects.get(name=name)
            try:
                done = imap.mailbox_start_from_now(mailbox_id=mailbox.pk)
            except imap.MailboxPollError as exc:
                failed += 1
                self.stderr.write(self.style.ERROR(f"{name}: FAILED: {exc}"))
                continue
            if done.previous_uidvalidity is None:
                before = "never polled before"
            elif done.previous_uidvalidity != done.uidvalidity:
                before = (
                    f"was UIDVALIDITY {done.previous_uidvalidity}, last UID "
                    f"{done.previous_last_uid}"
                )
            else:
                before = f"was last UID {done.previous_last_uid}"
            self.stdout.write(
                f"{name}: starting from now: UIDVALIDITY {done.uidvalidity}, last UID "
                f"{done.last_uid} ({before}); {done.existing} message(s) in "
                f"{mailbox.imap_folder!r} skipped, nothing imported. The next poll fetches "
                "only newer mail."
            )
        if failed:
            raise CommandError(f"{failed} of {len(set(names))} mailboxes failed.")
