"""POST requests: a valid request becomes a case at once; a retry is the same request; every
kind of bad input is refused in the spec's error format and leaves nothing behind."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.db import OperationalError, connection
from django.test import Client

from cases.choices import Channel, Nature
from cases.models import Case, Department
from channels_app.intake import inbound_process, inbound_requeue
from channels_app.models import InboundMessage, InboundStatus
from tests.channels.open311.conftest import FORM, VALID, Open311World, xml

pytestmark = pytest.mark.django_db


def test_it_creates_a_case_and_answers_its_reference(world: Open311World) -> None:
    response = world.post(
        **VALID,
        **{
            "attribute[size]": "large",
            "attribute[where][]": ["road", "path"],
            "attribute[danger]": "true",
            "first_name": "Anna",
            "last_name": "Andersson",
            "email": "anna@example.org",
            "media_url": "https://img.example.org/1.jpg",
            "address_string": "Storgatan 1",
        },
    )
    assert response.status_code == 200, response.content
    [row] = response.json()
    case = Case.objects.get()
    assert row == {
        "service_request_id": case.reference,
        "service_notice": f"Thank you. Your report is registered as {case.reference}.",
        "account_id": None,
    }
    assert case.category == world.pothole
    assert case.origin_channel == Channel.ESERVICE
    assert case.subject == "Pothole: Storgatan 1"  # the site's language (tests: en)
    assert case.resident.name == "Anna Andersson"
    assert case.resident.emails.get().address == "anna@example.org"
    assert "Stort hål framför skolan" in case.description
    assert "Position: 59.3293,18.0686" in case.description
    assert "size (en): Large" in case.description
    assert "where (en): Road, Path" in case.description
    contact = case.contacts.get()
    assert (contact.channel, contact.nature) == (Channel.ESERVICE, Nature.TRANSACTION)
    message = InboundMessage.objects.get()
    assert message.status == InboundStatus.PROCESSED and message.case == case
    assert message.contact == contact
    assert message.source == f"open311:{world.client.pk}"
    assert message.payload["attributes"] == {
        "depth": 12,
        "size": "large",
        "where": ["road", "path"],
        "danger": True,
    }
    assert b"api_key" not in bytes(message.raw)  # the secret is never stored


def test_it_answers_in_xml(world: Open311World) -> None:
    root = xml(world.post(".xml", **VALID))
    case = Case.objects.get()
    assert root.tag == "service_requests"
    assert root.findtext("request/service_request_id") == case.reference
    assert root.findtext("request/service_notice").endswith(f"{case.reference}.")
    assert root.find("request/account_id").text is None


def test_an_identical_retry_gets_the_same_request_and_no_second_case(world: Open311World) -> None:
    first = world.post(**VALID).json()[0]["service_request_id"]
    second = world.post(**VALID).json()[0]["service_request_id"]
    assert first == second
    assert Case.objects.count() == 1
    assert InboundMessage.objects.count() == 1
    # Parameter order does not matter; a different request is a different case.
    world.post(**dict(reversed(VALID.items())))
    assert Case.objects.count() == 1
    world.post(**{**VALID, "description": "Ett till"})
    assert Case.objects.count() == 2


def test_an_anonymous_report_by_address_needs_no_resident(world: Open311World) -> None:
    response = world.post(service_code="streetlight", address_string="Parkvägen 3")
    assert response.status_code == 200
    case = Case.objects.get()
    assert case.resident is None and case.category == world.streetlight


def _refused(response, status: int) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.content
    errors = response.json()
    assert all(e["code"] == status for e in errors)
    assert Case.objects.count() == 0 and InboundMessage.objects.count() == 0
    return [e["description"] for e in errors]


def test_missing_api_key_is_400(world: Open311World) -> None:
    body = urlencode(VALID)
    response = Client().post("/open311/v2/requests.json", data=body, content_type=FORM)
    assert _refused(response, 400) == ["api_key is required."]


def test_a_wrong_key_is_403(world: Open311World) -> None:
    world.key = "not-the-key"
    assert _refused(world.post(**VALID), 403) == ["Invalid api_key."]


def test_an_inactive_client_is_403(world: Open311World) -> None:
    world.client.active = False
    world.client.save()
    assert _refused(world.post(**VALID), 403) == ["Invalid api_key."]


def test_errors_in_xml(world: Open311World) -> None:
    world.key = "wrong"
    response = world.post(".xml", **VALID)
    assert response.status_code == 403
    root = xml(response)
    assert root.tag == "errors"
    assert [(e.findtext("code"), e.findtext("description")) for e in root.findall("error")] == [
        ("403", "Invalid api_key.")
    ]


def test_missing_service_code_is_400(world: Open311World) -> None:
    params = {k: v for k, v in VALID.items() if k != "service_code"}
    assert _refused(world.post(**params), 400) == ["service_code is required."]


@pytest.mark.parametrize("code", ["nope", "social-worry", "old-bins"])
def test_unknown_sensitive_or_ended_service_code_is_404(world: Open311World, code: str) -> None:
    assert _refused(world.post(**{**VALID, "service_code": code}), 404) == [
        f"Unknown service_code {code}."
    ]


def test_missing_location_is_400(world: Open311World) -> None:
    params = {k: v for k, v in VALID.items() if k not in ("lat", "long")}
    assert _refused(world.post(**params), 400) == [
        "A location is required: lat and long, address_string or address_id."
    ]


@pytest.mark.parametrize(
    ("lat", "long", "message"),
    [
        ("91", "18", "lat must be between -90 and 90."),
        ("59", "-180.5", "long must be between -180 and 180."),
        ("nan", "18", "lat must be between -90 and 90."),
        ("north", "18", "lat must be a number in decimal degrees."),
        ("59", "", "Give both lat and long."),
    ],
)
def test_bad_coordinates_are_400(world: Open311World, lat: str, long: str, message: str) -> None:
    assert _refused(world.post(**{**VALID, "lat": lat, "long": long}), 400) == [message]


def test_bad_and_missing_attributes_are_all_reported(world: Open311World) -> None:
    params = {k: v for k, v in VALID.items() if k != "attribute[depth]"}
    errors = _refused(
        world.post(
            **params,
            **{
                "attribute[size]": "huge",
                "attribute[danger]": "perhaps",
                "attribute[colour]": "red",
                "attribute[photo]": "x.jpg",
            },
        ),
        400,
    )
    assert sorted(errors) == sorted(
        [
            "attribute[colour]: the service pothole has no such attribute.",
            "attribute[photo]: the service pothole has no such attribute.",
            "attribute[depth]: This field is required.",
            "attribute[size]: “huge” is not one of the choices.",
            "attribute[danger]: Answer yes or no.",
        ]
    )


def test_other_bad_values_are_400(world: Open311World) -> None:
    errors = _refused(
        world.post(**VALID, email="not-an-address", media_url="javascript:alert(1)"), 400
    )
    assert errors == [
        "email is not a valid e-mail address.",
        "media_url must be an http or https address.",
    ]


def test_a_json_body_is_refused(world: Open311World) -> None:
    response = Client().post(
        "/open311/v2/requests.json",
        data={"api_key": world.key, **VALID},
        content_type="application/json",
    )
    assert _refused(response, 400) == [
        "Send the request form-encoded (application/x-www-form-urlencoded)."
    ]


def test_it_needs_no_csrf_token(world: Open311World) -> None:
    response = Client(enforce_csrf_checks=True).post(
        "/open311/v2/requests.json",
        data=urlencode({"api_key": world.key, **VALID}),
        content_type=FORM,
    )
    assert response.status_code == 200


def test_a_quarantined_request_gets_a_token_and_the_token_later_its_case(
    world: Open311World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    # Given a municipality without a contact center (processing cannot make a case)
    Department.objects.filter(is_contact_center=True).update(is_contact_center=False)
    # When a client posts a valid request
    response = world.post(**VALID)
    # Then the request is kept and the client gets a token instead of a reference
    assert response.status_code == 200
    [row] = response.json()
    message = InboundMessage.objects.get()
    assert message.status == InboundStatus.QUARANTINED
    assert row == {"token": str(message.pk), "service_notice": "", "account_id": None}
    pending = Client().get(f"/open311/v2/tokens/{message.pk}.json")
    assert pending.json() == [{"service_request_id": "", "token": str(message.pk)}]
    # And once an administrator fixed the cause and re-queued it, the token names the case
    Department.objects.filter(code="kc").update(is_contact_center=True)
    with django_capture_on_commit_callbacks(execute=True):
        inbound_requeue(message_ids=[message.pk])
    case = Case.objects.get()
    assert Client().get(f"/open311/v2/tokens/{message.pk}.json").json() == [
        {"service_request_id": case.reference, "token": str(message.pk)}
    ]
    root = xml(Client().get(f"/open311/v2/tokens/{message.pk}.xml"))
    assert root.findtext("request/service_request_id") == case.reference
    assert root.findtext("request/token") == str(message.pk)
    # And the client's retry of the same POST now gets the reference too
    assert world.post(**VALID).json()[0]["service_request_id"] == case.reference


def test_an_unknown_token_is_404(world: Open311World) -> None:
    response = Client().get("/open311/v2/tokens/999.json")
    assert response.status_code == 404
    assert response.json() == [{"code": 404, "description": "Unknown token 999."}]


# Committed transactions, as in production: every BEGIN, COMMIT and savepoint is counted.
@pytest.mark.django_db(transaction=True)
def test_creating_a_case_takes_a_fixed_number_of_queries(
    world: Open311World, django_assert_num_queries, routing_deferred: list[list[int]]
) -> None:  # type: ignore[no-untyped-def]
    """Warm (the contact center and the service with its fields cached, an id block taken):
    6 captured statements on PostgreSQL, 9 on SQLite. Outside any transaction: the client (by
    its key's hash, never cached: a rotated key stops working at once). Then one transaction:
    BEGIN, the raw record inserted already claimed, the case with its contact and both events
    in one statement, the record's result, COMMIT. That is 4 data statements and one
    transaction on PostgreSQL. SQLite writes the case, its reference (known only after the
    insert), the contact and the events one by one."""
    world.post(**{**VALID, "description": "warm-up"})
    expected = 6 if connection.vendor == "postgresql" else 9
    with django_assert_num_queries(expected):
        response = world.post(**VALID)
    assert response.status_code == 200
    # Routing is handed to a task after commit, not done in the request.
    assert len(routing_deferred) == 2


@pytest.mark.django_db(transaction=True)
def test_a_known_reporter_adds_only_the_resident_lookup(
    world: Open311World, django_assert_max_num_queries, routing_deferred: list[list[int]]
) -> None:  # type: ignore[no-untyped-def]
    """+ the resident lookup: one SELECT for a reporter already known (7 captured statements
    on PostgreSQL, 5 of them data statements; 10 on SQLite)."""
    world.post(**{**VALID, "description": "first"}, email="anna@example.org")
    with django_assert_max_num_queries(7 if connection.vendor == "postgresql" else 10):
        response = world.post(**VALID, email="anna@example.org")
    assert response.status_code == 200


def test_text_is_escaped_in_xml_and_control_characters_dropped(world: Open311World) -> None:
    ref = world.post(**{**VALID, "description": 'Hål <b>&"stort"\x01'}).json()[0][
        "service_request_id"
    ]
    root = xml(Client().get(f"/open311/v2/requests/{ref}.xml"))
    assert root.findtext("request/description") == 'Hål <b>&"stort"'
    [row] = Client().get(f"/open311/v2/requests/{ref}.json").json()
    assert row["description"] == 'Hål <b>&"stort"\x01'


def test_a_request_recorded_but_not_processed_is_finished_by_the_sweep(
    world: Open311World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a POST whose processing lost to a transient database error (a deadlock, a lock
    # timeout): the work rolled back, the request is kept pending and the client gets a token
    def locked(message: InboundMessage) -> bool:
        raise OperationalError("database is locked")

    monkeypatch.setattr("channels_app.intake._apply", locked)
    [row] = world.post(**VALID).json()
    assert "token" in row and Case.objects.count() == 0
    message = InboundMessage.objects.get()
    assert (message.status, message.attempts) == (InboundStatus.PENDING, 1)
    assert message.reason.startswith("Retrying after OperationalError")
    monkeypatch.undo()
    # When the sweep (or the client's retry) processes it, without the POST's in-memory hints
    inbound_process(message_id=InboundMessage.objects.get().pk)
    # Then the case is made from the stored payload alone
    case = Case.objects.get()
    assert case.category == world.pothole and "depth (en): 12" in case.description
    assert (
        Client().get(f"/open311/v2/tokens/{row['token']}.json").json()[0]["service_request_id"]
        == case.reference
    )


def test_the_place_of_the_report_is_kept_for_finding_duplicates(world: Open311World) -> None:
    from cases.identity import location_key

    world.post(**VALID)

    case = Case.objects.get()
    assert case.location_key == location_key(lat=float(VALID["lat"]), long=float(VALID["long"]))
    assert case.location_key.startswith("geo:")
