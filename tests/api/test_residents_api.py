"""Residents in the API: create with normalised identity data, find by any spelling."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from cases.models import Resident, ResidentEmail, ResidentPhone
from tests.municipality import Org

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(user)
    return client


ANNA = {
    "name": "Anna Svensson",
    "personal_id": "811218-9876",
    "emails": ["Anna.Svensson@Example.SE"],
    "phones": ["070-123 45 67"],
    "preferred_language": "sv",
    "preferred_channel": "sms",
}


def test_create_normalises_identity_phone_and_email(org: Org) -> None:
    r = client_for(org.agent).post("/api/v1/residents/", ANNA, format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["personal_id"] == "19811218-9876"
    assert body["personal_id_country"] == "SE"
    assert body["emails"] == ["anna.svensson@example.se"]
    assert body["phones"] == ["+46701234567"]
    resident = Resident.objects.get()
    assert resident.personal_id == "198112189876"


def test_invalid_identity_and_phone_are_reported_per_field_and_nothing_is_written(org: Org) -> None:
    r = client_for(org.agent).post(
        "/api/v1/residents/",
        {**ANNA, "personal_id": "811218-9877", "phones": ["12"], "emails": ["not-an-email"]},
        format="json",
    )
    assert r.status_code == 400
    assert set(r.json()["fields"]) == {"personal_id", "phones.0", "emails.0"}
    assert Resident.objects.count() == 0
    assert ResidentEmail.objects.count() == 0 and ResidentPhone.objects.count() == 0


def test_a_registered_identity_number_is_a_conflict_naming_the_resident(org: Org) -> None:
    first = client_for(org.agent).post("/api/v1/residents/", ANNA, format="json").json()
    r = client_for(org.agent).post(
        "/api/v1/residents/", {**ANNA, "personal_id": "19811218-9876"}, format="json"
    )
    assert r.status_code == 409
    assert (r.json()["code"], r.json()["resident_id"]) == ("duplicate_resident", first["id"])
    assert Resident.objects.count() == 1


def test_danish_cpr_that_fails_modulus_11_is_accepted(org: Org) -> None:
    # 070761-4286: a valid date; fails the old modulus-11 check (allowed since 2007).
    r = client_for(org.agent).post(
        "/api/v1/residents/",
        {"name": "Jens", "personal_id": "070761-4286", "personal_id_country": "DK"},
        format="json",
    )
    assert r.status_code == 201, r.json()
    assert r.json()["personal_id"] == "070761-4286"


@pytest.mark.parametrize(
    "query",
    [
        "phone=%2B46701234567",
        "phone=0701234567",
        "email=ANNA.svensson%40example.se",
        "personal_id=198112189876",
    ],
)
def test_find_by_any_spelling(org: Org, query: str) -> None:
    created = client_for(org.agent).post("/api/v1/residents/", ANNA, format="json").json()
    client_for(org.agent).post(
        "/api/v1/residents/", {"name": "Other", "phones": ["070-765 43 21"]}, format="json"
    )
    r = client_for(org.agent).get(f"/api/v1/residents/?{query}")
    assert r.status_code == 200
    assert [x["id"] for x in r.json()["results"]] == [created["id"]]


def test_search_needs_a_key_and_valid_values(org: Org) -> None:
    assert client_for(org.agent).get("/api/v1/residents/").status_code == 400
    r = client_for(org.agent).get("/api/v1/residents/?personal_id=123")
    assert r.status_code == 400
    assert list(r.json()["fields"]) == ["personal_id"]


def test_department_staff_find_only_residents_of_their_cases(org: Org) -> None:
    from cases.services.actors import Actor
    from cases.services.transitions import case_forward

    anna = client_for(org.agent).post("/api/v1/residents/", ANNA, format="json").json()
    assert (
        client_for(org.waste_handler).get("/api/v1/residents/?phone=0701234567").json()["results"]
        == []
    )
    assert client_for(org.waste_handler).get(f"/api/v1/residents/{anna['id']}/").status_code == 404
    case = org.new_case()
    from cases.models import Case

    Case.objects.filter(pk=case.pk).update(resident_id=anna["id"])
    case_forward(actor=Actor.staff(org.agent), case_id=case.pk)
    assert [
        x["id"]
        for x in client_for(org.waste_handler)
        .get("/api/v1/residents/?phone=0701234567")
        .json()["results"]
    ] == [anna["id"]]
    assert (
        client_for(org.building_handler).get(f"/api/v1/residents/{anna['id']}/").status_code == 404
    )


def test_handlers_cannot_register_residents(org: Org) -> None:
    r = client_for(org.waste_handler).post("/api/v1/residents/", ANNA, format="json")
    assert r.status_code == 403
    assert Resident.objects.count() == 0
