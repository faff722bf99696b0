"""Creating and updating residents. Identity numbers, phones and e-mails are normalised here,
so lookups by any spelling find the same resident."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from cases import identity, permissions
from cases.choices import ContactPreference, Language
from cases.models import PowerOfAttorney, Resident, ResidentEmail, ResidentPhone
from cases.services.actors import Actor
from common.exceptions import ApplicationError, ConflictError, PermissionDeniedError
from common.locks import advisory_xact_lock


def _normalised_list(
    errors: dict[str, list[str]], field: str, values: Iterable[str], func: Callable[[str], str]
) -> list[str]:
    out: list[str] = []
    for index, value in enumerate(values):
        result = identity.collect_errors(errors, f"{field}.{index}", lambda v=value: func(v))
        if result and result not in out:
            out.append(result)
    return out


@transaction.atomic
def resident_create(
    *,
    actor: Actor,
    kind: str = Resident.Kind.PERSON,
    name: str = "",
    personal_id: str = "",
    personal_id_country: str = "",
    org_number: str = "",
    emails: Iterable[str] = (),
    phones: Iterable[str] = (),
    preferred_language: str = Language.SWEDISH,
    preferred_channel: str = "",
    postal_address: str = "",
    digital_exemption_reason: str = "",
    digital_exemption_until: datetime.date | None = None,
) -> Resident:
    """Register a resident. Every field error is reported at once; nothing is written on error.

    A personal identity number or organisation number that is already registered is a conflict
    (409) naming the existing resident, so the caller can use that one instead.
    """
    if actor.is_staff and not permissions.is_contact_center_staff(actor.user):  # type: ignore[arg-type]
        raise PermissionDeniedError(_("Only the contact center registers residents."))
    errors: dict[str, list[str]] = {}
    country = personal_id_country or settings.MUNICIPALITY_COUNTRY
    pid = (
        identity.collect_errors(
            errors,
            "personal_id",
            lambda: identity.normalize_personal_id(personal_id, country=country),
        )
        if personal_id.strip()
        else None
    )
    org = (
        identity.collect_errors(
            errors, "org_number", lambda: identity.normalize_org_number(org_number, country=country)
        )
        if org_number.strip()
        else None
    )
    email_list = _normalised_list(errors, "emails", emails, identity.normalize_email)
    phone_list = _normalised_list(errors, "phones", phones, identity.normalize_phone)
    if kind not in Resident.Kind.values:
        errors["kind"] = [_("Choose person, business or association.")]
    if kind == Resident.Kind.PERSON and org:
        errors.setdefault("org_number", []).append(_("A person has no organisation number."))
    if kind != Resident.Kind.PERSON and pid:
        errors.setdefault("personal_id", []).append(
            _("Only a person has a personal identity number.")
        )
    if preferred_language not in Language.values:
        errors["preferred_language"] = [_("Unsupported language.")]
    if preferred_channel and preferred_channel not in ContactPreference.values:
        errors["preferred_channel"] = [_("Choose e-mail, SMS, phone or letter.")]
    if digital_exemption_until and not digital_exemption_reason.strip():
        errors["digital_exemption_reason"] = [_("Give the reason for the exemption.")]
    if digital_exemption_reason.strip() and preferred_channel in (
        ContactPreference.EMAIL,
        ContactPreference.SMS,
    ):
        errors.setdefault("preferred_channel", []).append(
            _("A resident exempt from digital channels is reached by phone or letter.")
        )
    if errors:
        raise ApplicationError(_("The resident could not be registered."), fields=errors)

    duplicate = None
    if pid:
        duplicate = Resident.objects.filter(personal_id=pid, personal_id_country=country).first()
    if duplicate is None and org:
        duplicate = Resident.objects.filter(org_number=org).first()
    if duplicate is not None:
        raise ConflictError(
            _("This resident is already registered."),
            code="duplicate_resident",
            extra={"resident_id": duplicate.pk},
        )
    try:
        with transaction.atomic():
            resident = Resident.objects.create(
                kind=kind,
                name=name.strip(),
                personal_id=pid,
                personal_id_country=country if pid else "",
                org_number=org,
                preferred_language=preferred_language,
                preferred_channel=preferred_channel,
                postal_address=postal_address.strip(),
                digital_exemption_reason=digital_exemption_reason.strip(),
                digital_exemption_until=digital_exemption_until,
            )
    except IntegrityError:
        # Registered by someone else between our check and our insert.
        raise ConflictError(
            _("This resident is already registered."), code="duplicate_resident"
        ) from None
    ResidentEmail.objects.bulk_create(
        [ResidentEmail(resident=resident, address=a) for a in email_list]
    )
    ResidentPhone.objects.bulk_create(
        [ResidentPhone(resident=resident, number=n) for n in phone_list]
    )
    return resident


@transaction.atomic
def resident_add_representative(
    *,
    actor: Actor,
    resident: Resident,
    representative: Resident,
    scope: str = "",
    valid_until: datetime.date | None = None,
) -> PowerOfAttorney:
    """Record a power of attorney. The representative acts in their own name, never the resident's login."""
    if actor.is_staff and not permissions.is_contact_center_staff(actor.user):  # type: ignore[arg-type]
        raise PermissionDeniedError(_("Only the contact center registers representatives."))
    if resident.pk == representative.pk:
        raise ApplicationError(
            _("A resident cannot represent themselves."),
            fields={"representative": [_("Choose another person.")]},
        )
    return PowerOfAttorney.objects.create(
        resident=resident, representative=representative, scope=scope, valid_until=valid_until
    )


# savepoint=False: nothing in here raises after a write, and intake calls it inside its own
# transaction for every message, where a savepoint would cost two statements more each time.
@transaction.atomic(savepoint=False)
def resident_find_or_create_by_contact(
    *,
    email: str = "",
    phone: str = "",
    name: str = "",
    language: str = "",
) -> Resident | None:
    """The resident who wrote from this address or number, or a new one (intake channels).

    The oldest resident with that address wins when several share it (a family address).
    Returns None when neither an e-mail nor a phone number is usable: an anonymous contact.
    Invalid values are ignored here, not raised: intake must not refuse a message because its
    sender's address is odd.
    """
    address = number = ""
    try:
        address = identity.normalize_email(email) if email else ""
    except ValidationError:
        address = ""
    try:
        number = identity.normalize_phone(phone) if phone else ""
    except ValidationError:
        number = ""
    if not address and not number:
        return None
    found = _resident_by(address, number)
    if found is not None:  # most senders are known: one query, no lock
        return found
    # Two messages from a new sender processed at once must not create two residents: on
    # PostgreSQL serialise on the address for this transaction (SQLite serialises writers),
    # then look again: the lock holder before us may have created them meanwhile (READ
    # COMMITTED: the new statement sees what was committed while we waited).
    advisory_xact_lock(f"resident:{address or number}")
    found = _resident_by(address, number)
    if found is not None:
        return found
    resident = Resident.objects.create(
        name=name.strip()[:200],
        preferred_language=language if language in Language.values else settings.LANGUAGE_CODE[:2],
        preferred_channel=ContactPreference.EMAIL if address else ContactPreference.SMS,
    )
    if address:
        ResidentEmail.objects.create(resident=resident, address=address)
    if number:
        ResidentPhone.objects.create(resident=resident, number=number)
    return resident


def _resident_by(address: str, number: str) -> Resident | None:
    """The oldest resident with this address (else number): ``first()`` orders by pk."""
    if address:
        return Resident.objects.filter(emails__address=address).order_by("pk").first()
    return Resident.objects.filter(phones__number=number).order_by("pk").first()
