"""The minimal pages: login, case list, case detail with timeline, transitions from buttons."""

from __future__ import annotations

import pytest
from django.test import Client

from cases.models import CaseEvent, CaseState
from tests.municipality import Org

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_pages_need_a_login(org: Org) -> None:
    response = Client().get("/cases/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/cases/"


def test_login_with_the_form(org: Org) -> None:
    client = Client()
    response = client.post("/login/", {"username": "agent", "password": "pw"})
    # home: staff with work queues go on to them
    assert (response.status_code, response["Location"]) == (302, "/")
    bad = Client().post("/login/", {"username": "agent", "password": "wrong"})
    assert bad.status_code == 200
    assert b"didn't match" in bad.content


def test_the_list_shows_cases_with_links(org: Org) -> None:
    case = org.new_case(subject="Trasig gatlampa")
    response = logged_in(org.agent).get("/cases/")
    assert response.status_code == 200
    assert f'href="/cases/{case.reference}/"'.encode() in response.content
    assert b"Trasig gatlampa" in response.content


def test_the_list_query_count_does_not_grow_with_rows(
    org: Org, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    for i in range(30):
        org.new_case(subject=f"Case {i}")
    client = logged_in(org.agent)
    with django_assert_max_num_queries(6):
        assert client.get("/cases/").status_code == 200


def test_detail_shows_the_timeline_and_the_allowed_actions(org: Org) -> None:
    case = org.new_case()
    response = logged_in(org.agent).get(f"/cases/{case.reference}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Contact added" in html and "Created" in html
    assert f'action="/cases/{case.reference}/do/forward/"' in html
    assert f'action="/cases/{case.reference}/do/accept/"' not in html  # not an agent's action


def test_forward_from_the_page_then_a_stale_click_is_refused(org: Org) -> None:
    case = org.new_case()
    client = logged_in(org.agent)
    response = client.post(
        f"/cases/{case.reference}/do/forward/",
        {"expected_state": "new", "reason": "Avfall"},
        follow=True,
    )
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.state == CaseState.FORWARDED
    # The same button clicked again from an old tab:
    response = client.post(
        f"/cases/{case.reference}/do/mark_spam/", {"expected_state": "new"}, follow=True
    )
    assert "someone else changed it" in response.content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.FORWARDED
    assert CaseEvent.objects.filter(case=case, kind="transition").count() == 1


def test_return_without_reason_shows_the_error_and_changes_nothing(org: Org) -> None:
    case = org.new_case()
    logged_in(org.agent).post(f"/cases/{case.reference}/do/forward/", {})
    response = logged_in(org.waste_handler).post(
        f"/cases/{case.reference}/do/return_to_contact_center/", {"reason": ""}, follow=True
    )
    assert "Say why the case is returned" in response.content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.FORWARDED


def test_pages_speak_swedish(org: Org) -> None:
    case = org.new_case()
    client = logged_in(org.agent)
    client.post("/i18n/setlang/", {"language": "sv", "next": "/cases/"})
    html = client.get(f"/cases/{case.reference}/").content.decode()
    assert "Tidslinje" in html
    assert "Ny" in html  # state "New"


def test_add_a_note_from_the_page(org: Org) -> None:
    case = org.new_case()
    logged_in(org.agent).post(f"/cases/{case.reference}/note/", {"text": "Ringde upp"})
    assert CaseEvent.objects.filter(case=case, kind="note").get().reason == "Ringde upp"
