"""Logging a contact in one go: a phone call, a visit at a service office or a letter.

One form, one save: find or create the resident (by identity number, phone or e-mail), open a
case for the contact (or add it to one of the resident's cases), classify it, and resolve it at
first contact when the agent did. Everything happens in one transaction: an error anywhere
writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from cases import identity, permissions
from cases.choices import Channel, Nature
from cases.models import Case, Category, Contact, Resident
from cases.selectors import case_get, resident_visible_queryset
from cases.services.actors import Actor
from cases.services.cases import ContactInput, case_add_contact, case_create_with_contact
from cases.services.residents import resident_create, resident_find_or_create_by_contact
from cases.services.transitions import case_resolve_at_first_contact
from common.exceptions import ApplicationError, NotFoundError, PermissionDeniedError

#: Channels an agent logs by hand (the others arrive by themselves).
LOGGED_CHANNELS = (Channel.PHONE, Channel.VISIT, Channel.LETTER)
SCAN_MAX_BYTES = 20 * 1024 * 1024

# Magic numbers of the scan formats we accept (checked on content, never on the file name).
_SCAN_TYPES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)


@dataclass(frozen=True)
class ContactLogInput:
    channel: str
    subject: str
    description: str = ""
    category: Category | None = None
    nature: str = Nature.INFORMATION
    failure_demand: bool = False
    resolved_at_first_contact: bool = False
    duration_seconds: int | None = None
    summary: str = ""
    resident_id: int | None = None
    name: str = ""
    phone: str = ""
    email: str = ""
    personal_id: str = ""
    case_reference: str = ""


def scan_type(head: bytes) -> str | None:
    return next((kind for magic, kind in _SCAN_TYPES if head.startswith(magic)), None)


def _check_scan(scan: UploadedFile | None, channel: str) -> None:
    if scan is None:
        return
    if channel != Channel.LETTER:
        raise ApplicationError(
            _("Only a letter has a scan."),
            fields={"scan": [_("Remove the file or choose Letter.")]},
        )
    if scan.size and scan.size > SCAN_MAX_BYTES:
        raise ApplicationError(
            _("The scan is too large."),
            fields={
                "scan": [_("The scan may be at most %(mb)d MB.") % {"mb": SCAN_MAX_BYTES // 2**20}]
            },
        )
    head = scan.read(16)
    scan.seek(0)
    if scan_type(head) is None:
        raise ApplicationError(
            _("The scan is not a PDF or an image."),
            fields={"scan": [_("Upload a PDF, JPEG, PNG or TIFF file.")]},
        )


def _resident(actor: Actor, data: ContactLogInput) -> Resident | None:
    user = actor.user
    if data.resident_id:
        found = resident_visible_queryset(user=user).filter(pk=data.resident_id).first()  # type: ignore[arg-type]
        if found is None:
            raise NotFoundError(_("No such resident."))
        return found
    if data.personal_id.strip():
        try:
            pid = identity.normalize_personal_id(
                data.personal_id, country=settings.MUNICIPALITY_COUNTRY
            )
        except Exception as exc:  # ValidationError with the reason
            raise ApplicationError(
                _("The identity number is not valid."),
                fields={"personal_id": [getattr(exc, "messages", [str(exc)])[0]]},
            ) from None
        found = Resident.objects.filter(personal_id=pid).first()
        if found is not None:
            return found
        return resident_create(
            actor=actor,
            name=data.name,
            personal_id=data.personal_id,
            emails=[data.email] if data.email.strip() else [],
            phones=[data.phone] if data.phone.strip() else [],
        )
    if data.phone.strip() or data.email.strip():
        for field, value, check in (
            ("phone", data.phone, identity.normalize_phone),
            ("email", data.email, identity.normalize_email),
        ):
            if value.strip():
                try:
                    check(value)
                except Exception as exc:
                    raise ApplicationError(
                        _("Check the resident's contact details."),
                        fields={field: [getattr(exc, "messages", [str(exc)])[0]]},
                    ) from None
        return resident_find_or_create_by_contact(
            email=data.email, phone=data.phone, name=data.name
        )
    return None  # an anonymous contact (a question at the desk)


@transaction.atomic
def contact_log(
    *, actor: Actor, data: ContactLogInput, scan: UploadedFile | None = None
) -> tuple[Case, Contact]:
    """Record the contact as described in ``data``; returns the case and the contact."""
    if not actor.is_staff or not permissions.is_contact_center_staff(actor.user):  # type: ignore[arg-type]
        raise PermissionDeniedError(_("Only the contact center logs contacts."))
    if data.channel not in LOGGED_CHANNELS:
        raise ApplicationError(
            _("Choose phone, visit or letter."),
            fields={"channel": [_("Choose phone, visit or letter.")]},
        )
    _check_scan(scan, data.channel)
    contact = ContactInput(
        channel=data.channel,
        nature=data.nature,
        failure_demand=data.failure_demand,
        duration_seconds=data.duration_seconds,
        summary=data.summary.strip(),
    )
    if data.case_reference.strip():
        case = case_get(user=actor.user, reference=data.case_reference.strip())  # type: ignore[arg-type]
        if data.resolved_at_first_contact:
            raise ApplicationError(
                _("A contact on an existing case is not a first contact."),
                fields={"resolved_at_first_contact": [_("Untick it, or leave the case empty.")]},
            )
        row = case_add_contact(actor=actor, case_id=case.pk, contact=contact)
    else:
        resident = _resident(actor, data)
        case, row = case_create_with_contact(
            actor=actor,
            subject=data.subject,
            description=data.description,
            contact=contact,
            resident=resident,
            category=data.category,
        )
        if data.resolved_at_first_contact:
            case = case_resolve_at_first_contact(actor=actor, case_id=case.pk)
            row.refresh_from_db(fields=["resolved_at_first_contact"])
    if scan is not None:
        row.scan.save(scan.name or "scan", scan, save=False)
        Contact.objects.filter(pk=row.pk).update(scan=row.scan.name)
    return case, row
