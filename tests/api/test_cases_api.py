"""The REST API v1 for cases: create with a first contact, list, detail, one endpoint per
transition, and the JSON error shape."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cases.models import Case, CaseEvent, CaseState, Contact
from tests.municipality import Org

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(user)
    return client


CREATE = {
    "subject": "Gatlampan på Björkvägen är släckt",
    "description": "Sedan i tisdags.",
    "category": "missed-bin",
    "contact": {
        "channel": "phone",
        "nature": "transaction",
        "duration_seconds": 240,
        "summary": "Ringde in",
    },
}


def test_create_a_case_with_its_first_contact(org: Org) -> None:
    response = client_for(org.agent).post("/api/v1/cases/", CREATE, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    case = Case.objects.get()
    assert body["reference"] == case.reference
    assert body["state"] == "new"
    assert body["category"] == {"code": "missed-bin", "name": org.bins.name}
    assert body["department"]["code"] == "kc"
    assert body["allowed_transitions"] == [
        "forward",
        "mark_spam",
        "merge",
        "open",
        "resolve_at_first_contact",
        "withdraw",
    ] or sorted(body["allowed_transitions"]) == [
        "forward",
        "mark_spam",
        "merge",
        "open",
        "resolve_at_first_contact",
        "withdraw",
    ]
    assert [e["kind"] for e in body["timeline"]] == ["created", "contact_added"]
    contact = body["timeline"][1]["contact"]
    assert (
        contact["channel"],
        contact["nature"],
        contact["duration_seconds"],
        contact["agent"],
    ) == (
        "phone",
        "transaction",
        240,
        "agent",
    )


def test_token_authentication_works(org: Org) -> None:
    token = Token.objects.create(user=org.agent)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/v1/cases/").status_code == 200
    assert APIClient().get("/api/v1/cases/").status_code in (401, 403)


def test_bad_input_gets_a_message_per_field_and_writes_nothing(org: Org) -> None:
    bad = {
        "subject": "",
        "category": "no-such-thing",
        "contact": {"channel": "pigeon", "duration_seconds": -5},
    }
    response = client_for(org.agent).post("/api/v1/cases/", bad, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {
        "subject",
        "category",
        "contact.channel",
        "contact.duration_seconds",
    }
    assert body["fields"]["category"] == ["Unknown category code “no-such-thing”."]
    assert (
        Case.objects.count() == 0
        and Contact.objects.count() == 0
        and CaseEvent.objects.count() == 0
    )


def test_state_is_never_writable_through_the_api(org: Org) -> None:
    response = client_for(org.agent).post(
        "/api/v1/cases/", {**CREATE, "state": "closed"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["state"] == "new"
    ref = response.json()["reference"]
    for method in ("put", "patch"):
        r = getattr(client_for(org.agent), method)(
            f"/api/v1/cases/{ref}/", {"state": "closed"}, format="json"
        )
        assert r.status_code == 405
    assert Case.objects.get().state == CaseState.NEW


def test_a_department_handler_cannot_create_cases(org: Org) -> None:
    response = client_for(org.waste_handler).post("/api/v1/cases/", CREATE, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert Case.objects.count() == 0


def test_forward_accept_resolve_through_the_transition_endpoints(org: Org) -> None:
    ref = client_for(org.agent).post("/api/v1/cases/", CREATE, format="json").json()["reference"]
    r = client_for(org.agent).post(
        f"/api/v1/cases/{ref}/forward/", {"reason": "Till avfall"}, format="json"
    )
    assert r.status_code == 200, r.json()
    assert (r.json()["state"], r.json()["department"]["code"]) == ("forwarded", "waste")
    r = client_for(org.waste_handler).post(f"/api/v1/cases/{ref}/accept/", {}, format="json")
    assert (r.status_code, r.json()["state"], r.json()["assignee"]) == (
        200,
        "accepted",
        "wastehandler",
    )
    r = client_for(org.waste_handler).post(
        f"/api/v1/cases/{ref}/resolve/", {"reason": "Klart"}, format="json"
    )
    assert (r.status_code, r.json()["state"]) == (200, "resolved")
    transitions = [
        (e["transition"], e["actor"]) for e in r.json()["timeline"] if e["kind"] == "transition"
    ]
    assert transitions == [
        ("forward", "agent"),
        ("accept", "wastehandler"),
        ("resolve", "wastehandler"),
    ]


def test_a_transition_not_allowed_now_is_409_with_the_current_state(org: Org) -> None:
    ref = client_for(org.agent).post("/api/v1/cases/", CREATE, format="json").json()["reference"]
    r = client_for(org.agent).post(f"/api/v1/cases/{ref}/close/", {}, format="json")
    assert r.status_code == 409
    assert r.json()["code"] == "transition_not_allowed"
    assert r.json()["state"] == "new"
    assert CaseEvent.objects.filter(kind="transition").count() == 0


def test_two_agents_forwarding_the_same_case_one_wins_the_other_gets_409(org: Org) -> None:
    ref = client_for(org.agent).post("/api/v1/cases/", CREATE, format="json").json()["reference"]
    first = client_for(org.agent).post(
        f"/api/v1/cases/{ref}/forward/", {"expected_state": "new"}, format="json"
    )
    second = client_for(org.cc_supervisor).post(
        f"/api/v1/cases/{ref}/mark-spam/", {"expected_state": "new"}, format="json"
    )
    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json()["code"] in ("state_changed", "transition_not_allowed")
    assert Case.objects.get().state == CaseState.FORWARDED
    assert CaseEvent.objects.filter(kind="transition").count() == 1


def test_return_without_reason_is_400_with_the_field(org: Org) -> None:
    ref = client_for(org.agent).post("/api/v1/cases/", CREATE, format="json").json()["reference"]
    client_for(org.agent).post(f"/api/v1/cases/{ref}/forward/", {}, format="json")
    r = client_for(org.waste_handler).post(
        f"/api/v1/cases/{ref}/return-to-contact-center/", {}, format="json"
    )
    assert r.status_code == 400
    assert r.json()["fields"] == {"reason": ["This field is required."]}
    assert Case.objects.get().state == CaseState.FORWARDED


def test_merge_by_reference(org: Org) -> None:
    a = client_for(org.agent).post("/api/v1/cases/", CREATE, format="json").json()["reference"]
    b = client_for(org.agent).post("/api/v1/cases/", CREATE, format="json").json()["reference"]
    r = client_for(org.agent).post(f"/api/v1/cases/{b}/merge/", {"into": a}, format="json")
    assert (r.status_code, r.json()["state"], r.json()["merged_into"]) == (200, "merged", a)
    r = client_for(org.agent).post(
        f"/api/v1/cases/{a}/merge/", {"into": "KC-1999-999999"}, format="json"
    )
    assert r.status_code == 400
    assert r.json()["fields"] == {"into": ["Unknown case reference."]}


def test_a_case_that_does_not_exist_is_404_json(org: Org) -> None:
    r = client_for(org.agent).get("/api/v1/cases/KC-2026-999999/")
    assert r.status_code == 404
    assert r.json() == {"message": "No such case.", "code": "not_found", "fields": {}}


def test_add_a_contact_and_a_note(org: Org) -> None:
    ref = client_for(org.agent).post("/api/v1/cases/", CREATE, format="json").json()["reference"]
    r = client_for(org.agent).post(
        f"/api/v1/cases/{ref}/contacts/",
        {"channel": "email", "failure_demand": True},
        format="json",
    )
    assert r.status_code == 201
    assert (r.json()["channel"], r.json()["failure_demand"]) == ("email", True)
    r = client_for(org.agent).post(
        f"/api/v1/cases/{ref}/notes/", {"text": "Ringt tillbaka"}, format="json"
    )
    assert r.status_code == 201
    detail = client_for(org.agent).get(f"/api/v1/cases/{ref}/").json()
    assert [e["kind"] for e in detail["timeline"]] == [
        "created",
        "contact_added",
        "contact_added",
        "note",
    ]
    assert detail["timeline"][-1]["reason"] == "Ringt tillbaka"


def test_assign_and_classify(org: Org) -> None:
    ref = client_for(org.agent).post("/api/v1/cases/", CREATE, format="json").json()["reference"]
    r = client_for(org.agent).post(
        f"/api/v1/cases/{ref}/assign/", {"assignee": "ccsup"}, format="json"
    )
    assert (r.status_code, r.json()["assignee"]) == (200, "ccsup")
    r = client_for(org.agent).post(
        f"/api/v1/cases/{ref}/assign/", {"assignee": "wastehandler"}, format="json"
    )
    assert r.status_code == 400
    assert "assignee" in r.json()["fields"]
    r = client_for(org.agent).post(
        f"/api/v1/cases/{ref}/classify/",
        {"category": "building-permit", "priority": "high"},
        format="json",
    )
    assert r.status_code == 200
    assert (r.json()["category"]["code"], r.json()["complexity_level"], r.json()["priority"]) == (
        "building-permit",
        4,
        "high",
    )
    event = CaseEvent.objects.get(kind="classified")
    assert event.data == {
        "before": {"category_id": org.bins.pk, "complexity_level": 2, "priority": "normal"},
        "after": {"category_id": org.permit.pk, "complexity_level": 4, "priority": "high"},
    }


def test_list_filters_and_paginates(org: Org) -> None:
    client = client_for(org.agent)
    refs = [
        client.post("/api/v1/cases/", CREATE, format="json").json()["reference"] for _ in range(30)
    ]
    client.post(f"/api/v1/cases/{refs[0]}/forward/", {}, format="json")
    page1 = client.get("/api/v1/cases/").json()
    assert page1["count"] == 30
    assert len(page1["results"]) == 25
    assert page1["results"][0]["reference"] == refs[-1]  # newest first
    page2 = client.get("/api/v1/cases/?page=2").json()
    assert len(page2["results"]) == 5
    forwarded = client.get("/api/v1/cases/?state=forwarded").json()
    assert [c["reference"] for c in forwarded["results"]] == [refs[0]]
    assert client.get("/api/v1/cases/?department=waste").json()["count"] == 1
    assert client.get(f"/api/v1/cases/?q={refs[3]}").json()["results"][0]["reference"] == refs[3]


def test_the_list_does_not_grow_its_queries_with_the_rows(
    org: Org, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    client = client_for(org.agent)
    for _ in range(30):
        client.post("/api/v1/cases/", CREATE, format="json")
    with django_assert_max_num_queries(3):  # count + page (joins) + (auth is forced)
        assert client.get("/api/v1/cases/").status_code == 200


def test_the_detail_queries_do_not_grow_with_the_timeline(
    org: Org, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    client = client_for(org.agent)
    ref = client.post("/api/v1/cases/", CREATE, format="json").json()["reference"]
    for _ in range(20):
        client.post(f"/api/v1/cases/{ref}/contacts/", {"channel": "email"}, format="json")
        client.post(f"/api/v1/cases/{ref}/notes/", {"text": "x"}, format="json")
    with django_assert_max_num_queries(6):
        r = client.get(f"/api/v1/cases/{ref}/")
    assert len(r.json()["timeline"]) == 42


def test_openapi_schema_is_served(org: Org) -> None:
    r = client_for(org.agent).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert "/api/v1/cases/{reference}/forward/" in paths
    assert "/api/v1/residents/" in paths
    assert "state" not in r.json()["components"]["schemas"]["CaseCreateInputRequest"]["properties"]
