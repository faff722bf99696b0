"""Outbound e-mail: a row first (in the caller's transaction), the send after commit.

``email_queue`` writes an ``OutboundMessage`` with our own Message-ID and enqueues the send on
commit; ``email_send`` claims the row and hands it to Django's mail backend. The database is
the source of truth: a lost task is made good by ``email_outbound_sweep_task``.
"""

from __future__ import annotations

import datetime
import logging
import re
import uuid

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection
from django.utils import timezone

from cases.choices import Channel
from cases.models import Case, Resident
from channels_app import intake
from channels_app.models import OutboundMessage, OutboundStatus

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
_CRLF = re.compile(r"[\r\n\x00]+")


def header_safe(value: str) -> str:
    """One line: CR, LF and NUL become a space. Header injection ("\\r\\nBcc: x") is thereby
    harmless text, and Django's BadHeaderError can never fire at send time."""
    return _CRLF.sub(" ", value or "").strip()


def new_message_id() -> str:
    return f"<{uuid.uuid4().hex}@{settings.MESSAGE_ID_DOMAIN}>"


def email_queue(
    *,
    case: Case | None,
    to: str,
    subject: str,
    body: str,
    kind: str,
    auto_generated: bool,
    in_reply_to: str = "",
    references: str = "",
    resident: Resident | None = None,
) -> OutboundMessage:
    """Write the message to send (status pending) and send it once the transaction commits."""
    row = _outbound_row(
        case=case,
        to=to,
        subject=subject,
        body=body,
        kind=kind,
        auto_generated=auto_generated,
        in_reply_to=in_reply_to,
        references=references,
        resident=resident,
    )
    row.save(force_insert=True)
    _send_on_commit(row)
    return row


def auto_reply_window_start() -> datetime.datetime:
    """Start of the RFC 3834 window: at most one automatic message goes to an address within
    ``AUTO_REPLY_WINDOW_HOURS`` (e-mail receipts, e-service receipts)."""
    return timezone.now() - datetime.timedelta(hours=settings.AUTO_REPLY_WINDOW_HOURS)


def email_queue_unless_auto_sent(
    *,
    since: datetime.datetime | None = None,
    case: Case | None,
    to: str,
    subject: str,
    body: str,
    kind: str,
    in_reply_to: str = "",
    references: str = "",
    resident: Resident | None = None,
) -> OutboundMessage | None:
    """``email_queue`` for automatic mail under the RFC 3834 rule: nothing is written, and None
    returned, if an automatic message already went to ``to`` since ``since`` (default: the
    start of the ``AUTO_REPLY_WINDOW_HOURS`` window). The check and the insert are one
    statement."""
    if since is None:
        since = auto_reply_window_start()
    row = _outbound_row(
        case=case,
        to=to,
        subject=subject,
        body=body,
        kind=kind,
        auto_generated=True,
        in_reply_to=in_reply_to,
        references=references,
        resident=resident,
    )
    if not _insert_unless_auto_sent(row, since=since):
        return None
    _send_on_commit(row)
    return row


def _outbound_row(
    *,
    case: Case | None,
    to: str,
    subject: str,
    body: str,
    kind: str,
    auto_generated: bool,
    in_reply_to: str,
    references: str,
    resident: Resident | None,
) -> OutboundMessage:
    return OutboundMessage(
        channel=Channel.EMAIL,
        case=case,
        resident=resident,
        to=header_safe(to)[:254],
        subject=header_safe(subject)[:300],
        body=body,
        message_id=new_message_id(),
        in_reply_to=header_safe(in_reply_to)[:255],
        references=header_safe(references),
        auto_generated=auto_generated,
        kind=kind,
    )


def _send_on_commit(row: OutboundMessage) -> None:
    # One send task per intake batch (ADR 0015), one per row elsewhere.
    from channels_app.email.tasks import email_send_batch_task, email_send_task

    intake.enqueue_on_commit_grouped(email_send_task, email_send_batch_task, row.pk)


def _insert_unless_auto_sent(row: OutboundMessage, *, since: datetime.datetime) -> bool:
    """``INSERT ... SELECT ... WHERE NOT EXISTS (an automatic message to row.to since ...)
    RETURNING id``: one round trip instead of a check and an insert. Sets ``row.pk``; False if
    the rule held it back. (Two transactions receipting the same new address at the same
    moment can both pass, as with a separate check: the window is a courtesy, not a lock.)"""
    meta = OutboundMessage._meta
    qn = connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    columns = ", ".join(qn(f.column) for f in fields)
    values = [f.get_db_prep_save(f.pre_save(row, True), connection) for f in fields]
    table = qn(meta.db_table)
    sql = (
        f"INSERT INTO {table} ({columns}) SELECT {', '.join(['%s'] * len(fields))} "  # noqa: S608 - names from the model
        f"WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE {qn('to')} = %s "
        f"AND {qn('auto_generated')} = %s AND {qn('created_at')} >= %s) RETURNING {qn('id')}"
    )
    params = [
        *values,
        row.to,
        meta.get_field("auto_generated").get_db_prep_save(True, connection),
        meta.get_field("created_at").get_db_prep_save(since, connection),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchone()
    if found is None:
        return False
    row.pk = found[0]
    row._state.adding = False
    return True


def _build(row: OutboundMessage) -> EmailMessage:
    headers = {"Message-ID": row.message_id}
    if row.in_reply_to:
        headers["In-Reply-To"] = row.in_reply_to
    if row.references:
        headers["References"] = row.references
    if row.auto_generated:
        # RFC 3834: tell vacation responders not to answer us (and Exchange too).
        headers["Auto-Submitted"] = "auto-generated"
        headers["X-Auto-Response-Suppress"] = "All"
    return EmailMessage(
        subject=header_safe(row.subject),
        body=row.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[header_safe(row.to)],
        headers=headers,
    )


def email_send(*, outbound_id: int) -> bool:
    """Send one pending message. True if this call sent it.

    The claim is a conditional UPDATE on the attempt count we read: of two workers holding the
    same id only one changes the row, the other does nothing. (A send that outlives the sweep's
    two minutes could still be sent twice: mail is at-least-once; see ADR 0014.)
    """
    row = OutboundMessage.objects.filter(pk=outbound_id, channel=Channel.EMAIL).first()
    if row is None or row.status != OutboundStatus.PENDING:
        return False
    claimed = OutboundMessage.objects.filter(
        pk=row.pk, status=OutboundStatus.PENDING, attempts=row.attempts
    ).update(attempts=row.attempts + 1)
    if claimed != 1:
        return False
    attempts = row.attempts + 1
    try:
        _build(row).send(fail_silently=False)
    except Exception as exc:
        logger.warning("Sending outbound e-mail %s failed (attempt %s): %s", row.pk, attempts, exc)
        OutboundMessage.objects.filter(pk=row.pk).update(
            error=f"{type(exc).__name__}: {exc}"[:2000],
            status=OutboundStatus.FAILED if attempts >= MAX_ATTEMPTS else OutboundStatus.PENDING,
        )
        return False
    OutboundMessage.objects.filter(pk=row.pk).update(
        status=OutboundStatus.SENT, sent_at=timezone.now(), error=""
    )
    return True


def email_outbound_stale(*, older_than_seconds: int = 120) -> list[int]:
    """Pending e-mails a lost task left behind (or that failed and wait for a retry)."""
    cutoff = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    return list(
        OutboundMessage.objects.filter(
            channel=Channel.EMAIL,
            status=OutboundStatus.PENDING,
            created_at__lt=cutoff,
            attempts__lt=MAX_ATTEMPTS,
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:1000]
    )
