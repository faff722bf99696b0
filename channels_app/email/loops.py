"""Mail that must not be answered, or must not become a case (RFC 3834, RFC 3464).

Pure functions on a ``ParsedMail``: no database. The processor asks two questions:
``is_bounce`` / ``auto_reply_reason`` (is this a bounce or an auto-reply? then no new case) and
``receipt_block_reason`` (may an automatic acknowledgement go back?). The per-sender 24-hour
limit needs the database and lives in the processor.
"""

from __future__ import annotations

import re

from django.conf import settings

from channels_app.email import authresults
from channels_app.email.parse import ParsedMail

_DAEMON_LOCALPARTS = frozenset({"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"})
# Subjects of non-standard bounces (no multipart/report): Postfix, Sendmail, Exim, qmail,
# Exchange, Gmail, and their Swedish, Danish and German forms. Only consulted for mail from the
# mailer daemon.
_BOUNCE_SUBJECT_RE = re.compile(
    r"^\s*(undelivered mail|undeliverable|undelivered|returned mail|failure notice|"
    r"delivery status notification|delivery (has )?failed|delivery failure|"
    r"mail delivery (failed|failure|subsystem)|message delivery failure|"
    r"warning: could not send|mail system error|non remis|olevererbar|"
    r"kan ikke leveres|ikke leveret|unzustellbar|nicht zustellbar)",
    re.IGNORECASE,
)
_NOREPLY_RE = re.compile(r"^(no[-_.]?reply|do[-_.]?not[-_.]?reply|donotreply|bounces?)([-+_.].*)?$")
# Subject prefixes of out-of-office replies from Outlook/Exchange, Gmail and common Nordic
# servers. Only consulted together with an Auto-Submitted or X-Auto-Response-Suppress header
# (Exchange labels its OOF "auto-generated"), so a resident's "Out of office hours?" is safe.
_OOO_SUBJECT_RE = re.compile(
    r"^\s*(automatic reply|auto(matic)?[- ]?reply|autosvar|automatiskt svar|automatisk svar|"
    r"out of (the )?office|frånvaro|fraværende|fravær|abwesenheit|réponse automatique)\b",
    re.IGNORECASE,
)


def localpart(address: str) -> str:
    return address.rsplit("@", 1)[0].lower() if "@" in address else address.lower()


def is_our_message_id(message_id: str) -> bool:
    """Our Message-IDs end with @MESSAGE_ID_DOMAIN (see outbound.new_message_id)."""
    return message_id.lower().endswith("@" + settings.MESSAGE_ID_DOMAIN.lower())


def is_bounce(mail: ParsedMail) -> bool:
    """A delivery status notification (RFC 3464): a ``multipart/report``, a delivery-status
    part under an empty Return-Path, or mail from the mailer daemon that looks like one (a
    delivery-status part, or a bounce subject such as qmail's "failure notice").

    The sender alone proves nothing: postmaster@ is also a person (another municipality's mail
    administrator asking us something), and mailer-daemon@ sends quarantine digests and
    notices. Those are not dropped as bounces; they become cases like any mail, and are still
    never acknowledged (``receipt_block_reason``: automatic sender).
    """
    if mail.report_type == "delivery-status" or mail.content_type == "multipart/report":
        return True
    if mail.header("return-path").strip() == "<>" and bool(mail.delivery_status):
        return True
    return localpart(mail.from_address) in _DAEMON_LOCALPARTS and (
        bool(mail.delivery_status) or bool(_BOUNCE_SUBJECT_RE.match(mail.subject))
    )


def auto_reply_reason(mail: ParsedMail) -> str:
    """Why this mail is an auto-reply (vacation, out-of-office, autoresponder), or ""."""
    auto = mail.header("auto-submitted").split(";", 1)[0].strip().lower()
    if auto == "auto-replied":
        return "Auto-Submitted: auto-replied"
    for name in ("x-autoreply", "x-autorespond", "x-auto-reply"):
        if name in mail.headers:
            return f"{name} header"
    if mail.header("precedence").strip().lower() == "auto_reply":
        return "Precedence: auto_reply"
    automated = (auto and auto != "no") or "x-auto-response-suppress" in mail.headers
    if automated and _OOO_SUBJECT_RE.match(mail.subject):
        return "automatic out-of-office reply"
    return ""


def receipt_block_reason(mail: ParsedMail) -> str:
    """Why no automatic acknowledgement may be sent to this mail (RFC 3834 §2), or ""."""
    auto = mail.header("auto-submitted").split(";", 1)[0].strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = mail.header("precedence").strip().lower()
    if precedence in ("bulk", "junk", "list"):
        return f"Precedence: {precedence}"
    if "x-auto-response-suppress" in mail.headers:
        return "X-Auto-Response-Suppress"
    if "x-loop" in mail.headers:
        return "X-Loop"
    if any(v.strip() == "<>" for v in mail.headers.get("return-path", [])):
        return "empty Return-Path"
    lp = localpart(mail.from_address)
    if lp in _DAEMON_LOCALPARTS or _NOREPLY_RE.match(lp):
        return f"automatic sender {mail.from_address}"
    if "list-id" in mail.headers or "list-unsubscribe" in mail.headers:
        return "mailing list"
    if mail.message_id and is_our_message_id(mail.message_id):
        return "our own message"
    # Our receiving server found the From forged: the receipt would go to someone who did not
    # write (backscatter, or a way to make us mail a resident about a case in their name).
    forged = authresults.sender_verification_failure(mail)
    if forged:
        return f"sender not verified ({forged})"
    return ""
