"""The shared intake path: record raw, then process once; quarantine what cannot be processed.

Each channel registers a processor for its sources (``register("email", process_email)``); the
processor turns one ``InboundMessage`` into a case and a contact, or raises ``Quarantine``.
Processing is claimed with a conditional UPDATE (pending -> processing), so two workers (or a
task and the sweep) never process one message twice; the claim, the case work and the final
status are written in one transaction, so a crash half-way leaves the message pending for the
sweep and no half-made case.

Paths that answer with the result record and process one message: a form post and an Open311
POST in one transaction with ``inbound_receive``; ``ingest_email`` records first (its mail
server must get a temporary failure only when the mail is not stored) and then runs
``inbound_process``. Workers draining a queue (the IMAP poller's fetches, the sweep) use
``inbound_process_batch``: up to ``BATCH_SIZE`` messages claimed by one UPDATE and committed by
one COMMIT, each message isolated by a savepoint when one of them fails (ADR 0015).
"""

from __future__ import annotations

import datetime
import hashlib
import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cases.choices import Channel
from cases.models import Case, Contact
from channels_app.models import InboundMessage, InboundStatus
from common.exceptions import ApplicationError
from common.inserts import insert_together, preallocated_id
from common.transactions import (
    collect_grouped_enqueues,
    enqueue_on_commit,
    grouped_enqueue_on_commit,
)

logger = logging.getLogger(__name__)


class Quarantine(Exception):
    """Raised by a processor: keep the message, do not retry, tell a supervisor why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class IntakeResult:
    """What a processor made of a message. ``case`` is None for items that need no case
    (a bounce, an auto-reply): the message is then marked ignored."""

    case: Case | None
    contact: Contact | None = None
    note: str = ""
    # The message's new ``payload``, written with its status (no extra UPDATE), or None.
    payload: dict[str, Any] | None = None


Processor = Callable[[InboundMessage], IntakeResult]
_PROCESSORS: dict[str, Processor] = {}


# Grouping of after-commit tasks inside a batch lives in common.transactions (the case core
# uses it too); re-exported here for the channel adapters.
enqueue_on_commit_grouped = grouped_enqueue_on_commit


def register(kind: str, processor: Processor) -> None:
    """Register the processor for sources named ``<kind>`` or ``<kind>:<anything>``."""
    _PROCESSORS[kind] = processor


def _batch_preparer(message: InboundMessage) -> Callable[[list[InboundMessage]], None] | None:
    """A channel's optional ``prepare_batch(messages)`` (next to its ``process``): reads what
    a whole batch needs in one go (the e-mail processor: all senders' residents). Processors
    registered with ``register`` have none."""
    kind = message.source.split(":", 1)[0]
    if kind in _PROCESSORS or not kind.isidentifier():
        return None
    try:
        module = importlib.import_module(f"channels_app.{kind}.processor")
    except ModuleNotFoundError:
        return None
    return getattr(module, "prepare_batch", None)


def processor_for(message: InboundMessage) -> Processor | None:
    """The processor for the message's source kind: one registered with ``register``, or by
    convention ``channels_app.<kind>.processor.process`` (a channel is a folder)."""
    kind = message.source.split(":", 1)[0]
    if kind in _PROCESSORS:
        return _PROCESSORS[kind]
    if not kind.isidentifier():
        return None
    try:
        module = importlib.import_module(f"channels_app.{kind}.processor")
    except ModuleNotFoundError:
        return None
    return getattr(module, "process", None)


# Channels whose key is chosen by the sender (an e-mail's Message-ID): a sender may reuse it for
# different content, which must not be dropped as a duplicate (see ``raw_variant_key``).
SENDER_KEYED_CHANNELS = frozenset({Channel.EMAIL})
VARIANT_DIGEST_CHARS = 16


def _digest(raw: bytes) -> str:
    """Digest of the content, not of the transport: what follows the header block. A mail that
    comes again with one more ``Received:`` header (a redelivery, or the same mail through IMAP
    and through the pipe) is the same mail; a different body under a reused Message-ID is not."""
    normalised = raw.replace(b"\r\n", b"\n")
    _headers, blank, body = normalised.partition(b"\n\n")
    return hashlib.sha256(body if blank else normalised).hexdigest()


def raw_variant_key(external_id: str, raw: bytes) -> str:
    """The key of different content recorded under an already used key:
    ``<key>#<first 16 hex of sha256(raw)>`` (the key shortened to keep within 255)."""
    suffix = "#" + _digest(raw)[:VARIANT_DIGEST_CHARS]
    return external_id[: 255 - len(suffix)] + suffix


def _key_reused(channel: str, stored_digest: str, raw: bytes) -> bool:
    """True if ``raw`` is different content under a key already recorded with ``stored_digest``
    (only for channels whose key the sender chooses; the same raw fetched twice is not)."""
    return channel in SENDER_KEYED_CHANNELS and bool(raw) and stored_digest != _digest(raw)


def inbound_record(
    *,
    channel: str,
    source: str,
    external_id: str,
    raw: bytes = b"",
    payload: dict[str, Any] | None = None,
    received_at: datetime.datetime | None = None,
    process: bool = True,
) -> tuple[InboundMessage, bool]:
    """Store an inbound item unless its key is known; ``(message, created)``.

    With ``process`` the processing task is enqueued after commit. A duplicate returns the
    existing row and enqueues nothing. On a channel whose key the sender chooses (e-mail's
    Message-ID), a known key with different raw bytes is not a duplicate: it is recorded under
    ``raw_variant_key`` (``<key>#<16 hex of sha256(raw)>``).
    """
    key = external_id[:255]
    fields = {
        "channel": channel,
        "source": source,
        "raw": raw,
        "payload": payload or {},
        "received_at": received_at or timezone.now(),
    }
    try:
        with transaction.atomic():
            message = InboundMessage.objects.create(external_id=key, **fields)
    except IntegrityError:
        existing = InboundMessage.objects.get(channel=channel, source=source, external_id=key)
        if not _key_reused(channel, _digest(bytes(existing.raw)), raw):
            return existing, False
        # The sender reused a Message-ID for different mail: keep this one too, under its own key.
        key = raw_variant_key(key, raw)
        try:
            with transaction.atomic():
                message = InboundMessage.objects.create(external_id=key, **fields)
        except IntegrityError:
            existing = InboundMessage.objects.get(channel=channel, source=source, external_id=key)
            return existing, False
    if process:
        from channels_app.tasks import inbound_process_batch_task, inbound_process_task

        # A webhook answers without waiting on the broker: the coalescer sends the ids of
        # many requests as one batch task (ADR 0022).
        grouped_enqueue_on_commit(inbound_process_task, inbound_process_batch_task, message.pk)
    return message, True


def inbound_record_many(
    *,
    channel: str,
    source: str,
    items: list[tuple[str, bytes]],
    process: bool = True,
) -> tuple[list[int], int]:
    """Store a batch of raw items of one source (a poll's fetch) in one transaction: one
    INSERT ... ON CONFLICT DO NOTHING for the batch. ``items`` are ``(external_id, raw)``.
    Returns ``(ids of the rows this batch added, how many were already known)``.

    Joins the caller's transaction, so a caller can commit something with the rows (the poller
    commits ``last_uid`` with them). A key recorded meanwhile by someone else (two pollers) is
    not inserted twice: the unique key drops it. A reused Message-ID with different raw bytes
    (in the database or earlier in the batch) is recorded under ``raw_variant_key``, as by
    ``inbound_record``. With ``process`` one batch task is enqueued after commit.
    """
    if not items:
        return [], 0
    keyed = [(external_id[:255], raw, _digest(raw)) for external_id, raw in items]
    candidates = {key for key, _raw, _d in keyed} | {
        raw_variant_key(key, raw) for key, raw, _d in keyed if channel in SENDER_KEYED_CHANNELS
    }
    with transaction.atomic(savepoint=False):
        # The digest of what each key already holds (normally nothing: a poll fetches new mail).
        taken: dict[str, str] = {
            key: _digest(bytes(raw))
            for key, raw in InboundMessage.objects.filter(
                channel=channel, source=source, external_id__in=list(candidates)
            ).values_list("external_id", "raw")
        }
        by_key: dict[str, bytes] = {}
        for key, raw, digest in keyed:
            if key in taken and _key_reused(channel, taken[key], raw):
                key = raw_variant_key(key, raw)  # a reused Message-ID, different mail
            if key in taken:
                continue  # already recorded (or earlier in this batch)
            taken[key] = digest
            by_key[key] = raw
        now = timezone.now()
        new = [
            InboundMessage(
                channel=channel, source=source, external_id=key, raw=raw, received_at=now
            )
            for key, raw in by_key.items()
        ]
        ids: list[int] = []
        if new:
            InboundMessage.objects.bulk_create(new, ignore_conflicts=True)
            # ignore_conflicts sets no primary keys: read them back (pending rows only, so a
            # row another poller added and a worker already finished is not enqueued again).
            ids = sorted(
                InboundMessage.objects.filter(
                    channel=channel,
                    source=source,
                    external_id__in=[m.external_id for m in new],
                    status=InboundStatus.PENDING,
                ).values_list("pk", flat=True)
            )
        if process and ids:
            from channels_app.tasks import inbound_process_batch_task

            enqueue_on_commit(inbound_process_batch_task, ids)
    return ids, len(items) - len(new)


def _claim(message_ids: list[int], now: datetime.datetime) -> list[InboundMessage]:
    """pending -> processing for those of ``message_ids`` still pending; the claimed rows in
    primary-key order (an id someone else has, or that is done, is simply not returned).

    One statement (UPDATE ... RETURNING, PostgreSQL and SQLite >= 3.35): the conditional
    update is the claim, and what it returns is the rows we work on.
    """
    if not message_ids:
        return []
    table = InboundMessage._meta.db_table
    columns = ", ".join(
        connection.ops.quote_name(f.column) for f in InboundMessage._meta.concrete_fields
    )
    placeholders = ", ".join(["%s"] * len(message_ids))
    rows = list(
        InboundMessage.objects.raw(
            f"UPDATE {connection.ops.quote_name(table)} SET status = %s, claimed_at = %s "  # noqa: S608 - names from the model
            f"WHERE id IN ({placeholders}) AND status = %s RETURNING {columns}",
            [InboundStatus.PROCESSING, now, *message_ids, InboundStatus.PENDING],
        )
    )
    return sorted(rows, key=lambda m: m.pk)


_RESULT_FIELDS = ["status", "case", "contact", "reason", "processed_at", "attempts"]


def _apply(message: InboundMessage) -> bool:
    """Run the message's processor and put the outcome on ``message`` (not saved yet).
    Returns whether ``payload`` changed. Raises what the processor raises."""
    processor = processor_for(message)
    if processor is None:
        with translation.override(settings.LANGUAGE_CODE):  # stored: the site's language
            reason = _("No processor for source %(source)r on channel %(channel)r.") % {
                "source": message.source,
                "channel": message.channel,
            }
        raise Quarantine(reason)
    result = processor(message)
    message.status = InboundStatus.PROCESSED if result.case is not None else InboundStatus.IGNORED
    message.case = result.case
    message.contact = result.contact
    message.reason = result.note
    message.processed_at = timezone.now()
    message.attempts += 1
    if result.payload is not None:
        message.payload = result.payload
        return True
    return False


def _failure_reason(message_id: int, exc: Exception) -> str:
    if isinstance(exc, Quarantine):
        return exc.reason
    if isinstance(exc, ApplicationError):
        return f"{exc.message} {exc.fields or ''}".strip()
    logger.exception("Inbound message %s could not be processed", message_id, exc_info=exc)
    with translation.override(settings.LANGUAGE_CODE):  # stored: the site's language
        return _("Internal error: %(type)s: %(error)s") % {
            "type": type(exc).__name__,
            "error": exc,
        }


def inbound_process(*, message_id: int) -> InboundMessage | None:
    """Process one pending message. Returns the message, or None if someone else has it or it
    is already done (processing the same record twice changes nothing).

    For the synchronous paths (a form post, an Open311 POST, ``ingest_email``): one message,
    one transaction. Workers draining a queue use ``inbound_process_batch``.
    """
    now = timezone.now()
    try:
        with transaction.atomic():
            claimed = _claim([message_id], now)
            if not claimed:
                return None
            message = claimed[0]
            payload_changed = _apply(message)
            message.save(update_fields=[*_RESULT_FIELDS, *(["payload"] if payload_changed else [])])
            return message
    except Exception as exc:
        failure = exc
    # The transaction above rolled back (nothing half-made); record why, in a new one.
    return _record_failure(message_id, failure)


def inbound_receive(
    *,
    channel: str,
    source: str,
    external_id: str,
    raw: bytes = b"",
    payload: dict[str, Any] | None = None,
) -> tuple[InboundMessage, bool]:
    """Record an inbound item and process it at once, for a caller that answers with the
    result (an Open311 POST, a form post); ``(message, created)``.

    The happy path is one transaction: the row is inserted already claimed (``processing``),
    the processor runs, the result is written, one COMMIT. That is what a create costs over
    HTTP, so it is kept to the minimum (ADR 0022). The guarantee of ``inbound_record`` then
    ``inbound_process`` still holds, in another way:

    - processing fails (a quarantine, a bug, a lost deadlock): the transaction rolls back, no
      half-made case, and the item is recorded again in a new transaction and marked
      quarantined with its reason (or left pending for the sweep when the error is transient);
    - the process dies before the COMMIT: nothing was recorded and nothing was acknowledged;
      the sender gets no answer and sends again (a form's browser, an Open311 client), and the
      retry finds no duplicate;
    - the key is known (a retry after a lost answer, a double click): the existing row is
      returned, and processed now if its first attempt never finished.
    """
    now = timezone.now()
    message = InboundMessage(
        id=preallocated_id(InboundMessage),
        channel=channel,
        source=source,
        external_id=external_id[:255],
        raw=raw,
        payload=payload or {},
        received_at=now,
        status=InboundStatus.PROCESSING,
        claimed_at=now,
    )
    duplicate = False
    try:
        with transaction.atomic():
            try:
                if message.pk is None:  # SQLite: the database assigns the id
                    message.save(force_insert=True)
                else:
                    insert_together([message])
            except IntegrityError:
                duplicate = True
                raise
            _save_results([message], with_payload=_apply(message))
        return message, True
    except Exception as exc:
        failure = exc
    existing = (
        InboundMessage.objects.filter(
            channel=channel, source=source, external_id=message.external_id
        ).first()
        if duplicate
        else None
    )
    # (Another integrity error than the duplicate key falls through to the record path.)
    if existing is not None and not _key_reused(channel, _digest(bytes(existing.raw)), raw):
        if existing.status == InboundStatus.PENDING:  # its first attempt never finished
            return inbound_process(message_id=existing.pk) or existing, False
        return existing, False
    # Processing failed and rolled back, or a Message-ID reused for other mail: the
    # record-first path now.
    message, created = inbound_record(
        channel=channel,
        source=source,
        external_id=external_id,
        raw=raw,
        payload=payload,
        received_at=now,
        process=False,
    )
    if message.status != InboundStatus.PENDING:
        return message, created
    if duplicate or not created:
        # A row whose first attempt died before finishing, or a reused Message-ID's variant.
        return inbound_process(message_id=message.pk) or message, created
    return _record_failure(message.pk, failure) or message, created


def _record_failure(message_id: int, failure: Exception) -> InboundMessage | None:
    """After a rolled-back attempt: count it, then leave the message pending for the sweep
    (a transient error with retries left) or quarantine it with the reason."""
    attempts = (
        InboundMessage.objects.filter(pk=message_id).values_list("attempts", flat=True).first()
    )
    if attempts is None:
        return None
    if _is_transient(failure) and attempts + 1 < TRANSIENT_RETRIES:
        # A lost deadlock, a lock timeout, a dropped connection: the claim was rolled back, so
        # the row is pending again; count the attempt and leave it for the sweep.
        InboundMessage.objects.filter(pk=message_id, status=InboundStatus.PENDING).update(
            status=InboundStatus.PENDING,
            claimed_at=None,
            reason=f"Retrying after {type(failure).__name__}: {failure}"[:5000],
            processed_at=timezone.now(),
            attempts=F("attempts") + 1,
        )
        return InboundMessage.objects.get(pk=message_id)
    reason = _failure_reason(message_id, failure)
    # Only a row still pending: a retry may have finished it meanwhile.
    InboundMessage.objects.filter(pk=message_id, status=InboundStatus.PENDING).update(
        status=InboundStatus.QUARANTINED,
        reason=reason[:5000],
        processed_at=timezone.now(),
        attempts=F("attempts") + 1,
    )
    return InboundMessage.objects.get(pk=message_id)


# How many messages share one transaction (one COMMIT, one fsync). Larger batches save little
# more and hold the batch's row and advisory locks longer.
BATCH_SIZE = 50
# A message that lost a deadlock (two batches locking the same residents or cases in opposite
# order) is put back to pending and retried this many times before it is quarantined.
TRANSIENT_RETRIES = 3


# SQLSTATEs after which the same work may well succeed: transaction rollback (class 40:
# serialization failure, deadlock), connection exception (class 08), lock not available
# (55P03, lock_timeout), query canceled (57014, statement_timeout), administrator shutdown.
_TRANSIENT_SQLSTATE_CLASSES = ("40", "08")
_TRANSIENT_SQLSTATES = frozenset({"55P03", "57014", "57P01", "57P02", "57P03"})


def _is_transient(exc: BaseException) -> bool:
    """A temporary database error: retrying will work. A deadlock, serialization failure,
    lock or statement timeout, a dropped connection (``InterfaceError``, or an
    ``OperationalError`` without a SQLSTATE: SQLite's "database is locked", a lost server)."""
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__ or exc.__context__
    sqlstate = getattr(cause, "sqlstate", None)
    if not sqlstate:
        return True
    return sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES or sqlstate in _TRANSIENT_SQLSTATES


def inbound_process_batch(*, message_ids: list[int]) -> list[InboundMessage]:
    """Process pending messages in batches of ``BATCH_SIZE``, one transaction per batch.

    The batch's messages are claimed by one conditional UPDATE (pending -> processing, only
    those still pending; ids someone else holds or that are done are left out). When a message
    fails, the batch runs again with a savepoint per message: the failing one is rolled back
    to its savepoint (its case, contact, receipt row and on-commit tasks disappear) and
    quarantined, the others stand; one that lost a deadlock goes back to pending and is
    retried. Results are written in one ``executemany`` and the batch commits once: a crash
    before the COMMIT leaves every message of the batch pending for the sweep, never a
    half-made case. Returns the messages this call finished (processed, ignored or
    quarantined).
    """
    ids = sorted(set(message_ids))
    done: list[InboundMessage] = []
    for start in range(0, len(ids), BATCH_SIZE):
        done += _process_chunk(ids[start : start + BATCH_SIZE])
    return done


class _Isolate(Exception):
    """A message failed in a batch run without savepoints: run the batch again with them."""


def _process_chunk(ids: list[int]) -> list[InboundMessage]:
    # Messages rarely fail, and a savepoint costs two statements a message (SAVEPOINT,
    # RELEASE): try the whole batch without them first. If one message fails, the whole
    # transaction is rolled back (claims included, so nothing is lost or half-made) and the
    # batch runs again with a savepoint per message, where only the failing one is
    # quarantined.
    try:
        return _process_chunk_once(ids, isolate=False)
    except _Isolate:
        return _process_chunk_once(ids, isolate=True)


def _process_chunk_once(ids: list[int], *, isolate: bool) -> list[InboundMessage]:
    with collect_grouped_enqueues() as group:
        return _run_chunk(ids, isolate=isolate, group=group)


def _run_chunk(
    ids: list[int], *, isolate: bool, group: dict[Any, list[int]]
) -> list[InboundMessage]:
    retry: list[int] = []
    with transaction.atomic():
        messages = _claim(ids, timezone.now())
        if not isolate:
            try:
                _prepare(messages)
            except Exception as exc:
                raise _Isolate from exc  # the isolated run goes without the hints
        payload_changed = False
        for message in messages:
            if not isolate:
                try:
                    payload_changed |= _apply(message)
                except Exception as exc:
                    raise _Isolate from exc
                continue
            marks = {task: len(pks) for task, pks in group.items()}
            try:
                with transaction.atomic():
                    payload_changed |= _apply(message)
            except Exception as exc:
                # The savepoint rolled back this message's work; the batch goes on.
                for task, pks in group.items():
                    del pks[marks.get(task, 0) :]
                message.case = message.contact = None
                message.processed_at = timezone.now()
                message.attempts += 1
                if _is_transient(exc) and message.attempts < TRANSIENT_RETRIES:
                    message.status, message.claimed_at = InboundStatus.PENDING, None
                    message.reason = f"Retrying after {type(exc).__name__}: {exc}"[:5000]
                    retry.append(message.pk)
                else:
                    message.status = InboundStatus.QUARANTINED
                    message.reason = _failure_reason(message.pk, exc)[:5000]
        _save_results(messages, with_payload=payload_changed)
        for batch_task, pks in group.items():
            if pks:
                enqueue_on_commit(batch_task, list(pks))
        if retry:
            from channels_app.tasks import inbound_process_batch_task

            enqueue_on_commit(inbound_process_batch_task, retry)
    return [m for m in messages if m.pk not in retry]


def _prepare(messages: list[InboundMessage]) -> None:
    by_preparer: dict[Callable[[list[InboundMessage]], None], list[InboundMessage]] = {}
    for message in messages:
        preparer = _batch_preparer(message)
        if preparer is not None:
            by_preparer.setdefault(preparer, []).append(message)
    for preparer, batch in by_preparer.items():
        preparer(batch)


def _save_results(messages: list[InboundMessage], *, with_payload: bool) -> None:
    """Every message's result in one ``executemany`` (psycopg sends the UPDATEs in one
    pipeline; ``bulk_update``'s CASE expressions cost more Python than they save), or one
    UPDATE for one message."""
    if not messages:
        return
    names = [*_RESULT_FIELDS, "claimed_at", *(["payload"] if with_payload else [])]
    fields = [InboundMessage._meta.get_field(name) for name in names]
    qn = connection.ops.quote_name
    assignments = ", ".join(f"{qn(f.column)} = %s" for f in fields)
    rows = [
        [
            *(f.get_db_prep_save(getattr(m, f.attname), connection) for f in fields),
            m.pk,
        ]
        for m in messages
    ]
    sql = f"UPDATE {qn(InboundMessage._meta.db_table)} SET {assignments} WHERE id = %s"  # noqa: S608 - names from the model
    with connection.cursor() as cursor:
        if len(rows) == 1:  # a form post: a pipeline for one statement only costs more
            cursor.execute(sql, rows[0])
        else:
            cursor.executemany(sql, rows)


def inbound_requeue(*, message_ids: list[int]) -> int:
    """Put quarantined messages back in the queue (after a fix). Returns how many."""
    ids = list(
        InboundMessage.objects.filter(
            pk__in=message_ids, status=InboundStatus.QUARANTINED
        ).values_list("pk", flat=True)
    )
    InboundMessage.objects.filter(pk__in=ids, status=InboundStatus.QUARANTINED).update(
        status=InboundStatus.PENDING, reason="", claimed_at=None
    )
    if ids:
        from channels_app.tasks import inbound_process_batch_task

        enqueue_on_commit(inbound_process_batch_task, ids)
    return len(ids)


def inbound_stale(
    *,
    now: datetime.datetime,
    pending_after: datetime.timedelta,
    processing_after: datetime.timedelta,
) -> list[int]:
    """Messages a lost task left behind: pending too long, or claimed and never finished.

    A claim is only visible once its transaction committed, and it commits together with the
    result; so a row seen as ``processing`` by another connection means the worker died between
    claim and commit on a database without transactional claims, which we reset to pending.
    """
    stuck = InboundMessage.objects.filter(
        status=InboundStatus.PROCESSING, claimed_at__lt=now - processing_after
    )
    stuck.update(status=InboundStatus.PENDING, claimed_at=None)
    return list(
        InboundMessage.objects.filter(
            status=InboundStatus.PENDING, received_at__lt=now - pending_after
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:5000]
    )
