"""Turns a recorded inbound SMS into a contact (the intake convention: ``process(message)``).

The sender's number finds the resident (or registers one). The text continues that resident's
active case; a reply to a resolved case reopens it, as a reply by e-mail does; otherwise it
opens a new case, which routing sends on and whose "received" notice carries the reference.
STOP and START (and their Swedish and Danish words) only change the number's opt-out and make
no case. A picture message keeps the addresses of its media in the contact: the files stay in
Twilio's cloud, behind its authentication.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

from cases import identity
from cases.choices import Channel
from cases.models import Case
from cases.models.case import ACTIVE_STATES, DONE_STATES
from cases.services.actors import Actor
from cases.services.cases import ContactInput, case_add_contact, case_create_with_contact
from cases.services.residents import resident_find_or_create_by_contact
from cases.services.transitions import case_reopen
from channels_app.intake import IntakeResult, Quarantine
from channels_app.models import InboundMessage
from channels_app.sms.optout import OPT_IN_WORDS, OPT_OUT_WORDS, keyword_of, sms_opt_in, sms_opt_out

SUBJECT_CHARS = 80


def _media(payload: dict[str, str]) -> list[str]:
    try:
        count = min(int(payload.get("NumMedia", "0") or 0), 10)
    except ValueError:
        count = 0
    return [
        f"{payload.get(f'MediaContentType{i}', '')} {payload.get(f'MediaUrl{i}', '')}".strip()
        for i in range(count)
        if payload.get(f"MediaUrl{i}")
    ]


def process(message: InboundMessage) -> IntakeResult:
    payload = message.payload
    body = (payload.get("Body") or "").strip()
    try:
        number = identity.normalize_phone(payload.get("From", ""))
    except ValidationError as exc:
        with translation.override(settings.LANGUAGE_CODE):  # stored: the site's language
            reason = _("The sender's number %(number)r is not a usable phone number.") % {
                "number": payload.get("From", "")
            }
        raise Quarantine(reason) from exc
    word = keyword_of(body)
    if word in OPT_OUT_WORDS:
        sms_opt_out(number=number, keyword=word, at=message.received_at)
        return IntakeResult(case=None, note=f"Opt-out ({word}): no more SMS to {number}.")
    if word in OPT_IN_WORDS:
        sms_opt_in(number=number)
        return IntakeResult(case=None, note=f"Opt-in ({word}): SMS to {number} allowed again.")
    media = _media(payload)
    if not body and not media:
        return IntakeResult(case=None, note="An empty SMS: nothing to answer.")
    text = "\n".join([body, *media]).strip()
    resident = resident_find_or_create_by_contact(phone=number)
    actor = Actor.resident(Channel.SMS)
    contact_input = ContactInput(
        channel=Channel.SMS, occurred_at=message.received_at, summary=text[:2000]
    )
    case = (
        Case.objects.filter(resident=resident, state__in=(*ACTIVE_STATES, *DONE_STATES))
        .order_by("-created_at", "-pk")
        .only("pk", "state", "reference")
        .first()
    )
    if case is not None:
        contact = case_add_contact(actor=actor, case_id=case.pk, contact=contact_input)
        note = f"Continues {case.reference}."
        if case.state in DONE_STATES:
            # A reply to a finished case must not vanish: back to the contact center, open.
            with translation.override(settings.LANGUAGE_CODE):
                reason = _("The resident replied by SMS.")
            case = case_reopen(actor=Actor.system(), case_id=case.pk, reason=reason)
            note += " Case reopened."
        return IntakeResult(case=case, contact=contact, note=note)
    if body:
        first_line = body.splitlines()[0]
    else:
        with translation.override(resident.preferred_language):  # the case's language
            first_line = _("Picture message")
    case, contact = case_create_with_contact(
        actor=actor,
        subject=first_line[:SUBJECT_CHARS] or "SMS",
        description=text,
        contact=contact_input,
        resident=resident,
        language=resident.preferred_language,
    )
    return IntakeResult(case=case, contact=contact, note="New case.")
