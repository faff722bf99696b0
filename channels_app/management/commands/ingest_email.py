"""Read one raw e-mail on stdin (piped by the mail server) and turn it into case work.

    python manage.py ingest_email --mailbox kontakt < message.eml

Prints the case reference; ``ignored: <reason>`` for auto-replies and bounces (exit 0);
``quarantined: <reason>`` (exit 1). When the message cannot even be recorded (database down,
unknown mailbox) it exits 75, EX_TEMPFAIL, so Postfix/Exim keep the mail and retry.

It lives with ``poll_mailboxes`` in channels_app: the two ways mail comes in.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandParser

from cases.choices import Channel
from channels_app import intake
from channels_app.email.parse import external_id_for
from channels_app.models import InboundStatus, Mailbox

EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Record and process one raw e-mail read from standard input."
    stealth_options = ("stdin",)  # tests pass a binary stream instead of sys.stdin

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--mailbox", required=True, help="Name of the Mailbox it arrived in.")

    def handle(self, *args: object, **options: object) -> None:
        name = str(options["mailbox"])
        stdin = options.get("stdin") or sys.stdin.buffer
        raw = stdin.read()
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            if not Mailbox.objects.filter(name=name).exists():
                self.stderr.write(f"unknown mailbox: {name}")
                sys.exit(EX_TEMPFAIL)
            message, _created = intake.inbound_record(
                channel=Channel.EMAIL,
                source=f"email:{name}",
                external_id=external_id_for(raw),
                raw=raw,
                process=False,
            )
        except SystemExit:
            raise
        except Exception as exc:
            self.stderr.write(f"could not record the message: {type(exc).__name__}: {exc}")
            sys.exit(EX_TEMPFAIL)
        if message.status == InboundStatus.PENDING:
            message = intake.inbound_process(message_id=message.pk) or message
        message.refresh_from_db()
        if message.status == InboundStatus.PROCESSED and message.case is not None:
            self.stdout.write(message.case.reference or "")
        elif message.status == InboundStatus.IGNORED:
            self.stdout.write(f"ignored: {message.reason}")
        elif message.status == InboundStatus.QUARANTINED:
            self.stdout.write(f"quarantined: {message.reason}")
            sys.exit(1)
        else:
            # Another process holds it right now; it is recorded and will be processed.
            self.stdout.write(f"recorded: {message.status}")
