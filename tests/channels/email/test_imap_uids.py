"""The IMAP poller's UID bookkeeping, against an imaplib-like fake (the real server is in
test_imap_dovecot.py): which UIDs it asks for, in what order, and how far it remembers."""

from __future__ import annotations

import imaplib
from typing import Any

import pytest

from channels_app.email import imap
from channels_app.intake import raw_variant_key
from channels_app.models import InboundMessage, Mailbox

pytestmark = pytest.mark.django_db


def mail(n: int, *, message_id: bool = True) -> bytes:
    header = f"Message-ID: <m{n}@example.org>\r\n" if message_id else ""
    return f"{header}From: a@example.org\r\nSubject: {n}\r\n\r\nBody {n}\r\n".encode()


class FakeImap:
    """Answers like imaplib.IMAP4 does for the commands the poller sends."""

    error = imaplib.IMAP4.error
    abort = imaplib.IMAP4.abort

    def __init__(self, messages: dict[int, bytes], *, uidvalidity: int = 7) -> None:
        self.messages = messages
        self.uidvalidity = uidvalidity
        self.capabilities: tuple[str, ...] = ("IMAP4REV1",)
        self.commands: list[tuple[Any, ...]] = []
        self.vanish_on_fetch: set[int] = set()
        self.garbled_on_fetch: set[int] = set()
        self._responses: dict[str, list[Any]] = {}

    def login(self, user: str, password: str) -> tuple[str, list[bytes]]:
        self.commands.append(("LOGIN", user, password))
        return "OK", [b"Logged in"]

    def select(self, folder: str, readonly: bool = False) -> tuple[str, list[bytes]]:
        self.commands.append(("SELECT", folder, readonly))
        self._responses["UIDVALIDITY"] = [str(self.uidvalidity).encode()]
        return "OK", [str(len(self.messages)).encode()]

    def response(self, code: str) -> tuple[str, list[Any]]:
        return code, self._responses.pop(code, [None])

    def uid(self, command: str, *args: str) -> tuple[str, list[Any]]:
        self.commands.append(("UID", command, *args))
        if command == "SEARCH":
            spec = args[0].split()[1]
            if ":" not in spec:  # one UID: only that one, if it exists
                found = {int(spec)} & set(self.messages)
                return "OK", [" ".join(str(u) for u in sorted(found)).encode()]
            low = int(spec.split(":")[0])
            found = {u for u in self.messages if u >= low}
            if self.messages:
                found.add(max(self.messages))  # RFC 3501: "n:*" includes the highest UID
            return "OK", [" ".join(str(u) for u in sorted(found)).encode()]
        if command == "FETCH":
            uid = int(args[0])
            if uid in self.vanish_on_fetch:
                del self.messages[uid]  # expunged by another client just before the FETCH
            if uid in self.garbled_on_fetch or uid not in self.messages:
                return "OK", [None]
            raw = self.messages[uid]
            head = f"{uid} (UID {uid} BODY[] {{{len(raw)}}}".encode()
            return "OK", [(head, raw), b")"]
        raise AssertionError(command)

    def logout(self) -> tuple[str, list[bytes]]:
        self.commands.append(("LOGOUT",))
        return "BYE", [b""]

    def fetched(self) -> list[int]:
        return [int(c[2]) for c in self.commands if c[:2] == ("UID", "FETCH")]


@pytest.fixture
def mailbox(monkeypatch: pytest.MonkeyPatch) -> Mailbox:
    monkeypatch.setenv("FAKE_IMAP_PASSWORD", "pw")
    return Mailbox.objects.create(
        name="rates",
        address="rates@example.org",
        imap_host="imap.example.org",
        imap_user="rates",
        imap_password_env="FAKE_IMAP_PASSWORD",
    )


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> FakeImap:
    fake = FakeImap({1: mail(1), 2: mail(2), 5: mail(5)})
    monkeypatch.setattr(imap, "_connect", lambda mailbox: fake)
    return fake


def test_it_fetches_new_messages_in_uid_order_read_only(mailbox, server):
    result = imap.mailbox_poll(mailbox_id=mailbox.pk)

    assert result == imap.PollResult(fetched=3, recorded=3, duplicates=0)
    assert server.fetched() == [1, 2, 5]
    assert ("SELECT", '"INBOX"', True) in server.commands  # EXAMINE
    assert all(c[3] == "(BODY.PEEK[])" for c in server.commands if c[:2] == ("UID", "FETCH"))
    mailbox.refresh_from_db()
    assert (mailbox.uidvalidity, mailbox.last_uid) == (7, 5)
    assert set(InboundMessage.objects.values_list("source", "external_id")) == {
        ("email:rates", "m1@example.org"),
        ("email:rates", "m2@example.org"),
        ("email:rates", "m5@example.org"),
    }


def test_it_ignores_the_highest_uid_that_n_star_always_returns(mailbox, server):
    Mailbox.objects.filter(pk=mailbox.pk).update(uidvalidity=7, last_uid=5)

    result = imap.mailbox_poll(mailbox_id=mailbox.pk)

    assert ("UID", "SEARCH", "UID 6:*") in server.commands
    assert result == imap.PollResult(fetched=0, recorded=0, duplicates=0)
    assert server.fetched() == []


def test_it_continues_after_last_uid(mailbox, server):
    Mailbox.objects.filter(pk=mailbox.pk).update(uidvalidity=7, last_uid=1)

    result = imap.mailbox_poll(mailbox_id=mailbox.pk)

    assert server.fetched() == [2, 5]
    assert result.recorded == 2


def test_it_starts_again_when_uidvalidity_changed(mailbox, server):
    Mailbox.objects.filter(pk=mailbox.pk).update(uidvalidity=6, last_uid=99)

    result = imap.mailbox_poll(mailbox_id=mailbox.pk)

    assert result.uidvalidity_reset
    assert server.fetched() == [1, 2, 5]
    mailbox.refresh_from_db()
    assert (mailbox.uidvalidity, mailbox.last_uid) == (7, 5)


def test_it_passes_a_message_expunged_between_search_and_fetch(mailbox, server):
    server.vanish_on_fetch = {2}

    result = imap.mailbox_poll(mailbox_id=mailbox.pk)

    assert result == imap.PollResult(fetched=2, recorded=2, duplicates=0)
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 5


def test_an_expunged_uid_is_skipped_with_a_warning_after_search_confirms_it(
    mailbox, server, caplog
):
    # Given UID 2 is expunged between the SEARCH and its FETCH
    server.vanish_on_fetch = {2}
    # When the mailbox is polled
    with caplog.at_level("WARNING", logger="channels_app.email.imap"):
        result = imap.mailbox_poll(mailbox_id=mailbox.pk)
    # Then the poller asked whether UID 2 still exists, skipped it and went on
    assert ("UID", "SEARCH", "UID 2") in server.commands
    assert result == imap.PollResult(fetched=2, recorded=2, duplicates=0)
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 5
    assert "Mailbox rates: UID 2 was expunged; skipping it" in caplog.messages


def test_an_unexpected_fetch_response_for_an_existing_uid_stops_the_poll_before_it(
    mailbox, server, caplog
):
    # Given the server answers the FETCH of UID 2 without a body, although UID 2 exists
    server.garbled_on_fetch = {2}
    # When the mailbox is polled
    with (
        caplog.at_level("WARNING", logger="channels_app.email.imap"),
        pytest.raises(imap.MailboxPollError) as error,
    ):
        imap.mailbox_poll(mailbox_id=mailbox.pk)
    # Then the poll fails for that mailbox; UID 1 is recorded, last_uid stays before UID 2,
    # and neither UID 2 nor UID 5 is recorded (the next poll fetches them again)
    assert "Mailbox 'rates': UID 2 exists" in str(error.value)
    assert "Mailbox rates: UID FETCH 2 returned no message body" in caplog.messages
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 1
    assert list(InboundMessage.objects.values_list("external_id", flat=True)) == ["m1@example.org"]
    assert server.fetched() == [1, 2]


def test_it_stops_at_the_limit_and_says_what_is_left(mailbox, server):
    result = imap.mailbox_poll(mailbox_id=mailbox.pk, limit=2)

    assert result == imap.PollResult(fetched=2, recorded=2, duplicates=0, remaining=1)
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 2


def test_last_uid_never_moves_backwards(mailbox):
    # Given a faster poller already got to UID 9
    Mailbox.objects.filter(pk=mailbox.pk).update(uidvalidity=7, last_uid=9)
    # When a slower one records UID 5 (or one with an older UIDVALIDITY records 12)
    imap._advance(mailbox.pk, 7, 5)
    imap._advance(mailbox.pk, 6, 12)
    # Then nothing changed
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 9


def test_a_missing_password_variable_is_a_clear_error(mailbox, server, monkeypatch):
    monkeypatch.delenv("FAKE_IMAP_PASSWORD")

    with pytest.raises(imap.MailboxPollError, match=r"FAKE_IMAP_PASSWORD .* is not set"):
        imap.mailbox_poll(mailbox_id=mailbox.pk)
    assert server.commands == []


def test_plain_imap_upgrades_with_starttls_when_offered(mailbox, monkeypatch):
    made: list[FakeImap] = []

    def factory(host: str, port: int, timeout: float) -> FakeImap:
        fake = FakeImap({})
        fake.capabilities = ("IMAP4REV1", "STARTTLS")
        fake.starttls = lambda ssl_context: fake.commands.append(("STARTTLS",))  # type: ignore[attr-defined]
        made.append(fake)
        return fake

    monkeypatch.setattr(imap.imaplib, "IMAP4", factory)
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_ssl=False, imap_port=143)
    mailbox.refresh_from_db()

    imap._connect(mailbox)

    assert made[0].commands == [("STARTTLS",)]


def test_a_refused_connection_is_a_clear_error(mailbox):
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_host="127.0.0.1", imap_port=1, imap_ssl=False)

    with pytest.raises(imap.MailboxPollError, match=r"'rates': cannot connect to 127.0.0.1:1"):
        imap.mailbox_poll(mailbox_id=mailbox.pk)


def test_external_id_is_the_message_id_or_a_hash():
    assert imap.email_external_id(b"Message-ID:  <abc@x.org> \r\n\r\nhi") == "abc@x.org"
    no_id = mail(1, message_id=False)
    assert imap.email_external_id(no_id).startswith("sha256:")
    assert imap.email_external_id(no_id) == imap.email_external_id(no_id)
    assert imap.email_external_id(no_id) != imap.email_external_id(mail(2, message_id=False))


def test_folder_names_are_quoted_in_modified_utf7():
    assert imap.imap_quote("INBOX") == '"INBOX"'
    assert imap.imap_quote("Inkorg/Ärenden") == '"Inkorg/&AMQ-renden"'
    assert imap.imap_quote('A "b" & c') == '"A \\"b\\" &- c"'


def test_it_records_each_chunk_in_one_go_and_enqueues_one_batch_per_chunk(
    mailbox, server, monkeypatch, django_capture_on_commit_callbacks
):
    from channels_app import intake

    monkeypatch.setattr(imap, "RECORD_CHUNK", 2)
    calls: list[int] = []
    real = intake.inbound_record_many
    monkeypatch.setattr(
        intake,
        "inbound_record_many",
        lambda **kw: calls.append(len(kw["items"])) or real(**kw),
    )
    with django_capture_on_commit_callbacks() as callbacks:
        result = imap.mailbox_poll(mailbox_id=mailbox.pk)

    assert result == imap.PollResult(fetched=3, recorded=3, duplicates=0)
    assert calls == [2, 1]  # UIDs 1+2, then 5
    assert len(callbacks) == 2  # one inbound_process_batch_task per chunk
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 5


def test_a_chunk_whose_commit_fails_is_neither_recorded_nor_remembered(
    mailbox, server, monkeypatch
):
    monkeypatch.setattr(imap, "RECORD_CHUNK", 2)

    def advance_fails(*args):  # type: ignore[no-untyped-def]
        raise RuntimeError("database gone")

    monkeypatch.setattr(imap, "_advance", advance_fails)
    with pytest.raises(RuntimeError):
        imap.mailbox_poll(mailbox_id=mailbox.pk)

    assert not InboundMessage.objects.exists()
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 0


# --- no password without TLS ----------------------------------------------------------------
def _plain_server(monkeypatch: pytest.MonkeyPatch) -> list[FakeImap]:
    """imaplib.IMAP4 replaced by a fake that offers no STARTTLS."""
    made: list[FakeImap] = []

    def factory(host: str, port: int, timeout: float) -> FakeImap:
        fake = FakeImap({1: mail(1)})
        made.append(fake)
        return fake

    # The poller catches imaplib.IMAP4.error: the stand-in keeps the real exception classes.
    factory.error = imaplib.IMAP4.error  # type: ignore[attr-defined]
    factory.abort = imaplib.IMAP4.abort  # type: ignore[attr-defined]
    monkeypatch.setattr(imap.imaplib, "IMAP4", factory)
    return made


def test_plain_imap_without_starttls_on_a_remote_host_refuses_to_log_in(mailbox, monkeypatch):
    # Given a plain-IMAP mailbox on imap.example.org whose server offers no STARTTLS
    made = _plain_server(monkeypatch)
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_ssl=False, imap_port=143)
    # When it is polled
    with pytest.raises(imap.MailboxPollError) as raised:
        imap.mailbox_poll(mailbox_id=mailbox.pk)
    # Then it is refused by name, no LOGIN (no password) was sent, and nothing was recorded
    assert str(raised.value) == (
        "Mailbox 'rates': imap.example.org:143 offers no STARTTLS; refusing to send the "
        "password without TLS (use IMAPS, or a server that offers STARTTLS)."
    )
    assert made[0].commands == [("LOGOUT",)]
    assert not InboundMessage.objects.exists()
    mailbox.refresh_from_db()
    assert (mailbox.uidvalidity, mailbox.last_uid) == (None, 0)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.53", "::1", "localhost", "LOCALHOST."])
def test_plain_imap_without_starttls_is_allowed_on_a_loopback_host(mailbox, monkeypatch, host):
    # Given a plain-IMAP mailbox on a loopback host (the tests' Dovecot) without STARTTLS
    made = _plain_server(monkeypatch)
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_host=host, imap_ssl=False, imap_port=143)
    # When it is polled
    result = imap.mailbox_poll(mailbox_id=mailbox.pk)
    # Then it logs in and records the mail
    assert made[0].commands[0] == ("LOGIN", "rates", "pw")
    assert result == imap.PollResult(fetched=1, recorded=1, duplicates=0)


@pytest.mark.parametrize("host", ["127.example.org", "10.0.0.1", "::2", "localhost.evil.example"])
def test_only_loopback_hosts_count_as_loopback(host):
    assert imap.is_loopback_host(host) is False


# --- a reused Message-ID --------------------------------------------------------------------
def test_a_reused_message_id_with_different_mail_is_recorded_twice_in_one_poll(
    mailbox, monkeypatch
):
    # Given a fetch with two different mails under one Message-ID, and one of them twice
    first = b"Message-ID: <same@example.org>\r\nFrom: a@example.org\r\nSubject: A\r\n\r\nA\r\n"
    second = b"Message-ID: <same@example.org>\r\nFrom: b@example.org\r\nSubject: B\r\n\r\nB\r\n"
    fake = FakeImap({1: first, 2: second, 3: first})
    monkeypatch.setattr(imap, "_connect", lambda mailbox: fake)
    # When the mailbox is polled, and polled again from the start
    result = imap.mailbox_poll(mailbox_id=mailbox.pk)
    Mailbox.objects.filter(pk=mailbox.pk).update(last_uid=0)
    again = imap.mailbox_poll(mailbox_id=mailbox.pk)
    # Then the different mail has its own key, and the same mail is one record
    assert result == imap.PollResult(fetched=3, recorded=2, duplicates=1)
    assert again == imap.PollResult(fetched=3, recorded=0, duplicates=3)
    variant = raw_variant_key("same@example.org", second)
    assert sorted(InboundMessage.objects.values_list("external_id", "raw")) == sorted(
        [("same@example.org", first), (variant, second)]
    )
