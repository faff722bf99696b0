"""``manage.py ingest_email --mailbox NAME < message.eml``: output and exit codes."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from cases.models import Case
from tests.channels.email.conftest import CORPUS, SEED_REF, Seed

pytestmark = pytest.mark.django_db


def _run(name: str, mailbox: str = "kontakt") -> tuple[str, int]:
    out = io.StringIO()
    raw = (CORPUS / name).read_bytes() if name.endswith(".eml") else name.encode()
    try:
        call_command(
            "ingest_email", mailbox=mailbox, stdin=io.BytesIO(raw), stdout=out, stderr=io.StringIO()
        )
    except SystemExit as exc:
        return out.getvalue().strip(), int(exc.code or 0)
    return out.getvalue().strip(), 0


def test_the_command_lives_with_poll_mailboxes_in_channels_app() -> None:
    from django.core.management import get_commands

    commands = get_commands()
    assert commands["ingest_email"] == commands["poll_mailboxes"] == "channels_app"


def test_it_prints_the_new_cases_reference_and_again_for_a_duplicate(seed: Seed) -> None:
    first, code = _run("01-outlook-windows1252-qp.eml")
    case = Case.objects.exclude(pk=seed.case.pk).get()
    assert (first, code) == (case.reference, 0)
    assert _run("01-outlook-windows1252-qp.eml") == (case.reference, 0)
    assert Case.objects.count() == 2


def test_a_reply_prints_the_threaded_cases_reference(seed: Seed) -> None:
    assert _run("58-reply-to-our-receipt.eml") == (SEED_REF, 0)


def test_an_auto_reply_is_ignored_with_exit_zero(seed: Seed) -> None:
    out, code = _run("50-gmail-vacation.eml")
    assert out.startswith("ignored: Auto-reply") and code == 0


def test_a_quarantined_message_exits_non_zero(seed: Seed) -> None:
    out, code = _run("26-no-from.eml")
    assert out.startswith("quarantined: No usable sender") and code == 1


def test_an_unknown_mailbox_asks_the_mail_server_to_retry(seed: Seed) -> None:
    assert _run("01-outlook-windows1252-qp.eml", mailbox="nope") == ("", 75)
