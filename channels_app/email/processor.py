"""The e-mail processor: one recorded ``InboundMessage`` (source ``email:<mailbox>``) becomes a
new case, a contact on an existing case, a note about a bounce, or nothing (auto-replies).

Called by ``channels_app.intake.inbound_process`` inside its transaction, so everything here
(case, contact, notes, attachments rows, the receipt row) commits or rolls back together, and
the receipt is only sent after commit. Decisions are in docs/adr/0014-email-intake.md.

Queries are counted (the intake must reach 150 messages/s): a plain new mail from a known
sender costs the resident lookup, ``case_create``'s three inserts and the receipt insert (its
24-hour check is part of that statement); the mailbox is cached per process.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from dataclasses import dataclass
from email.utils import parseaddr

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases import identity
from cases.choices import Channel, Language
from cases.models import Case, CaseState, PowerOfAttorney, Resident, ResidentEmail
from cases.services.actors import Actor
from cases.services.cases import (
    ContactInput,
    case_add_contact,
    case_add_note,
    case_create_with_contact,
)
from cases.services.residents import resident_find_or_create_by_contact
from cases.services.transitions import case_reopen
from channels_app.email import authresults, loops
from channels_app.email.outbound import auto_reply_window_start, email_queue_unless_auto_sent
from channels_app.email.parse import MailParseError, MailPart, ParsedMail, parse_mail
from channels_app.email.receipts import receipt_text
from channels_app.intake import IntakeResult, Quarantine
from channels_app.models import (
    InboundAttachment,
    InboundMessage,
    Mailbox,
    OutboundMessage,
    OutboundStatus,
)
from channels_app.sniff import sniff_content_type
from common.caches import ttl_cached

SUMMARY_CHARS = 500
NO_SUBJECT = gettext_lazy("(no subject)")
# A reply to a case in one of these states reopens it (back at the contact center, open).
REOPEN_STATES = (CaseState.RESOLVED, CaseState.RESOLVED_FIRST_CONTACT, CaseState.CLOSED)
_FINAL_RECIPIENT_RE = re.compile(
    r"^(?:Final|Original)-Recipient:\s*(?:rfc822;)?\s*<?([^\s<>;]+@[^\s<>;]+)>?", re.I | re.M
)
_ACTION_RE = re.compile(r"^Action:\s*(\w+)", re.I | re.M)
_DIAGNOSTIC_RE = re.compile(r"^Diagnostic-Code:\s*(?:smtp;)?\s*(.+)$", re.I | re.M)


def reference_pattern() -> re.Pattern[str]:
    """Case references as ADR 0007 writes them: PREFIX-YYYY-NNNNNN."""
    prefix = re.escape(settings.CASE_REFERENCE_PREFIX)
    return re.compile(rf"(?<![\w-])({prefix}-\d{{4}}-\d{{6,}})(?![\w-])", re.IGNORECASE)


MAILBOX_CACHE_SECONDS = 60


def _mailbox(source: str) -> Mailbox:
    """The mailbox of a source, cached per process for a minute (like ``contact_center()``):
    every message reads it, and an edit in the admin (its default category) may take that
    long to reach the workers. An unknown mailbox is not cached: creating it takes effect at
    once."""
    name = source.split(":", 1)[1] if ":" in source else ""
    try:  # get(), not first(): no ORDER BY on the hot path
        return ttl_cached(
            f"mailbox:{name}",
            MAILBOX_CACHE_SECONDS,
            lambda: Mailbox.objects.select_related("default_category").get(name=name),
        )
    except Mailbox.DoesNotExist:
        raise Quarantine(
            f"Unknown mailbox {name!r}: create it in the admin, then requeue."
        ) from None


def _our_addresses(mailbox: Mailbox) -> set[str]:
    return {
        _normalised(parseaddr(settings.DEFAULT_FROM_EMAIL)[1]),
        _normalised(mailbox.address),
    } - {""}


def _normalised(address: str) -> str:
    try:
        return identity.normalize_email(address) if address else ""
    except ValidationError:
        return ""


def _site_text(text: object) -> str:
    """A lazy translation rendered in the site's language (for text that is stored)."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(text)


def _live_case(case: Case) -> Case:
    """Follow merges: a reply to a merged case belongs to the case it was merged into."""
    for _hop in range(5):
        if case.state != CaseState.MERGED or case.merged_into_id is None:
            break
        case = Case.objects.get(pk=case.merged_into_id)
    return case


def _our_outbound(ids: list[str]) -> OutboundMessage | None:
    ours = [f"<{mid}>" for mid in ids if loops.is_our_message_id(mid)]
    if not ours:
        return None  # no query at all for mail that does not answer us
    return (
        OutboundMessage.objects.filter(message_id__in=ours)
        .select_related("case")
        .order_by("-created_at")
        .first()
    )


@dataclass(frozen=True)
class _Threading:
    """Where a mail belongs: ``case`` (found ``how``), or a new case; ``duplicate_of`` is the
    reference of a case the mail points at but may not be added to, ``unverified`` why our
    mail server doubts the sender (then the new case says so)."""

    case: Case | None = None
    how: str = ""
    duplicate_of: str = ""
    unverified: str = ""


def _thread(mail: ParsedMail, sender: str) -> _Threading:
    outbound = _our_outbound(mail.thread_ids)
    if outbound is not None and outbound.case is not None:
        # Our Message-IDs are unguessable: only someone who received our mail has one, so the
        # sender's address (forged or not) does not matter here.
        return _Threading(_live_case(outbound.case), "In-Reply-To/References")
    # The two ways below trust the From address, which is easy to forge: a mail our receiving
    # server found forged (Authentication-Results, see authresults.py) does not thread by it.
    unverified = authresults.sender_verification_failure(mail)
    own = _earlier_mail_case(mail.thread_ids)
    if own is not None and _is_party(own, sender):
        if unverified:
            return _Threading(duplicate_of=own.reference, unverified=unverified)
        return _Threading(_live_case(own), "In-Reply-To/References to the resident's earlier mail")
    match = reference_pattern().search(mail.subject)
    if match is None:
        return _Threading()
    reference = match.group(1).upper()
    case = Case.objects.filter(reference=reference).first()
    if case is None:
        return _Threading()
    # The reference alone proves nothing (it is printed on every receipt and easy to guess):
    # only the case's parties thread by it; anybody else gets a case of their own.
    if not _is_party(case, sender):
        return _Threading(duplicate_of=reference)
    if unverified:
        return _Threading(duplicate_of=reference, unverified=unverified)
    return _Threading(_live_case(case), "case reference in the subject")


def _is_party(case: Case, sender: str) -> bool:
    """Whether ``sender`` is an address of the case's resident, or of a representative with a
    power of attorney from that resident valid today. One query."""
    if case.resident_id is None:
        return False
    today = timezone.localdate()
    representatives = (
        PowerOfAttorney.objects.filter(resident_id=case.resident_id, valid_from__lte=today)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .values("representative_id")
    )
    return (
        ResidentEmail.objects.filter(address=sender)
        .filter(Q(resident_id=case.resident_id) | Q(resident_id__in=representatives))
        .exists()
    )


def _earlier_mail_case(ids: list[str]) -> Case | None:
    """The case of an earlier inbound mail this one answers ("forgot the attachment").
    Message-IDs of *their* mail are not secret the way ours are (everyone on Cc has them), so
    the caller checks that the sender is a party of the case, as for references."""
    theirs = [mid[:255] for mid in ids if not loops.is_our_message_id(mid)][:20]
    if not theirs:
        return None
    earlier = (
        InboundMessage.objects.filter(
            channel=Channel.EMAIL, external_id__in=theirs, case__isnull=False
        )
        .select_related("case")
        .order_by("-received_at")
        .first()
    )
    return earlier.case if earlier is not None else None


def _language(mail: ParsedMail) -> str:
    for value in mail.header("content-language").split(","):
        code = value.strip()[:2].lower()
        if code in Language.values:
            return code
    return ""


def _occurred_at(message: InboundMessage) -> datetime.datetime | None:
    return message.received_at if message.received_at <= timezone.now() else None


def _summary(mail: ParsedMail) -> str:
    return (mail.text or mail.subject or "")[:SUMMARY_CHARS]


def _duplicate_note(threading: _Threading, sender: str) -> str:
    values = {"ref": threading.duplicate_of, "sender": sender, "check": threading.unverified}
    with translation.override(settings.LANGUAGE_CODE):  # stored text: the site's language
        if threading.unverified:
            return (
                _(
                    "Possible duplicate of %(ref)s: the mail says it is from %(sender)s, a "
                    "party of that case, but our mail server could not verify the sender "
                    "(%(check)s), so a new case was opened."
                )
                % values
            )
        return (
            _(
                "Possible duplicate of %(ref)s: the sender %(sender)s used its reference but "
                "is not its resident, so a new case was opened."
            )
            % values
        )


# --- bounces -------------------------------------------------------------------------------
def _bounce(mail: ParsedMail) -> IntakeResult:
    ids = []
    if mail.original_headers.get("message-id"):
        ids += [mid.strip("<>") for mid in mail.original_headers["message-id"].split()]
    ids += mail.thread_ids
    outbound = _our_outbound(ids)
    status_text = mail.delivery_status or mail.text
    recipient_match = _FINAL_RECIPIENT_RE.search(status_text)
    recipient = recipient_match.group(1) if recipient_match else (outbound.to if outbound else "")
    action = (_ACTION_RE.search(status_text) or [None, "failed"])[1].lower()
    if outbound is None:
        return IntakeResult(
            case=None,
            note=f"Bounce for {recipient or 'an unknown recipient'}, not of a message of ours; no case.",
        )
    if action != "failed":
        return IntakeResult(
            case=None, note=f"Delivery status '{action}' for {recipient}; nothing to do."
        )
    diagnostic_match = _DIAGNOSTIC_RE.search(status_text)
    diagnostic = diagnostic_match.group(1).strip() if diagnostic_match else "delivery failed"
    OutboundMessage.objects.filter(pk=outbound.pk).update(
        status=OutboundStatus.FAILED, error=f"Bounced: {diagnostic}"[:2000]
    )
    with translation.override(settings.LANGUAGE_CODE):  # stored text: the site's language
        note = _("Delivery failed to %(recipient)s: %(diagnostic)s") % {
            "recipient": recipient,
            "diagnostic": diagnostic,
        }
    note = note[:1000]
    if outbound.case is None:
        return IntakeResult(case=None, note=note)
    case = _live_case(outbound.case)
    case_add_note(actor=Actor.system(), case_id=case.pk, text=note)
    return IntakeResult(case=case, note=note)


# --- attachments ---------------------------------------------------------------------------
def _storage_name(filename: str, sha256: str, now: datetime.datetime) -> str:
    # FileField's column holds 100 characters: keep the name short, keep its extension.
    stem, dot, ext = filename.rpartition(".")
    if not dot:
        stem, ext = filename, ""
    ext = ext[:10]
    try:
        safe = get_valid_filename(f"{stem[:40]}.{ext}" if ext else stem[:50])
    except SuspiciousFileOperation:
        safe = f"file.{ext}" if ext else "file"
    return f"inbound/{now:%Y/%m}/{sha256[:16]}/{safe}"


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _store_attachments(message: InboundMessage, parts: list[MailPart]) -> list[str]:
    """Write the files and one bulk insert of rows; returns notes for the case.

    Nothing is silently cut: a part over the size limit, or beyond the number limit, gets a
    row marked quarantined (name, size, hash, reason) but no file, and a note on the case.
    Files are written before the rows; if the transaction then rolls back the files are
    orphans (harmless, and the retry writes them again under the same name).
    """
    limit = settings.INBOUND_ATTACHMENT_MAX_BYTES
    max_count = settings.INBOUND_MAX_ATTACHMENTS
    now = timezone.now()
    rows: list[InboundAttachment] = []
    notes: list[str] = []
    for index, part in enumerate(parts):
        size = len(part.content)
        sha256 = hashlib.sha256(part.content).hexdigest()
        filename = (part.filename or "attachment")[:255]
        row = InboundAttachment(
            message=message,
            filename=filename,
            content_type=sniff_content_type(
                part.content, declared=part.declared_type, filename=filename
            )[:100],
            size=size,
            sha256=sha256,
            inline=part.inline,
        )
        if size > limit:
            row.quarantined = True
            row.reason = f"Larger than the limit of {_megabytes(limit)}."
            with translation.override(settings.LANGUAGE_CODE):
                notes.append(
                    _("Attachment %(filename)s (%(size)s) exceeded the limit and was quarantined.")
                    % {"filename": filename, "size": _megabytes(size)}
                )
        elif index >= max_count:
            row.quarantined = True
            row.reason = f"More than {max_count} attachments in one message."
            with translation.override(settings.LANGUAGE_CODE):
                notes.append(
                    _("Attachment %(filename)s was quarantined: more than %(count)s attachments.")
                    % {"filename": filename, "count": max_count}
                )
        else:
            row.file.name = default_storage.save(
                _storage_name(filename, sha256, now), ContentFile(part.content)
            )
        rows.append(row)
    InboundAttachment.objects.bulk_create(rows)
    return notes


# --- receipts ------------------------------------------------------------------------------
def receipt_block_reason(mail: ParsedMail, address: str) -> str:
    """Why no acknowledgement goes to this mail, or "" (headers first, then the 24 h rule).
    The processor itself asks the headers here and leaves the 24 h rule to the receipt's
    conditional insert (``_queue_receipt``): one statement instead of two."""
    reason = loops.receipt_block_reason(mail)
    if reason:
        return reason
    if OutboundMessage.objects.filter(
        to=address, auto_generated=True, created_at__gte=auto_reply_window_start()
    ).exists():
        return _window_reason(address)
    return ""


def _window_reason(address: str) -> str:
    return f"an automatic message went to {address} within {settings.AUTO_REPLY_WINDOW_HOURS} h"


def _queue_receipt(mail: ParsedMail, case: Case, address: str) -> bool:
    """Queue the receipt unless an automatic message went to ``address`` within the window
    (checked by the insert itself). True if queued."""
    # A sensitive category's subject (and text) is not repeated in plain mail.
    sensitive = case.category is not None and case.category.sensitive
    subject, body = receipt_text(
        language=case.language,
        reference=case.reference,
        subject="" if sensitive else case.subject,
        name=mail.from_name,
    )
    message_id = f"<{mail.message_id}>" if mail.message_id else ""
    references = " ".join([*(f"<{r}>" for r in mail.references[-10:]), message_id]).strip()
    row = email_queue_unless_auto_sent(
        case=case,
        to=address,
        subject=subject,
        body=body,
        kind="receipt",
        in_reply_to=message_id,
        references=references,
        resident=case.resident,
    )
    return row is not None


def _kept_payload(message: InboundMessage, mail: ParsedMail) -> dict[str, object]:
    """What a page needs to show the mail (the sanitised HTML, never the raw HTML), kept on the
    inbound row, so nothing displays the sender's markup or re-parses MIME to show it. Intake
    writes it with the message's status (no UPDATE of its own). Plain-text mail keeps nothing:
    its text is the case description and contact summary."""
    parsed = {
        "message_id": mail.message_id,
        "from": mail.from_address,
        "from_name": mail.from_name,
        "subject": mail.subject,
        "html": mail.html,
        "defects": list(dict.fromkeys(mail.defects))[:20],
    }
    return {**message.payload, "email": parsed}


# --- batches -------------------------------------------------------------------------------
@dataclass
class _Prepared:
    """What ``prepare_batch`` found for one message: its parsed mail, and its sender's resident
    if the sender was known before the batch (None: look up, or create, as usual)."""

    mail: ParsedMail
    resident: Resident | None


def prepare_batch(messages: list[InboundMessage]) -> None:
    """Called by ``intake.inbound_process_batch`` before its messages are processed: parse
    them, and find the residents of all their senders in one query instead of one a message.
    Only a hint: a sender not found here is looked up (and created, under its lock) by
    ``resident_find_or_create_by_contact`` as usual, so a resident created by an earlier
    message of the batch is found then."""
    mails: dict[int, tuple[ParsedMail, str]] = {}
    for message in messages:
        try:
            mail = parse_mail(bytes(message.raw))
        except MailParseError:
            continue  # process() parses again and quarantines it
        mails[message.pk] = (mail, _normalised(mail.from_address))
    senders = {sender for _mail, sender in mails.values() if sender}
    known: dict[str, Resident] = {}
    # The oldest resident with the address, as resident_find_or_create_by_contact picks it.
    for row in (
        ResidentEmail.objects.filter(address__in=senders)
        .select_related("resident")
        .order_by("-resident_id")
    ):
        known[row.address] = row.resident
    for message in messages:
        if message.pk in mails:
            mail, sender = mails[message.pk]
            message._email_prepared = _Prepared(mail=mail, resident=known.get(sender))  # type: ignore[attr-defined]


# --- the processor -------------------------------------------------------------------------
def process(message: InboundMessage) -> IntakeResult:
    """Turn one recorded e-mail into case work; raise Quarantine when it cannot be."""
    mailbox = _mailbox(message.source)
    prepared: _Prepared | None = getattr(message, "_email_prepared", None)
    try:
        mail = prepared.mail if prepared else parse_mail(bytes(message.raw))
    except MailParseError as exc:
        raise Quarantine(str(exc)) from exc

    if mail.message_id and loops.is_our_message_id(mail.message_id):
        return IntakeResult(case=None, note="Our own message came back (mail loop); ignored.")
    if loops.is_bounce(mail):
        return _bounce(mail)
    auto = loops.auto_reply_reason(mail)
    if auto:
        return IntakeResult(case=None, note=f"Auto-reply ({auto}); no case and no answer.")

    sender = _normalised(mail.from_address)
    if sender and sender in _our_addresses(mailbox):
        # Our own mail copied back into the mailbox (Bcc, a forwarding rule) without our
        # Message-ID: answering it would mail ourselves.
        return IntakeResult(case=None, note=f"Mail from our own address {sender}; ignored.")
    if not sender:
        with translation.override(settings.LANGUAGE_CODE):
            reason = _(
                "No usable sender address (From/Sender/Reply-To): the resident can neither be "
                "identified nor answered."
            )
        raise Quarantine(reason)
    actor = Actor.resident(Channel.EMAIL)
    contact_input = ContactInput(
        channel=Channel.EMAIL, occurred_at=_occurred_at(message), summary=_summary(mail)
    )
    threading = _thread(mail, sender)
    case, how = threading.case, threading.how
    notes: list[str] = []
    if case is not None and case.state == CaseState.SPAM:
        return IntakeResult(case=None, note=f"Reply to {case.reference}, which is marked as spam.")
    if case is not None and case.state == CaseState.WITHDRAWN:
        # The resident withdrew it: the follow-up is a new matter, in a new case.
        with translation.override(settings.LANGUAGE_CODE):
            notes.append(_("Follow-up of withdrawn case %(ref)s") % {"ref": case.reference})
        case = None
    if case is not None:
        contact = case_add_contact(actor=actor, case_id=case.pk, contact=contact_input)
        result_note = f"Threaded onto {case.reference} by {how}."
        if case.state in REOPEN_STATES:
            # A reply to a finished case must not vanish: back to the contact center, open.
            with translation.override(settings.LANGUAGE_CODE):
                reason = _("The resident replied by e-mail.")
            case = case_reopen(actor=Actor.system(), case_id=case.pk, reason=reason)
            result_note += " Case reopened."
    else:
        resident = (prepared and prepared.resident) or resident_find_or_create_by_contact(
            email=sender, name=mail.from_name, language=_language(mail)
        )
        case, contact = case_create_with_contact(
            actor=actor,
            subject=mail.subject.strip() or _site_text(NO_SUBJECT),
            description=mail.text,
            contact=contact_input,
            resident=resident,
            category=mailbox.default_category,
            language=_language(mail),
        )
        if threading.duplicate_of:
            notes.append(_duplicate_note(threading, sender))
        blocked = loops.receipt_block_reason(mail)
        if not blocked and not _queue_receipt(mail, case, sender):
            blocked = _window_reason(sender)
        result_note = (
            f"New case; no receipt ({blocked})." if blocked else "New case; receipt queued."
        )
    if mail.parts:
        notes += _store_attachments(message, mail.parts)
    if notes:
        case_add_note(actor=Actor.system(), case_id=case.pk, text="\n".join(notes))
    payload = _kept_payload(message, mail) if mail.html or mail.defects else None
    if mail.defects:
        result_note += " Defects: " + "; ".join(dict.fromkeys(mail.defects))[:500]
    return IntakeResult(case=case, contact=contact, note=result_note, payload=payload)
