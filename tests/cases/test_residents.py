"""Residents: representatives with power of attorney, exemption from digital channels."""

from __future__ import annotations

import datetime

import pytest

from cases.models import PowerOfAttorney, Resident
from cases.services.actors import Actor
from cases.services.residents import resident_add_representative, resident_create
from common.exceptions import ApplicationError, PermissionDeniedError
from tests.municipality import Org

pytestmark = pytest.mark.django_db


def test_a_representative_is_recorded_for_a_resident(org: Org) -> None:
    anna = resident_create(actor=Actor.staff(org.agent), name="Anna", personal_id="811218-9876")
    son = resident_create(actor=Actor.staff(org.agent), name="Erik", phones=["0701234567"])
    poa = resident_add_representative(
        actor=Actor.staff(org.agent),
        resident=anna,
        representative=son,
        scope="Hemtjänst",
        valid_until=datetime.date(2027, 1, 1),
    )
    assert list(
        anna.representatives.values_list("representative__name", "scope", "receives_copies")
    ) == [("Erik", "Hemtjänst", True)]
    assert list(son.represents.values_list("resident__name", flat=True)) == ["Anna"]
    assert poa.valid_until == datetime.date(2027, 1, 1)


def test_nobody_represents_themselves_and_handlers_cannot_register_representatives(
    org: Org,
) -> None:
    anna = resident_create(actor=Actor.staff(org.agent), name="Anna")
    other = resident_create(actor=Actor.staff(org.agent), name="Other")
    with pytest.raises(ApplicationError):
        resident_add_representative(
            actor=Actor.staff(org.agent), resident=anna, representative=anna
        )
    with pytest.raises(PermissionDeniedError):
        resident_add_representative(
            actor=Actor.staff(org.waste_handler), resident=anna, representative=other
        )
    assert PowerOfAttorney.objects.count() == 0


def test_exemption_from_digital_channels_has_a_reason_and_a_validity(org: Org) -> None:
    exempt = resident_create(
        actor=Actor.staff(org.agent),
        name="Karl",
        preferred_channel="letter",
        digital_exemption_reason="Synnedsättning, kan inte använda e-tjänster",
        digital_exemption_until=datetime.date(2026, 12, 31),
    )
    assert exempt.is_digitally_exempt(on=datetime.date(2026, 12, 31)) is True
    assert exempt.is_digitally_exempt(on=datetime.date(2027, 1, 1)) is False
    assert Resident(name="No reason").is_digitally_exempt() is False


def test_an_exempt_resident_cannot_prefer_a_digital_channel(org: Org) -> None:
    with pytest.raises(ApplicationError) as exc:
        resident_create(
            actor=Actor.staff(org.agent),
            name="Karl",
            preferred_channel="email",
            digital_exemption_reason="Ingen dator",
        )
    assert list(exc.value.fields) == ["preferred_channel"]
    with pytest.raises(ApplicationError) as exc:
        resident_create(
            actor=Actor.staff(org.agent),
            name="Karl",
            digital_exemption_until=datetime.date(2027, 1, 1),
        )
    assert list(exc.value.fields) == ["digital_exemption_reason"]
    assert Resident.objects.count() == 0


def test_a_person_has_no_organisation_number_and_a_business_no_personal_id(org: Org) -> None:
    with pytest.raises(ApplicationError) as exc:
        resident_create(
            actor=Actor.staff(org.agent), kind="business", name="AB", personal_id="811218-9876"
        )
    assert list(exc.value.fields) == ["personal_id"]
    business = resident_create(
        actor=Actor.staff(org.agent), kind="business", name="Exempel AB", org_number="556036-0793"
    )
    assert business.org_number == "5560360793"
