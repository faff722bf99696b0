"""Answering a case by SMS from the case view."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from cases.choices import Channel, Direction
from cases.services.actors import Actor
from cases.services.cases import ContactInput, case_record_outbound
from cases.services.common import case_lock, ensure_may_work_on
from channels_app import intake
from channels_app.email.receipts import sensitive_reply_text
from channels_app.models import OutboundMessage
from channels_app.sms.optout import sms_opted_out
from common.exceptions import ApplicationError

#: Longer texts go out as several SMS segments; beyond this we ask for e-mail or a letter.
SMS_MAX_CHARS = 1000


@transaction.atomic
def case_reply_sms(*, actor: Actor, case_id: int, body: str) -> OutboundMessage:
    """Send ``body`` by SMS to the case's resident (first phone number) and record the contact.

    A case of a sensitive category never carries its content by SMS: the text only says that
    a message is waiting, with the case reference.
    """
    case = case_lock(case_id=case_id, actor=actor)
    ensure_may_work_on(actor, case)
    text = body.strip()
    if not text:
        raise ApplicationError(
            _("The reply cannot be empty."), fields={"body": [_("This field is required.")]}
        )
    if len(text) > SMS_MAX_CHARS:
        raise ApplicationError(
            _("An SMS may be at most %(n)d characters; answer by e-mail or letter instead.")
            % {"n": SMS_MAX_CHARS},
            fields={"body": [_("Shorten the text.")]},
        )
    resident = case.resident
    phone = resident.phones.order_by("pk").first() if resident is not None else None
    if phone is None:
        raise ApplicationError(
            _("The resident of case %(ref)s has no phone number.") % {"ref": case.reference},
            code="no_phone_number",
        )
    if sms_opted_out(number=phone.number):
        raise ApplicationError(
            _("%(number)s has answered STOP and gets no SMS from us; answer by e-mail or letter.")
            % {"number": phone.number},
            code="sms_opted_out",
        )
    if case.category is not None and case.category.sensitive:
        _subject, text = sensitive_reply_text(
            language=case.language, reference=case.reference or ""
        )
    contact = case_record_outbound(
        actor=actor,
        case=case,
        contact=ContactInput(channel=Channel.SMS, direction=Direction.OUTBOUND, summary=text[:500]),
    )
    row = OutboundMessage.objects.create(
        channel=Channel.SMS,
        case=case,
        resident=resident,
        to=phone.number,
        body=text,
        kind="reply",
        auto_generated=False,
        contact=contact,
        recipient_role="resident",
    )
    from channels_app.notices.tasks import outbound_send_batch_task, outbound_send_task

    intake.enqueue_on_commit_grouped(outbound_send_task, outbound_send_batch_task, row.pk)
    return row
