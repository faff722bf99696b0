"""E-mail intake by IMAP polling: copy new mail of each mailbox into ``InboundMessage`` rows.

The poller is read-only: the folder is opened with EXAMINE and bodies are fetched with
``BODY.PEEK[]``, so nothing is marked read, moved or deleted on the server.

How far a poll got is remembered per mailbox as ``(uidvalidity, last_uid)``:

* messages are fetched one by one in UID order and recorded in chunks (``RECORD_CHUNK``): one
  transaction inserts the chunk's rows (``INSERT ... ON CONFLICT DO NOTHING``) and advances
  ``last_uid`` past it, by a conditional UPDATE that never moves it backwards, and enqueues
  one batch task for the chunk on commit (ADR 0015). A poll killed half-way therefore resumes
  after the last chunk it committed: nothing lost. A chunk fetched again (killed before its
  commit, or a second poller) is stopped by the inbound key ``(channel, source,
  external_id)``: nothing duplicated.
* when the server's UIDVALIDITY differs from the remembered one (folder recreated, server
  migrated), the old UIDs mean nothing: we start again from UID 1 and let the inbound key drop
  what we already have.
* two pollers running at once (a slow poll overlapping the next beat, a manual
  ``poll_mailboxes`` beside the worker) may both fetch a message; the inbound key keeps it one
  row, and ``last_uid`` only moves forward. No lock is needed, only wasted fetches.
* a mailbox that already holds old mail is started with ``mailbox_start_from_now``
  (``poll_mailboxes --start-from-now``): it records the UIDVALIDITY and the highest UID without
  fetching anything, so the first poll does not turn years of mail into cases.

The IMAP password is never stored: ``Mailbox.imap_password_env`` names the environment
variable that holds it.
"""

from __future__ import annotations

import base64
import contextlib
import imaplib
import ipaddress
import logging
import os
import re
import ssl
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from cases.choices import Channel
from channels_app import intake
from channels_app.email.parse import external_id_for
from channels_app.models import Mailbox

logger = logging.getLogger(__name__)

# Seconds for connecting and for each read on the socket.
IMAP_TIMEOUT = 30
# A poll stops after this many messages; the next poll goes on from there. Keeps one poll of a
# mailbox with a large backlog well inside the beat interval (overlap is safe, only wasteful).
MAX_MESSAGES_PER_POLL = 200
# Fetched mail is recorded in chunks of this many messages (or this many bytes, whichever comes
# first): one transaction, one multi-row INSERT and one batch task per chunk, and a bounded
# amount of mail held in memory.
RECORD_CHUNK = intake.BATCH_SIZE
RECORD_CHUNK_BYTES = 32 * 1024 * 1024


class MailboxPollError(Exception):
    """A mailbox could not be polled (configuration, connection, login, folder). The message
    says which mailbox and what to fix; other mailboxes are not affected."""


@dataclass(frozen=True)
class PollResult:
    """What one poll of one mailbox did. ``remaining``: new messages left for the next poll."""

    fetched: int
    recorded: int
    duplicates: int
    uidvalidity_reset: bool = False
    remaining: int = 0


@dataclass(frozen=True)
class MailboxOutcome:
    """One mailbox in a poll of several: a result, or the error that stopped it."""

    name: str
    result: PollResult | None = None
    error: str = ""


def email_external_id(raw: bytes) -> str:
    """The inbound key of a raw mail: Message-ID without <>, else ``sha256:<hex of the bytes>``.

    The same rule as mail piped in by the ingest command (it is the parser's), so one mail that
    arrives both ways is one row.
    """
    return external_id_for(raw)


def email_source(mailbox: Mailbox) -> str:
    return f"email:{mailbox.name}"


# --- polling ---------------------------------------------------------------------------------
def mailbox_poll(*, mailbox_id: int, limit: int = MAX_MESSAGES_PER_POLL) -> PollResult:
    """Record the mailbox's new messages; raises ``MailboxPollError`` with a clear reason.

    Messages recorded before an error stay recorded and ``last_uid`` covers them.
    """
    mailbox = Mailbox.objects.get(pk=mailbox_id)
    if not mailbox.imap_host:
        raise MailboxPollError(f"Mailbox {mailbox.name!r} has no IMAP host.")
    password = _password(mailbox)
    conn = _connect(mailbox)
    try:
        _login(conn, mailbox, password)
        return _poll(conn, mailbox, limit=limit)
    except (imaplib.IMAP4.error, OSError) as exc:
        # imaplib.IMAP4.abort (connection lost) is an IMAP4.error; timeouts are OSErrors.
        raise MailboxPollError(
            f"Mailbox {mailbox.name!r}: IMAP error at {_where(mailbox)}: {_text(exc)}"
        ) from exc
    finally:
        _logout(conn)


@dataclass(frozen=True)
class StartFromNow:
    """What ``mailbox_start_from_now`` recorded: the folder's UIDVALIDITY, the UID the next
    poll continues after, how many messages are in the folder (none of them imported), and
    where the mailbox stood before (``None``: never polled)."""

    uidvalidity: int
    last_uid: int
    existing: int
    previous_uidvalidity: int | None
    previous_last_uid: int


def mailbox_start_from_now(*, mailbox_id: int) -> StartFromNow:
    """Make the next poll fetch only mail that arrives from now on, importing nothing.

    Without this, the first poll of a mailbox that already holds years of mail would make every
    old message a case (and acknowledge each one). This reads the folder's UIDVALIDITY and its
    highest UID (read-only, like a poll) and records both, so the poll continues after it.
    ``last_uid`` never moves back for the same UIDVALIDITY: a poll that ran meanwhile keeps
    its progress. Raises ``MailboxPollError`` like a poll.
    """
    mailbox = Mailbox.objects.get(pk=mailbox_id)
    if not mailbox.imap_host:
        raise MailboxPollError(f"Mailbox {mailbox.name!r} has no IMAP host.")
    password = _password(mailbox)
    conn = _connect(mailbox)
    try:
        _login(conn, mailbox, password)
        _examine(conn, mailbox)
        uidvalidity = _uidvalidity(conn, mailbox)
        typ, data = conn.uid("SEARCH", "ALL")
        if typ != "OK":
            raise MailboxPollError(f"Mailbox {mailbox.name!r}: UID SEARCH failed: {_text(data)}")
    except (imaplib.IMAP4.error, OSError) as exc:
        raise MailboxPollError(
            f"Mailbox {mailbox.name!r}: IMAP error at {_where(mailbox)}: {_text(exc)}"
        ) from exc
    finally:
        _logout(conn)
    uids = [int(token) for token in b" ".join(d for d in data if d).split()]
    highest = max(uids, default=0)
    with transaction.atomic():
        current = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
        last_uid = highest
        if current.uidvalidity == uidvalidity:
            last_uid = max(current.last_uid, highest)
        Mailbox.objects.filter(pk=mailbox.pk).update(uidvalidity=uidvalidity, last_uid=last_uid)
    return StartFromNow(
        uidvalidity=uidvalidity,
        last_uid=last_uid,
        existing=len(uids),
        previous_uidvalidity=current.uidvalidity,
        previous_last_uid=current.last_uid,
    )


def mailboxes_poll(*, names: Iterable[str] | None = None) -> list[MailboxOutcome]:
    """Poll every active mailbox with an IMAP host (or only those named), one after another.

    A mailbox that fails is reported and logged; the others are polled all the same.
    """
    mailboxes = Mailbox.objects.filter(active=True).exclude(imap_host="").order_by("name")
    if names is not None:
        mailboxes = mailboxes.filter(name__in=list(names))
    outcomes = []
    for mailbox in mailboxes:
        try:
            result = mailbox_poll(mailbox_id=mailbox.pk)
        except MailboxPollError as exc:
            logger.warning("%s", exc)
            outcomes.append(MailboxOutcome(name=mailbox.name, error=str(exc)))
        except Exception as exc:  # a bug or a database error must not stop the other mailboxes
            logger.exception("Polling mailbox %s failed", mailbox.name)
            outcomes.append(MailboxOutcome(name=mailbox.name, error=f"{type(exc).__name__}: {exc}"))
        else:
            outcomes.append(MailboxOutcome(name=mailbox.name, result=result))
    return outcomes


def _examine(conn: imaplib.IMAP4, mailbox: Mailbox) -> None:
    # EXAMINE (readonly): the poll can change nothing in the folder, not even \Recent.
    typ, data = conn.select(imap_quote(mailbox.imap_folder), readonly=True)
    if typ != "OK":
        raise MailboxPollError(
            f"Mailbox {mailbox.name!r}: folder {mailbox.imap_folder!r} cannot be opened at "
            f"{_where(mailbox)}: {_text(data)}"
        )


def _poll(conn: imaplib.IMAP4, mailbox: Mailbox, *, limit: int) -> PollResult:
    _examine(conn, mailbox)
    uidvalidity = _uidvalidity(conn, mailbox)
    last_uid, reset = _sync_uidvalidity(mailbox, uidvalidity)

    typ, data = conn.uid("SEARCH", f"UID {last_uid + 1}:*")
    if typ != "OK":
        raise MailboxPollError(f"Mailbox {mailbox.name!r}: UID SEARCH failed: {_text(data)}")
    # "n:*" always matches the highest UID in the folder, even when it is below n (RFC 3501
    # 6.4.8: "*" is the largest UID in use, and n:* is the same as *:n): keep only newer ones.
    uids = sorted({int(token) for token in b" ".join(d for d in data if d).split()})
    uids = [uid for uid in uids if uid > last_uid]
    batch = uids[:limit]

    fetched = recorded = duplicates = 0
    source = email_source(mailbox)
    chunk: list[bytes] = []
    size = 0
    previous = last_uid
    for index, uid in enumerate(batch):
        raw = _fetch(conn, uid)
        if raw is None:
            # No body for this UID. Only a UID that no longer exists (expunged since the
            # SEARCH) may be passed; anything else stops the poll before it, nothing lost.
            logger.warning("Mailbox %s: UID FETCH %s returned no message body", mailbox.name, uid)
            if _uid_exists(conn, mailbox, uid):
                if chunk or previous > last_uid:
                    added, known = _record(mailbox.pk, source, uidvalidity, chunk, previous)
                    recorded += added
                    duplicates += known
                raise MailboxPollError(
                    f"Mailbox {mailbox.name!r}: UID {uid} exists but UID FETCH returned an "
                    f"unexpected response; the poll stops before it and retries next time."
                )
            logger.warning("Mailbox %s: UID %s was expunged; skipping it", mailbox.name, uid)
        else:
            fetched += 1
            chunk.append(raw)
            size += len(raw)
        previous = uid
        last = index == len(batch) - 1
        if last or len(chunk) >= RECORD_CHUNK or size >= RECORD_CHUNK_BYTES:
            added, known = _record(mailbox.pk, source, uidvalidity, chunk, uid)
            recorded += added
            duplicates += known
            chunk, size = [], 0
    return PollResult(
        fetched=fetched,
        recorded=recorded,
        duplicates=duplicates,
        uidvalidity_reset=reset,
        remaining=len(uids) - len(batch),
    )


def _record(
    mailbox_id: int, source: str, uidvalidity: int, raws: list[bytes], up_to_uid: int
) -> tuple[int, int]:
    """Record a chunk of fetched mail and move ``last_uid`` to ``up_to_uid`` in ONE
    transaction: either both are committed or neither (a poll killed here fetches the chunk
    again next time; the inbound key would stop duplicates anyway). One batch task processes
    the chunk after commit. Returns ``(recorded, duplicates)``."""
    with transaction.atomic():
        items = [(email_external_id(raw), raw) for raw in raws]
        _ids, known = intake.inbound_record_many(channel=Channel.EMAIL, source=source, items=items)
        _advance(mailbox_id, uidvalidity, up_to_uid)
    return len(items) - known, known


def _sync_uidvalidity(mailbox: Mailbox, uidvalidity: int) -> tuple[int, bool]:
    """The UID to continue after, and whether we had to start again."""
    if mailbox.uidvalidity == uidvalidity:
        return mailbox.last_uid, False
    if mailbox.uidvalidity is not None:
        logger.warning(
            "Mailbox %s: UIDVALIDITY changed from %s to %s; reading the folder again from the "
            "start (messages already recorded are skipped by their key)",
            mailbox.name,
            mailbox.uidvalidity,
            uidvalidity,
        )
    # Conditional: of two pollers seeing the change, the second one changes nothing.
    Mailbox.objects.filter(pk=mailbox.pk).exclude(uidvalidity=uidvalidity).update(
        uidvalidity=uidvalidity, last_uid=0
    )
    last_uid = Mailbox.objects.filter(pk=mailbox.pk).values_list("last_uid", flat=True).get()
    return last_uid, mailbox.uidvalidity is not None


def _advance(mailbox_id: int, uidvalidity: int, uid: int) -> None:
    """Move last_uid forward only: a slower concurrent poller cannot move it back, and a poller
    that still holds an old UIDVALIDITY cannot write UIDs of the old numbering."""
    Mailbox.objects.filter(pk=mailbox_id, uidvalidity=uidvalidity, last_uid__lt=uid).update(
        last_uid=uid
    )


def _uid_exists(conn: imaplib.IMAP4, mailbox: Mailbox, uid: int) -> bool:
    """Whether the folder still holds ``uid`` (``UID SEARCH UID <uid>``: a single UID, not a
    range, so the highest UID is not added as with ``n:*``)."""
    typ, data = conn.uid("SEARCH", f"UID {uid}")
    if typ != "OK":
        raise MailboxPollError(f"Mailbox {mailbox.name!r}: UID SEARCH failed: {_text(data)}")
    found = {int(token) for token in b" ".join(d for d in data if d).split()}
    return uid in found


def _fetch(conn: imaplib.IMAP4, uid: int) -> bytes | None:
    typ, data = conn.uid("FETCH", str(uid), "(BODY.PEEK[])")
    if typ != "OK":
        raise imaplib.IMAP4.error(f"UID FETCH {uid} failed: {_text(data)}")
    # [(b'7 (UID 42 BODY[] {1234}', b'<raw>'), b')']; other FETCH responses (flags changed by
    # another client) may be mixed in, so pick the one with a body for our UID.
    for item in data:
        if not isinstance(item, tuple) or len(item) < 2:
            continue
        head = item[0]
        if b"BODY[]" not in head:
            continue
        match = re.search(rb"UID (\d+)", head)
        if match and int(match.group(1)) != uid:
            continue
        return bytes(item[1])
    return None


# --- connection ------------------------------------------------------------------------------
def _password(mailbox: Mailbox) -> str:
    if not mailbox.imap_password_env:
        raise MailboxPollError(
            f"Mailbox {mailbox.name!r} names no environment variable for its IMAP password "
            "(imap_password_env)."
        )
    password = os.environ.get(mailbox.imap_password_env)
    if not password:
        raise MailboxPollError(
            f"Mailbox {mailbox.name!r}: the environment variable "
            f"{mailbox.imap_password_env} (its IMAP password) is not set."
        )
    return password


def is_loopback_host(host: str) -> bool:
    """``localhost`` or a loopback address (127.0.0.0/8, ::1); names are not resolved."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _connect(mailbox: Mailbox) -> imaplib.IMAP4:
    """IMAPS when ``imap_ssl``; otherwise plain IMAP that must be upgraded with STARTTLS before
    the password is sent. Only a loopback host (a local test server) may go without TLS.
    Certificates are always verified."""
    try:
        if mailbox.imap_ssl:
            return imaplib.IMAP4_SSL(
                mailbox.imap_host,
                mailbox.imap_port,
                ssl_context=ssl.create_default_context(),
                timeout=IMAP_TIMEOUT,
            )
        conn = imaplib.IMAP4(mailbox.imap_host, mailbox.imap_port, timeout=IMAP_TIMEOUT)
        if "STARTTLS" in conn.capabilities:
            conn.starttls(ssl_context=ssl.create_default_context())
        elif not is_loopback_host(mailbox.imap_host):
            _logout(conn)
            raise MailboxPollError(
                f"Mailbox {mailbox.name!r}: {_where(mailbox)} offers no STARTTLS; refusing to "
                "send the password without TLS (use IMAPS, or a server that offers STARTTLS)."
            )
        return conn
    except (imaplib.IMAP4.error, OSError) as exc:
        raise MailboxPollError(
            f"Mailbox {mailbox.name!r}: cannot connect to {_where(mailbox)}: {_text(exc)}"
        ) from exc


def _login(conn: imaplib.IMAP4, mailbox: Mailbox, password: str) -> None:
    user = mailbox.imap_user or mailbox.address
    try:
        conn.login(user, password)
    except imaplib.IMAP4.error as exc:
        raise MailboxPollError(
            f"Mailbox {mailbox.name!r}: login as {user!r} at {_where(mailbox)} failed "
            f"(check the user and {mailbox.imap_password_env}): {_text(exc)}"
        ) from exc


def _logout(conn: imaplib.IMAP4) -> None:
    # The poll's outcome is decided by now; a failed goodbye is not news.
    with contextlib.suppress(Exception):
        conn.logout()


def _uidvalidity(conn: imaplib.IMAP4, mailbox: Mailbox) -> int:
    _typ, data = conn.response("UIDVALIDITY")
    try:
        return int(data[-1])
    except (TypeError, ValueError, IndexError):
        raise MailboxPollError(
            f"Mailbox {mailbox.name!r}: the server sent no UIDVALIDITY for "
            f"{mailbox.imap_folder!r}; cannot remember where the poll stopped."
        ) from None


def _where(mailbox: Mailbox) -> str:
    return f"{mailbox.imap_host}:{mailbox.imap_port}"


def _text(value: object) -> str:
    if isinstance(value, BaseException) and value.args:
        value = value.args[0]
    if isinstance(value, list):
        value = b" ".join(v for v in value if isinstance(v, bytes))
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


# --- folder names ----------------------------------------------------------------------------
def imap_quote(folder: str) -> str:
    """A folder name as an IMAP quoted string, non-ASCII in modified UTF-7 (RFC 3501 5.1.3):
    imaplib sends arguments as they are, and "Inkorg/Ärenden" needs both."""
    encoded = imap_utf7(folder)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def imap_utf7(text: str) -> str:
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            data = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for ch in text:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)
