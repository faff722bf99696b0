"""Answering a case by e-mail, threaded so the resident's client shows one conversation."""

from __future__ import annotations

import email
import email.policy

from django.db import transaction
from django.utils.translation import gettext as _

from cases.choices import Channel, Direction
from cases.services.actors import Actor
from cases.services.cases import ContactInput, case_record_outbound
from cases.services.common import case_lock, ensure_may_work_on
from channels_app.email.outbound import email_queue
from channels_app.email.parse import message_ids
from channels_app.email.receipts import sensitive_reply_text
from channels_app.models import InboundMessage, InboundStatus, OutboundMessage
from common.exceptions import ApplicationError


def _thread_headers(case_id: int) -> tuple[str, str]:
    """(In-Reply-To, References) pointing at the last e-mail the resident sent on the case."""
    last = (
        InboundMessage.objects.filter(
            case_id=case_id, channel=Channel.EMAIL, status=InboundStatus.PROCESSED
        )
        .order_by("-received_at", "-pk")
        .only("raw", "external_id")
        .first()
    )
    if last is None or last.external_id.startswith("sha256:"):
        return "", ""
    in_reply_to = f"<{last.external_id}>"
    # Only the header block is parsed: the body may be megabytes of attachments.
    raw = bytes(last.raw)
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    headers = email.message_from_bytes(head, policy=email.policy.compat32)
    chain = message_ids(str(headers.get("References", "") or ""))[-10:]
    references = " ".join([*(f"<{m}>" for m in chain if f"<{m}>" != in_reply_to), in_reply_to])
    return in_reply_to, references


@transaction.atomic
def case_reply_email(*, actor: Actor, case_id: int, body: str) -> OutboundMessage:
    """Send ``body`` to the case's resident (first e-mail address) and record the contact.

    A case of a sensitive category is never answered in plain e-mail: the mail only says that
    a message is waiting and links to the resident's case page.
    """
    case = case_lock(case_id=case_id, actor=actor)
    ensure_may_work_on(actor, case)
    if not body.strip():
        raise ApplicationError(
            _("The reply cannot be empty."), fields={"body": [_("This field is required.")]}
        )
    resident = case.resident
    address = resident.emails.order_by("pk").first() if resident is not None else None
    if address is None:
        raise ApplicationError(
            _("The resident of case %(ref)s has no e-mail address.") % {"ref": case.reference},
            code="no_email_address",
        )
    in_reply_to, references = _thread_headers(case.pk)
    if case.category is not None and case.category.sensitive:
        subject, mail_body = sensitive_reply_text(
            language=case.language, reference=case.reference or ""
        )
    else:
        subject, mail_body = f"Re: {case.subject} [{case.reference}]", body
    row = email_queue(
        case=case,
        to=address.address,
        subject=subject,
        body=mail_body,
        kind="reply",
        auto_generated=False,
        in_reply_to=in_reply_to,
        references=references,
        resident=resident,
    )
    case_record_outbound(
        actor=actor,
        case=case,
        contact=ContactInput(
            channel=Channel.EMAIL, direction=Direction.OUTBOUND, summary=body.strip()[:500]
        ),
    )
    return row
