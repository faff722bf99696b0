"""The IMAP poller against a real Dovecot (tests/servers.py): what it records, what it remembers,
and what a poll killed half-way, a recreated folder or a wrong password do.

Runs wherever ``dovecot`` is installed (both passes of scripts/test.sh); skipped elsewhere,
except under CI=true, where a missing Dovecot fails.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.management import CommandError, call_command

from channels_app.email import imap
from channels_app.models import InboundMessage, Mailbox
from tests.servers import DovecotServer, dovecot_running

pytestmark = pytest.mark.django_db

PASSWORD_ENV = "TEST_IMAP_PASSWORD"


@pytest.fixture(scope="module")
def dovecot() -> Iterator[DovecotServer]:
    with dovecot_running() as server:
        yield server


@pytest.fixture
def folder(dovecot: DovecotServer) -> str:
    """A fresh folder on the server for this test only."""
    return dovecot.new_folder()


@pytest.fixture(autouse=True)
def _password(dovecot: DovecotServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, dovecot.password)


def make_mailbox(dovecot: DovecotServer, folder: str, name: str = "rates", **kwargs) -> Mailbox:
    fields = {
        "address": f"{name}@kommun.example",
        "imap_host": dovecot.host,
        "imap_port": dovecot.port,
        "imap_ssl": False,
        "imap_user": dovecot.user,
        "imap_password_env": PASSWORD_ENV,
        "imap_folder": folder,
    }
    return Mailbox.objects.create(name=name, **{**fields, **kwargs})


def mail(n: int, *, message_id: bool = True) -> bytes:
    header = f"Message-ID: <msg-{n}@resident.example>\r\n" if message_id else ""
    return (
        f"{header}From: Anna Andersson <anna@resident.example>\r\n"
        f"To: rates@kommun.example\r\nSubject: Fraga {n}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Hej, fraga nummer {n}.\r\n"
    ).encode()


def recorded(mailbox: Mailbox) -> list[str]:
    return sorted(
        InboundMessage.objects.filter(source=f"email:{mailbox.name}").values_list(
            "external_id", flat=True
        )
    )


def test_it_records_three_messages_and_remembers_the_last_uid(dovecot, folder):
    # Given three messages in the folder, one without a Message-ID
    uids = [dovecot.deliver(mail(n, message_id=n != 3), folder=folder) for n in (1, 2, 3)]
    mailbox = make_mailbox(dovecot, folder)

    # When the mailbox is polled
    result = imap.mailbox_poll(mailbox_id=mailbox.pk)

    # Then each is one raw inbound message, and the poll remembers how far it got
    assert result == imap.PollResult(fetched=3, recorded=3, duplicates=0)
    ids = recorded(mailbox)
    assert ids[:2] == ["msg-1@resident.example", "msg-2@resident.example"]
    assert ids[2] == imap.email_external_id(mail(3, message_id=False))
    message = InboundMessage.objects.get(external_id="msg-2@resident.example")
    assert bytes(message.raw) == mail(2)
    assert message.channel == "email"
    mailbox.refresh_from_db()
    assert mailbox.last_uid == uids[-1] == 3
    assert mailbox.uidvalidity == dovecot.uidvalidity(folder)
    # and the mail on the server is untouched: still unread
    assert all(b"\\Seen" not in flags for flags in dovecot.flags(folder).values())


def test_a_second_poll_records_nothing_new(dovecot, folder):
    for n in (1, 2, 3):
        dovecot.deliver(mail(n), folder=folder)
    mailbox = make_mailbox(dovecot, folder)
    imap.mailbox_poll(mailbox_id=mailbox.pk)

    # Dovecot answers "UID 4:*" with UID 3 (the highest): it must not be fetched again
    again = imap.mailbox_poll(mailbox_id=mailbox.pk)

    assert again == imap.PollResult(fetched=0, recorded=0, duplicates=0)
    assert InboundMessage.objects.count() == 3

    # and a new message is the only one the next poll fetches
    dovecot.deliver(mail(4), folder=folder)
    assert imap.mailbox_poll(mailbox_id=mailbox.pk) == imap.PollResult(
        fetched=1, recorded=1, duplicates=0
    )
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 4


class Killed(BaseException):
    """Stands for the process dying (not an Exception: nothing may catch it)."""


def test_a_poll_killed_half_way_loses_and_duplicates_nothing(dovecot, folder, monkeypatch):
    for n in (1, 2, 3):
        dovecot.deliver(mail(n), folder=folder)
    mailbox = make_mailbox(dovecot, folder)
    real_advance = imap._advance
    calls = []

    def advance_then_die_on_the_second(*args):
        calls.append(args)
        if len(calls) == 2:
            raise Killed  # inside the second chunk's transaction, its rows already inserted
        return real_advance(*args)

    # Given a poll recording one message per chunk that dies while committing the second
    monkeypatch.setattr(imap, "RECORD_CHUNK", 1)
    monkeypatch.setattr(imap, "_advance", advance_then_die_on_the_second)
    with pytest.raises(Killed):
        imap.mailbox_poll(mailbox_id=mailbox.pk)
    # Then the first chunk is recorded and remembered, the second neither
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 1
    assert recorded(mailbox) == ["msg-1@resident.example"]

    # When the next poll runs normally
    monkeypatch.setattr(imap, "_advance", real_advance)
    result = imap.mailbox_poll(mailbox_id=mailbox.pk)

    # Then it fetches from UID 2 on and records each mail once
    assert result == imap.PollResult(fetched=2, recorded=2, duplicates=0)
    assert recorded(mailbox) == [f"msg-{n}@resident.example" for n in (1, 2, 3)]
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 3


def test_mail_fetched_again_is_a_duplicate_not_a_second_row(dovecot, folder):
    # Given a poll that recorded two mails, and last_uid lost (a second poller's old view)
    for n in (1, 2):
        dovecot.deliver(mail(n), folder=folder)
    mailbox = make_mailbox(dovecot, folder)
    imap.mailbox_poll(mailbox_id=mailbox.pk)
    Mailbox.objects.filter(pk=mailbox.pk).update(last_uid=0)
    dovecot.deliver(mail(3), folder=folder)

    # When it polls again
    result = imap.mailbox_poll(mailbox_id=mailbox.pk)

    # Then the known ones are duplicates and the new one is recorded
    assert result == imap.PollResult(fetched=3, recorded=1, duplicates=2)
    assert recorded(mailbox) == [f"msg-{n}@resident.example" for n in (1, 2, 3)]


def test_a_new_uidvalidity_makes_it_read_the_folder_again(dovecot, folder):
    # Given a mailbox polled up to UID 2
    dovecot.deliver(mail(1), folder=folder)
    dovecot.deliver(mail(2), folder=folder)
    mailbox = make_mailbox(dovecot, folder)
    imap.mailbox_poll(mailbox_id=mailbox.pk)
    old_validity = dovecot.uidvalidity(folder)

    # When the folder is recreated (new UIDVALIDITY) and refilled: a new mail first (UID 1,
    # below our last_uid), then the two old ones again (UIDs 2 and 3)
    dovecot.recreate_folder(folder)
    assert dovecot.deliver(mail(9), folder=folder) == 1
    dovecot.deliver(mail(1), folder=folder)
    dovecot.deliver(mail(2), folder=folder)
    assert dovecot.uidvalidity(folder) != old_validity
    result = imap.mailbox_poll(mailbox_id=mailbox.pk)

    # Then the new mail is recorded, the old ones are recognised, and the new numbering is kept
    assert result == imap.PollResult(fetched=3, recorded=1, duplicates=2, uidvalidity_reset=True)
    assert recorded(mailbox) == [f"msg-{n}@resident.example" for n in (1, 2, 9)]
    mailbox.refresh_from_db()
    assert (mailbox.uidvalidity, mailbox.last_uid) == (dovecot.uidvalidity(folder), 3)


def test_a_wrong_password_fails_that_mailbox_and_the_others_are_polled(
    dovecot, folder, monkeypatch
):
    dovecot.deliver(mail(1), folder=folder)
    monkeypatch.setenv("WRONG_IMAP_PASSWORD", "not-the-password")
    make_mailbox(dovecot, folder, name="a-wrong", imap_password_env="WRONG_IMAP_PASSWORD")
    make_mailbox(dovecot, folder, name="b-unset", imap_password_env="UNSET_IMAP_PASSWORD")
    good = make_mailbox(dovecot, folder, name="c-good")
    make_mailbox(dovecot, folder, name="d-off", active=False)
    make_mailbox(dovecot, folder, name="e-piped", imap_host="")

    outcomes = {o.name: o for o in imap.mailboxes_poll()}

    assert set(outcomes) == {"a-wrong", "b-unset", "c-good"}
    assert outcomes["a-wrong"].result is None
    assert "login as 'intake'" in outcomes["a-wrong"].error
    assert "AUTHENTICATIONFAILED" in outcomes["a-wrong"].error
    assert "UNSET_IMAP_PASSWORD" in outcomes["b-unset"].error
    assert outcomes["c-good"].result == imap.PollResult(fetched=1, recorded=1, duplicates=0)
    assert recorded(good) == ["msg-1@resident.example"]
    assert InboundMessage.objects.count() == 1


def test_the_command_says_what_it_did_per_mailbox(dovecot, folder, monkeypatch, capsys):
    dovecot.deliver(mail(1), folder=folder)
    dovecot.deliver(mail(2), folder=folder)
    monkeypatch.setenv("WRONG_IMAP_PASSWORD", "nope")
    make_mailbox(dovecot, folder, name="rates")
    make_mailbox(dovecot, folder, name="permits", imap_password_env="WRONG_IMAP_PASSWORD")

    with pytest.raises(CommandError, match="1 of 2 mailboxes failed"):
        call_command("poll_mailboxes")
    out, err = capsys.readouterr()
    assert "rates: 2 fetched, 2 recorded, 0 already known" in out
    assert "permits: FAILED: Mailbox 'permits': login as 'intake'" in err

    call_command("poll_mailboxes", "--mailbox", "rates")
    assert "rates: 0 fetched, 0 recorded, 0 already known" in capsys.readouterr().out

    with pytest.raises(CommandError, match="named: nosuch"):
        call_command("poll_mailboxes", "--mailbox", "nosuch")


# --- start from now: the first poll of a mailbox with history ---------------------------------
def test_start_from_now_skips_the_history_and_the_next_poll_fetches_only_new_mail(
    dovecot, folder, capsys
):
    # Given a mailbox whose folder already holds three old messages, never polled
    for n in (1, 2, 3):
        dovecot.deliver(mail(n), folder=folder)
    mailbox = make_mailbox(dovecot, folder)

    # When the operator starts it from now
    call_command("poll_mailboxes", "--mailbox", "rates", "--start-from-now")

    # Then nothing is imported, the folder's position is remembered, and the command says so
    out = capsys.readouterr().out
    uidvalidity = dovecot.uidvalidity(folder)
    assert out.strip() == (
        f"rates: starting from now: UIDVALIDITY {uidvalidity}, last UID 3 (never polled "
        f"before); 3 message(s) in '{folder}' skipped, nothing imported. The next poll fetches "
        "only newer mail."
    )
    assert InboundMessage.objects.count() == 0
    mailbox.refresh_from_db()
    assert (mailbox.uidvalidity, mailbox.last_uid) == (uidvalidity, 3)
    # and the server's mail is untouched
    assert all(b"\\Seen" not in flags for flags in dovecot.flags(folder).values())

    # When new mail arrives and the mailbox is polled, only that mail is recorded
    dovecot.deliver(mail(4), folder=folder)
    assert imap.mailbox_poll(mailbox_id=mailbox.pk) == imap.PollResult(
        fetched=1, recorded=1, duplicates=0
    )
    assert recorded(mailbox) == ["msg-4@resident.example"]


def test_start_from_now_on_an_empty_folder_and_never_backwards(dovecot, folder, capsys):
    mailbox = make_mailbox(dovecot, folder)
    result = imap.mailbox_start_from_now(mailbox_id=mailbox.pk)
    assert (result.last_uid, result.existing, result.previous_uidvalidity) == (0, 0, None)

    # A poll that got further (its numbering the same) is not moved back
    dovecot.deliver(mail(1), folder=folder)
    dovecot.deliver(mail(2), folder=folder)
    imap.mailbox_poll(mailbox_id=mailbox.pk)
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 2
    call_command("poll_mailboxes", "--mailbox", "rates", "--start-from-now")
    assert "(was last UID 2)" in capsys.readouterr().out
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 2


def test_start_from_now_after_the_folder_was_recreated(dovecot, folder, capsys):
    # Given a mailbox that remembers a UIDVALIDITY the server no longer has
    mailbox = make_mailbox(dovecot, folder, uidvalidity=1, last_uid=99)
    dovecot.deliver(mail(1), folder=folder)

    call_command("poll_mailboxes", "--mailbox", "rates", "--start-from-now")

    mailbox.refresh_from_db()
    assert (mailbox.uidvalidity, mailbox.last_uid) == (dovecot.uidvalidity(folder), 1)
    assert "(was UIDVALIDITY 1, last UID 99)" in capsys.readouterr().out
    assert imap.mailbox_poll(mailbox_id=mailbox.pk).fetched == 0


def test_start_from_now_needs_a_mailbox_and_reports_failures(dovecot, folder, monkeypatch):
    with pytest.raises(CommandError, match="needs --mailbox"):
        call_command("poll_mailboxes", "--start-from-now")
    with pytest.raises(CommandError, match="named: nosuch"):
        call_command("poll_mailboxes", "--mailbox", "nosuch", "--start-from-now")
    monkeypatch.setenv("WRONG_IMAP_PASSWORD", "nope")
    mailbox = make_mailbox(dovecot, folder, imap_password_env="WRONG_IMAP_PASSWORD")
    with pytest.raises(CommandError, match="1 of 1 mailboxes failed"):
        call_command("poll_mailboxes", "--mailbox", "rates", "--start-from-now")
    mailbox.refresh_from_db()
    assert (mailbox.uidvalidity, mailbox.last_uid) == (None, 0)
