"""The case view: the resident panel, replies by e-mail and SMS with canned responses,
suggested duplicates, and a query count that does not grow with the timeline."""

from __future__ import annotations

import pytest
from django.test import Client

from cases.choices import Channel
from cases.models import CannedResponse, Case, CaseEvent, CaseState, Contact
from cases.services.actors import Actor
from cases.services.cases import ContactInput, case_add_note, case_create
from cases.services.residents import resident_add_representative, resident_create
from channels_app.models import OutboundMessage
from tests.municipality import Org

pytestmark = pytest.mark.django_db


def login(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def eva(org: Org):  # type: ignore[no-untyped-def]
    return resident_create(
        actor=Actor.staff(org.agent),
        name="Eva Ek",
        emails=["eva@example.se"],
        phones=["0701234567"],
        preferred_channel="email",
    )


def eva_case(org: Org, eva, subject: str = "Soptunnan", channel: str = Channel.EMAIL) -> Case:  # type: ignore[no-untyped-def]
    return case_create(
        actor=Actor.staff(org.agent),
        subject=subject,
        contact=ContactInput(channel=channel),
        resident=eva,
        category=org.bins,
    )


def test_the_resident_panel_shows_contact_details_representatives_and_other_cases(
    org: Org, eva
) -> None:  # type: ignore[no-untyped-def]
    lawyer = resident_create(actor=Actor.staff(org.agent), name="Bo Ombud")
    resident_add_representative(actor=Actor.staff(org.agent), resident=eva, representative=lawyer)
    older = eva_case(org, eva, subject="Förra veckan", channel=Channel.PHONE)
    case = eva_case(org, eva)

    html = login(org.agent).get(f"/cases/{case.reference}/").content.decode()

    assert 'href="mailto:eva@example.se"' in html
    assert 'href="tel:+46701234567"' in html
    assert "Bo Ombud" in html
    assert f'href="/cases/{older.reference}/"' in html and "Förra veckan" in html
    assert "Reachable digitally" in html


def test_a_reply_by_email_goes_out_and_is_recorded_as_a_contact(org: Org, eva) -> None:  # type: ignore[no-untyped-def]
    case = eva_case(org, eva)

    response = login(org.agent).post(
        f"/cases/{case.reference}/reply/", {"channel": "email", "body": "Vi tömmer i morgon."}
    )

    assert response.status_code == 302
    row = OutboundMessage.objects.get(kind="reply")
    assert (row.channel, row.to, row.body) == ("email", "eva@example.se", "Vi tömmer i morgon.")
    assert row.subject == f"Re: Soptunnan [{case.reference}]"
    assert Contact.objects.filter(case=case, direction="out", channel="email").count() == 1


def test_a_reply_by_sms_goes_to_the_residents_number(org: Org, eva) -> None:  # type: ignore[no-untyped-def]
    case = eva_case(org, eva)

    login(org.agent).post(
        f"/cases/{case.reference}/reply/", {"channel": "sms", "body": "Vi tömmer i morgon."}
    )

    row = OutboundMessage.objects.get(kind="reply")
    assert (row.channel, row.to, row.body) == ("sms", "+46701234567", "Vi tömmer i morgon.")
    assert row.contact is not None and row.contact.channel == "sms"


def test_an_empty_reply_or_unknown_channel_sends_nothing(org: Org, eva) -> None:  # type: ignore[no-untyped-def]
    case = eva_case(org, eva)
    client = login(org.agent)

    client.post(f"/cases/{case.reference}/reply/", {"channel": "email", "body": "  "})
    client.post(f"/cases/{case.reference}/reply/", {"channel": "fax", "body": "Hej"})

    assert OutboundMessage.objects.filter(kind="reply").count() == 0
    assert Contact.objects.filter(case=case, direction="out").count() == 0


def test_another_department_cannot_reply_and_nothing_is_sent(org: Org, eva) -> None:  # type: ignore[no-untyped-def]
    case = eva_case(org, eva)

    response = login(org.building_handler).post(
        f"/cases/{case.reference}/reply/", {"channel": "email", "body": "Hej"}
    )

    assert response.status_code == 404
    assert OutboundMessage.objects.count() == 0


def test_a_canned_response_in_the_cases_language_fills_the_reply(org: Org, eva) -> None:  # type: ignore[no-untyped-def]
    case = eva_case(org, eva)  # language sv (the resident's)
    mine = CannedResponse.objects.create(
        title="Hämtschema", category=org.bins, language="sv", body="Hämtning sker varannan vecka."
    )
    CannedResponse.objects.create(title="Danish", category=org.bins, language="da", body="Dansk")
    CannedResponse.objects.create(title="Other", category=org.permit, language="sv", body="Bygg")
    client = login(org.agent)

    page = client.get(f"/cases/{case.reference}/").content.decode()
    filled = client.get(f"/cases/{case.reference}/?canned={mine.pk}").content.decode()

    assert "Hämtschema" in page and "Danish" not in page and ">Other<" not in page
    assert ">Hämtning sker varannan vecka.</textarea>" in filled


def test_the_same_residents_open_case_is_suggested_and_merged_in_one_click(org: Org, eva) -> None:  # type: ignore[no-untyped-def]
    first = eva_case(org, eva, subject="Tunnan")
    second = eva_case(org, eva, subject="Tunnan igen")
    client = login(org.agent)

    html = client.get(f"/cases/{second.reference}/").content.decode()
    assert f"Merge into {first.reference}" in html

    client.post(
        f"/cases/{second.reference}/do/merge/",
        {"into": first.reference, "expected_state": "new"},
    )
    second.refresh_from_db()
    assert (second.state, second.merged_into_id) == (CaseState.MERGED, first.pk)


def test_the_case_view_query_count_does_not_grow_with_the_timeline(
    org: Org, eva, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    case = eva_case(org, eva)
    client = login(org.agent)
    client.get(f"/cases/{case.reference}/")
    with django_assert_max_num_queries(40) as few:
        client.get(f"/cases/{case.reference}/")
    for i in range(50):
        case_add_note(actor=Actor.staff(org.agent), case_id=case.pk, text=f"Anteckning {i}")
    assert CaseEvent.objects.filter(case=case).count() >= 50
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(f"/cases/{case.reference}/")
    assert response.content.decode().count("Anteckning ") == 50


def test_location_keys_compare_places_not_spellings() -> None:
    from cases.identity import location_key

    assert location_key(lat=59.329312, long=18.068581) == "geo:59.3293,18.0686"
    assert location_key(address="  Storgatan 5,  Exempelstad ") == "addr:storgatan 5 exempelstad"
    assert location_key(address="storgatan 5 EXEMPELSTAD") == "addr:storgatan 5 exempelstad"
    assert location_key() == ""


def test_reports_of_the_same_fault_at_the_same_place_are_suggested(org: Org) -> None:
    import datetime

    import time_machine

    from cases.selectors import duplicate_suggestions

    def report(key: str, subject: str) -> Case:
        return case_create(
            actor=Actor.resident(Channel.ESERVICE),
            subject=subject,
            contact=ContactInput(channel=Channel.ESERVICE),
            category=org.bins,
            location_key=key,
        )

    start = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        old = report("geo:59.3293,18.0686", "För länge sedan")
    with time_machine.travel(start + datetime.timedelta(days=5), tick=False):
        first = report("geo:59.3293,18.0686", "Full container")
        elsewhere = report("geo:59.3300,18.0700", "Annan plats")
        second = report("geo:59.3293,18.0686", "Containern är full")

    assert duplicate_suggestions(user=org.agent, case=second) == [first]
    assert duplicate_suggestions(user=org.agent, case=elsewhere) == []
    assert old not in duplicate_suggestions(user=org.agent, case=first)
