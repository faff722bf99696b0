"""GET requests and GET requests/{id}: the public view of service requests.

Public means: posted over Open311 (an inbound record ``open311:<client>``), of a category that
is not sensitive; web-form cases are not published. Never any personal data. Newest first, the last 90 days and at most 1,000 by default.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from cases.choices import Channel
from cases.models import Case, CaseEvent, CaseState, EventKind
from cases.services.actors import Actor
from cases.services.cases import ContactInput, case_add_note, case_classify, case_create
from cases.services.transitions import (
    case_forward,
    case_mark_spam,
    case_resolve_at_first_contact,
)
from channels_app.models import InboundMessage, InboundStatus
from channels_app.open311.selectors import open311_status
from tests.channels.open311.conftest import VALID, Open311World, xml

pytestmark = pytest.mark.django_db

PERSONAL = {
    "first_name": "Anna",
    "last_name": "Andersson",
    "email": "anna.andersson@example.org",
    "phone": "+46701234567",
    "device_id": "device-77",
    "account_id": "acct-42",
}


def _reference(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content
    return response.json()[0]["service_request_id"]


def _get(path: str, **params: str):  # type: ignore[no-untyped-def]
    return Client().get(f"/open311/v2/{path}", params)


def test_a_posted_request_is_listed_with_every_field(world: Open311World) -> None:
    ref = _reference(
        world.post(
            **VALID,
            address_string="Storgatan 1",
            address_id="A-17",
            media_url="https://img.example.org/1.jpg",
        )
    )
    case = Case.objects.get(reference=ref)
    CaseEvent.objects.create(
        case=case, kind=EventKind.NOTE, reason="Lagas i veckan", data={"public": True}
    )
    response = _get("requests.json")
    assert response.status_code == 200
    assert response.json() == [
        {
            "service_request_id": ref,
            "status": "open",
            "status_notes": "Lagas i veckan",
            "service_name": "Pothole",
            "service_code": "pothole",
            "description": "Stort hål framför skolan",
            "agency_responsible": "Contact center",  # who holds the case now
            "service_notice": "",
            "requested_datetime": timezone.localtime(case.created_at).isoformat(timespec="seconds"),
            "updated_datetime": timezone.localtime(case.updated_at).isoformat(timespec="seconds"),
            "expected_datetime": None,
            "address": "Storgatan 1",
            "address_id": "A-17",
            "zipcode": "",
            "lat": 59.3293,
            "long": 18.0686,
            "media_url": "https://img.example.org/1.jpg",
        }
    ]
    # ISO 8601 with the offset, as the spec requires.
    assert response.json()[0]["requested_datetime"][-6:] in ("+01:00", "+02:00")


def test_the_same_in_xml_and_by_id(world: Open311World) -> None:
    ref = _reference(world.post(**VALID, address_string="Storgatan 1"))
    case = Case.objects.get(reference=ref)
    case_forward(actor=Actor.staff(world.org.agent), case_id=case.pk, department=world.org.waste)
    case.refresh_from_db()
    for path in ("requests.xml", f"requests/{ref}.xml"):
        root = xml(_get(path, locale="sv"))
        assert root.tag == "service_requests"
        [request] = root.findall("request")
        assert request.findtext("service_request_id") == ref
        assert request.findtext("status") == "open"
        assert request.findtext("service_name") == "Potthål"
        assert request.findtext("service_code") == "pothole"
        assert request.findtext("description") == "Stort hål framför skolan"
        assert request.findtext("agency_responsible") == "Avfall"
        assert request.findtext("requested_datetime") == timezone.localtime(
            case.created_at
        ).isoformat(timespec="seconds")
        assert request.find("expected_datetime").text is None
        assert request.findtext("address") == "Storgatan 1"
        assert request.findtext("lat") == "59.3293"
        assert request.findtext("long") == "18.0686"


def test_one_request_by_id_in_json(world: Open311World) -> None:
    ref = _reference(world.post(**VALID))
    for path in (f"requests/{ref}.json", f"requests/{ref}"):
        [row] = _get(path).json()
        assert row["service_request_id"] == ref


def test_an_unknown_id_is_404_in_both_formats(world: Open311World) -> None:
    response = _get("requests/KC-2026-999999.json")
    assert response.status_code == 404
    assert response.json() == [
        {"code": 404, "description": "Unknown service_request_id KC-2026-999999."}
    ]
    root = xml(_get("requests/KC-2026-999999.xml"))
    assert root.findtext("error/code") == "404"


def test_no_personal_data_ever_leaves(world: Open311World) -> None:
    ref = _reference(world.post(**VALID, **PERSONAL))
    case = Case.objects.get(reference=ref)
    assert case.resident is not None  # we do know who reported it
    case_add_note(actor=Actor.staff(world.org.agent), case_id=case.pk, text="Ring Anna på 0701")
    for path in ("requests.json", "requests.xml", f"requests/{ref}.json", f"requests/{ref}.xml"):
        body = _get(path).content.decode()
        assert ref in body
        for value in [*PERSONAL.values(), "0701234567", "Ring Anna"]:
            assert value not in body, (path, value)


def test_web_form_cases_are_never_listed_nor_shown_by_id(world: Open311World) -> None:
    # Given a case from a web form (recorded as "eservice:<code>"), and one posted over Open311
    posted = _reference(world.post(**VALID))
    web_form = case_create(
        actor=Actor.resident(Channel.ESERVICE),
        subject="Hål",
        description="Jag heter Bertil och bor på Lillgatan 2",
        category=world.pothole,
        contact=ContactInput(channel=Channel.ESERVICE),
    )
    InboundMessage.objects.create(
        channel=Channel.ESERVICE,
        source="eservice:pothole",
        external_id="tok_web_form",
        status=InboundStatus.PROCESSED,
        case=web_form,
    )
    # When the public asks for the requests
    rows = _get("requests.json").json()
    # Then only the Open311 request is there, and the web-form case is not found by id
    assert [r["service_request_id"] for r in rows] == [posted]
    assert _get(f"requests/{web_form.reference}.json").status_code == 404
    assert _get(f"requests/{web_form.reference}.xml").status_code == 404
    assert _get("requests.json", service_request_id=web_form.reference).json() == []


def test_other_channels_and_sensitive_categories_are_never_listed(world: Open311World) -> None:
    phone = world.org.new_case(category=world.pothole, channel=Channel.PHONE)
    sensitive = case_create(
        actor=Actor.resident(Channel.ESERVICE),
        subject="Orolig",
        category=world.social,
        contact=ContactInput(channel=Channel.ESERVICE),
    )
    reclassified = Case.objects.get(reference=_reference(world.post(**VALID)))
    case_classify(
        actor=Actor.staff(world.org.agent), case_id=reclassified.pk, category=world.social
    )
    assert _get("requests.json").json() == []
    for case in (phone, sensitive, reclassified):
        assert _get(f"requests/{case.reference}.json").status_code == 404
        assert _get("requests.json", service_request_id=case.reference).json() == []


@pytest.mark.parametrize(
    ("state", "status"),
    [
        (CaseState.NEW, "open"),
        (CaseState.OPEN, "open"),
        (CaseState.FORWARDED, "open"),
        (CaseState.ACCEPTED, "open"),
        (CaseState.WAITING, "open"),
        (CaseState.RESOLVED_FIRST_CONTACT, "closed"),
        (CaseState.RESOLVED, "closed"),
        (CaseState.CLOSED, "closed"),
        (CaseState.MERGED, "closed"),
        (CaseState.WITHDRAWN, "closed"),
        (CaseState.SPAM, "closed"),
    ],
)
def test_status_mapping(state: str, status: str) -> None:
    assert open311_status(state) == status


def test_status_filter_and_status_follow_the_case(world: Open311World) -> None:
    agent = Actor.staff(world.org.agent)
    open_ref = _reference(world.post(**VALID))
    forwarded_ref = _reference(world.post(**{**VALID, "description": "2"}))
    done_ref = _reference(world.post(**{**VALID, "description": "3"}))
    spam_ref = _reference(world.post(**{**VALID, "description": "Köp billiga klockor"}))
    case_forward(actor=agent, case_id=Case.objects.get(reference=forwarded_ref).pk)
    case_resolve_at_first_contact(actor=agent, case_id=Case.objects.get(reference=done_ref).pk)
    case_mark_spam(actor=agent, case_id=Case.objects.get(reference=spam_ref).pk)

    def refs(**params: str) -> dict[str, str]:
        return {
            r["service_request_id"]: r["status"] for r in _get("requests.json", **params).json()
        }

    assert refs() == {
        open_ref: "open",
        forwarded_ref: "open",
        done_ref: "closed",
        spam_ref: "closed",
    }
    assert set(refs(status="open")) == {open_ref, forwarded_ref}
    assert set(refs(status="closed")) == {done_ref, spam_ref}
    assert set(refs(status="open,closed")) == {open_ref, forwarded_ref, done_ref, spam_ref}
    # Spam is listed as closed, but its text is not repeated.
    [spam] = _get(f"requests/{spam_ref}.json").json()
    assert spam["description"] == ""


def test_filters_by_id_list_and_service_code(world: Open311World) -> None:
    a = _reference(world.post(**VALID))
    b = _reference(world.post(**{**VALID, "description": "b"}))
    light = _reference(world.post(service_code="streetlight", address_string="Parkvägen 3"))
    both = _get("requests.json", service_request_id=f"{a},{light}").json()
    assert {r["service_request_id"] for r in both} == {a, light}
    pothole = _get("requests.json", service_code="pothole").json()
    assert [r["service_request_id"] for r in pothole] == [b, a]  # newest first


def test_the_default_is_the_last_90_days_and_dates_widen_it(world: Open311World) -> None:
    recent = _reference(world.post(**VALID))
    old = _reference(world.post(**{**VALID, "description": "old"}))
    long_ago = timezone.now() - datetime.timedelta(days=120)
    Case.objects.filter(reference=old).update(created_at=long_ago)
    assert [r["service_request_id"] for r in _get("requests.json").json()] == [recent]
    start = (long_ago - datetime.timedelta(days=1)).isoformat()
    end = (long_ago + datetime.timedelta(days=1)).isoformat()
    window = _get("requests.json", start_date=start, end_date=end).json()
    assert [r["service_request_id"] for r in window] == [old]
    # Only a start date: the 90 days after it.
    after = _get("requests.json", start_date=start).json()
    assert [r["service_request_id"] for r in after] == [old]
    # A W3C date with Z, and a bare date, are understood.
    z = (timezone.now() - datetime.timedelta(days=1)).astimezone(datetime.UTC)
    assert (
        _get("requests.json", start_date=z.strftime("%Y-%m-%dT%H:%M:%SZ")).json()[0][
            "service_request_id"
        ]
        == recent
    )
    assert _get("requests.json", start_date=timezone.localdate().isoformat()).status_code == 200


def test_at_most_1000_newest_first(world: Open311World) -> None:
    now = timezone.now()
    Case.objects.bulk_create(
        Case(
            subject="x",
            reference=f"KC-2026-{n:06d}",
            category=world.streetlight,
            department=world.org.cc,
            origin_channel=Channel.ESERVICE,
            created_at=now - datetime.timedelta(minutes=n),
        )
        for n in range(1, 1002)
    )
    InboundMessage.objects.bulk_create(
        InboundMessage(
            channel=Channel.ESERVICE,
            source=f"open311:{world.client.pk}",
            external_id=f"key-{case.pk}",
            status=InboundStatus.PROCESSED,
            case=case,
        )
        for case in Case.objects.all()
    )
    rows = _get("requests.json").json()
    assert len(rows) == 1000
    assert rows[0]["service_request_id"] == "KC-2026-000001"
    assert rows[-1]["service_request_id"] == "KC-2026-001000"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"status": "pending"}, "status must be open, closed or both, comma separated."),
        (
            {"start_date": "yesterday"},
            "start_date must be an ISO 8601 date and time, e.g. 2026-03-01T08:00:00+01:00.",
        ),
        (
            {"end_date": "2026-13-45T00:00:00Z"},
            "end_date must be an ISO 8601 date and time, e.g. 2026-03-01T08:00:00+01:00.",
        ),
        (
            {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
            "start_date and end_date may span at most 90 days.",
        ),
        (
            {"start_date": "2026-02-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"},
            "end_date is before start_date.",
        ),
    ],
)
def test_bad_filters_are_400(world: Open311World, params: dict, message: str) -> None:
    response = _get("requests.json", **params)
    assert response.status_code == 400
    assert response.json() == [{"code": 400, "description": message}]
    root = xml(_get("requests.xml", **params))
    assert root.findtext("error/description") == message


def test_the_list_takes_three_queries_however_many_rows(
    world: Open311World, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    _reference(world.post(**VALID))
    with django_assert_num_queries(3):
        assert len(_get("requests.json").json()) == 1
    for n in range(4):
        ref = _reference(world.post(**{**VALID, "description": f"more {n}"}))
        CaseEvent.objects.create(
            case=Case.objects.get(reference=ref),
            kind=EventKind.NOTE,
            reason="Lagas",
            data={"public": True},
        )
    world.post(service_code="streetlight", address_string="Parkvägen 3")
    with django_assert_num_queries(3):
        assert len(_get("requests.json").json()) == 6
    assert connection.vendor in ("sqlite", "postgresql")


def test_agency_responsible_is_whoever_holds_the_case_now(world: Open311World) -> None:
    # Given a pothole (a category of Waste) posted over Open311: the contact center holds it
    ref = _reference(world.post(**VALID))
    case = Case.objects.get(reference=ref)
    assert case.category.department == world.org.waste

    def agency() -> str:
        [row] = _get(f"requests/{ref}.json").json()
        return row["agency_responsible"]

    assert agency() == "Contact center"
    # When it is forwarded to a unit other than the category's owner
    case_forward(
        actor=Actor.staff(world.org.agent), case_id=case.pk, department=world.org.waste_north
    )
    # Then that unit is responsible, in every format and language
    assert agency() == "Waste North"
    root = xml(_get(f"requests/{ref}.xml", locale="sv"))
    assert root.findtext("request/agency_responsible") == world.org.waste_north.name_sv


def test_status_notes_come_only_from_notes_marked_public(world: Open311World) -> None:
    ref = _reference(world.post(**VALID))
    case = Case.objects.get(reference=ref)
    now = timezone.now()

    def note(reason: str, data: object, minutes: int, kind: str = EventKind.NOTE) -> None:
        CaseEvent.objects.create(
            case=case,
            kind=kind,
            reason=reason,
            data=data,
            created_at=now + datetime.timedelta(minutes=minutes),
        )

    # Given one public note and, after it, notes that are not public (in every shape)
    note("Lagas i veckan", {"public": True}, 1)
    note("Internt: ring entreprenören", {"before": {}, "after": {}}, 2)
    note("Internt: dyrt", {}, 3)
    note("Internt: avvakta", {"public": False}, 4)
    note("Internt: sträng", {"public": "true"}, 5)
    note("Internt: etta", {"public": 1}, 6)
    note("Internt: nästlat", {"after": {"public": True}}, 7)

    # Then status_notes is the public one, however many internal notes came later
    [row] = _get(f"requests/{ref}.json").json()
    assert row["status_notes"] == "Lagas i veckan"

    # and a newer public note replaces it
    note("Lagat", {"public": True, "by": "agent"}, 8)
    [row] = _get(f"requests/{ref}.json").json()
    assert row["status_notes"] == "Lagat"
