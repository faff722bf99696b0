"""Logging a phone call, a visit or a letter in one go."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cases.models import Case, CaseEvent, CaseState, Contact, Resident
from tests.municipality import Org

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def login(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def form(**overrides):  # type: ignore[no-untyped-def]
    data = {
        "channel": "phone",
        "phone": "070-123 45 67",
        "name": "Eva Ek",
        "subject": "Fråga om sophämtning",
        "category": "missed-bin",
        "nature": "information",
        "duration_minutes": "4",
        "summary": "Förklarade hämtschemat",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_a_call_resolved_at_first_contact_in_one_save(org: Org) -> None:
    response = login(org.agent).post(
        "/cases/log/", form(resolved_at_first_contact="on", failure_demand="on")
    )

    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.reference}/"
    assert (case.state, case.category, case.origin_channel) == (
        CaseState.RESOLVED_FIRST_CONTACT,
        org.bins,
        "phone",
    )
    resident = Resident.objects.get()
    assert (resident.name, [p.number for p in resident.phones.all()]) == (
        "Eva Ek",
        ["+46701234567"],
    )
    contact = Contact.objects.get()
    assert (
        contact.channel,
        contact.nature,
        contact.failure_demand,
        contact.resolved_at_first_contact,
        contact.duration_seconds,
        contact.summary,
        contact.agent,
    ) == ("phone", "information", True, True, 240, "Förklarade hämtschemat", org.agent)


def test_a_known_caller_is_found_not_registered_again(org: Org) -> None:
    client = login(org.agent)
    client.post("/cases/log/", form())
    client.post("/cases/log/", form(phone="+46 70 123 45 67", subject="Igen"))

    assert Resident.objects.count() == 1
    assert list(Case.objects.order_by().values_list("resident_id", flat=True).distinct()) == [
        Resident.objects.get().pk
    ]


def test_a_letter_with_its_scan(org: Org) -> None:
    scan = SimpleUploadedFile("brev.pdf", PDF, content_type="application/pdf")
    response = login(org.agent).post(
        "/cases/log/",
        form(channel="letter", phone="", email="kalle@example.se", nature="transaction", scan=scan),
    )

    assert response.status_code == 302
    contact = Contact.objects.get()
    assert contact.channel == "letter" and contact.scan.name.startswith("letters/")
    assert contact.scan.read() == PDF


def test_a_scan_that_is_not_a_pdf_or_image_is_refused_and_nothing_is_saved(org: Org) -> None:
    scan = SimpleUploadedFile("brev.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")

    response = login(org.agent).post("/cases/log/", form(channel="letter", scan=scan))

    assert response.status_code == 400
    assert "Upload a PDF, JPEG, PNG or TIFF file." in response.content.decode()
    assert (Case.objects.count(), Contact.objects.count(), Resident.objects.count()) == (0, 0, 0)


def test_a_bad_phone_number_says_what_to_fix_and_nothing_is_saved(org: Org) -> None:
    response = login(org.agent).post("/cases/log/", form(phone="12"))

    assert response.status_code == 400
    assert 'id="id_phone-error"' in response.content.decode()
    assert (Case.objects.count(), Resident.objects.count()) == (0, 0)


def test_a_contact_added_to_an_existing_case(org: Org) -> None:
    case = org.new_case()
    response = login(org.agent).post(
        "/cases/log/", form(case_reference=case.reference, subject="", failure_demand="on")
    )

    assert response.status_code == 302
    assert Case.objects.count() == 1
    assert Contact.objects.filter(case=case).count() == 2
    assert Contact.objects.filter(case=case, failure_demand=True).count() == 1


def test_a_department_handler_cannot_log_contacts(org: Org) -> None:
    response = login(org.waste_handler).post("/cases/log/", form())
    assert response.status_code == 404
    assert Case.objects.count() == 0
    assert CaseEvent.objects.count() == 0
