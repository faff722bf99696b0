"""Turns a recorded e-service submission into a case (``intake`` finds ``process`` by convention:
sources ``eservice:<category code>``).

Everything the case is made of comes from the payload recorded at submission (texts, field
labels and values in the resident's language), so reprocessing a quarantined submission next
week gives the same case even if the form's labels changed since. Only the category row and the
resident are looked up.
"""

from __future__ import annotations

from typing import Any

import phonenumbers
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cases import identity
from cases.choices import Channel, Nature
from cases.models import Case, Category, Resident
from cases.services.actors import Actor
from cases.services.cases import ContactInput, case_create_with_contact
from cases.services.residents import resident_find_or_create_by_contact
from channels_app.email.outbound import email_queue_unless_auto_sent
from channels_app.eservice.services import category_by_id
from channels_app.intake import IntakeResult, Quarantine
from channels_app.models import InboundMessage, OutboundMessage, OutboundStatus

LANGUAGES = ("sv", "da", "en")
SUBJECT_WORDS = 8
SUBJECT_MAX_CHARS = 200
PAYLOAD_VERSION = 1


def process(message: InboundMessage) -> IntakeResult:
    payload = message.payload or {}
    if payload.get("honeypot"):
        # Kept for the audit trail (nothing is silently dropped), but no case: a bot filled in
        # the field no person can see.
        return IntakeResult(case=None, note="honeypot")
    if payload.get("version") != PAYLOAD_VERSION:
        raise Quarantine(f"Unknown e-service payload version {payload.get('version')!r}.")
    description = str(payload.get("description") or "").strip()
    if not description:
        raise Quarantine("The submission has no description.")
    lang = payload.get("lang") if payload.get("lang") in LANGUAGES else settings.LANGUAGE_CODE[:2]
    category_name = str((payload.get("category") or {}).get("name") or "")
    with translation.override(lang):
        category = _category(payload)
        resident = resident_find_or_create_by_contact(
            email=payload.get("email", ""),
            phone=payload.get("phone", ""),
            name=payload.get("name", ""),
            language=lang,
        )
        case, contact = case_create_with_contact(
            actor=Actor.resident(Channel.ESERVICE),
            location_key=_location_key(payload),
            subject=case_subject(category_name, description),
            description=case_description(payload),
            category=category,
            resident=resident,
            language=lang,
            contact=ContactInput(
                channel=Channel.ESERVICE,
                nature=Nature.TRANSACTION,
                occurred_at=message.received_at,
                summary=_("E-service form: %(category)s") % {"category": category_name},
            ),
        )
        _queue_receipt(message=message, case=case, resident=resident, category=category)
    return IntakeResult(case=case, contact=contact)


def _location_key(payload: dict[str, Any]) -> str:
    """Where the reported fault is: the first location field answered on the form."""
    for value in (payload.get("fields") or {}).values():
        if isinstance(value, dict) and ("lat" in value or "address" in value):
            return identity.location_key(
                lat=value.get("lat"), long=value.get("long"), address=value.get("address", "")
            )
    return ""


def _category(payload: dict[str, Any]) -> Category | None:
    """The submitted category version; if it has ended since (a late reprocess), its successor
    valid today; else none, and the contact center classifies the case."""
    pk = (payload.get("category") or {}).get("id")
    category = category_by_id(int(pk)) if pk else None
    today = timezone.localdate()
    if category is None or category.is_valid_on(today):
        return category
    return category.successors.valid_on(today).order_by("code").first()


def case_subject(category_name: str, description: str) -> str:
    """ "<category>: <the first words of the description>…"."""
    words = description.split()
    start = " ".join(words[:SUBJECT_WORDS])
    if len(words) > SUBJECT_WORDS:
        start += "…"
    subject = f"{category_name}: {start}" if category_name else start
    if len(subject) > SUBJECT_MAX_CHARS:
        subject = subject[: SUBJECT_MAX_CHARS - 1].rstrip() + "…"
    return subject


def case_description(payload: dict[str, Any]) -> str:
    """The resident's text, then the form's answers and contact details as "label: value" lines."""
    lines = [str(payload.get("description") or "").strip(), "", _("Answers in the form")]
    for label, value in payload.get("display") or []:
        lines.append(f"{label}: {value}")
    contact_lines = [
        (_("Name"), payload.get("name")),
        (_("E-mail"), payload.get("email")),
        (_("Phone"), payload.get("phone")),
        (_("Postal address"), payload.get("address")),
        (_("Wants to be reached"), payload.get("contact_preference_label")),
    ]
    for label, value in contact_lines:
        if value:
            lines.append(f"{label}: {value}")
    return "\n".join(lines)


# --- Receipts -----------------------------------------------------------------------------------
def receipt_url(payload: dict[str, Any], token: str) -> str:
    code = (payload.get("category") or {}).get("code", "")
    return f"{settings.PUBLIC_BASE_URL}/e/{code}/receipt/{token}/?lang={payload.get('lang', '')}"


def _queue_receipt(
    *, message: InboundMessage, case: Case, resident: Resident | None, category: Category | None
) -> None:
    """A receipt by e-mail when the resident gave an address, else by SMS to a mobile number.

    Written in the processing transaction: a rolled-back case sends no receipt, and the row is
    the durable promise that the receipt will be sent.
    """
    payload = message.payload
    email, phone = payload.get("email", ""), payload.get("phone", "")
    # A sensitive category's name is itself sensitive ("report of concern"): not in plain mail.
    shown = (
        (payload.get("category") or {}).get("name", "")
        if category is None or not category.sensitive
        else ""
    )
    if email:
        lines = [
            # Never the free-text name: the address is unverified, and a name like "Buy pills
            # at evil.example" would be mailed to anyone under our sender.
            _("Hello,"),
            "",
            _("We have received your errand and registered it as %(reference)s.")
            % {"reference": case.reference},
        ]
        if shown:
            lines.append(_("Errand: %(category)s") % {"category": shown})
        lines += [
            "",
            _(
                "We will look at your errand and contact you if we need more information. "
                "Please give the reference %(reference)s if you contact us about it."
            )
            % {"reference": case.reference},
            "",
            _("Your receipt: %(url)s") % {"url": receipt_url(payload, message.external_id)},
            "",
            _("This message was sent automatically; you do not need to answer it."),
        ]
        _email(
            case=case,
            to=email,
            subject=_("We have received your errand %(reference)s") % {"reference": case.reference},
            body="\n".join(lines),
            resident=resident,
        )
    elif phone and _is_mobile(phone):
        # Only the row for now: the SMS sender (Twilio) comes in a later issue and sends every
        # pending SMS row, this one included.
        OutboundMessage.objects.create(
            channel=Channel.SMS,
            case=case,
            resident=resident,
            to=phone,
            body=_("We have received your errand %(reference)s. We will contact you if needed.")
            % {"reference": case.reference},
            auto_generated=True,
            kind="receipt",
            status=OutboundStatus.PENDING,
        )


def _is_mobile(number: str) -> bool:
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(parsed) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


def _email(*, case: Case, to: str, subject: str, body: str, resident: Resident | None) -> None:
    """Through the e-mail channel's queue under its RFC 3834 rule: the address is typed into a
    public form and unverified, so at most one automatic message goes to it within
    ``AUTO_REPLY_WINDOW_HOURS`` (the same rule as e-mail receipts); otherwise nothing is
    written."""
    email_queue_unless_auto_sent(
        case=case, to=to, subject=subject, body=body, kind="receipt", resident=resident
    )
