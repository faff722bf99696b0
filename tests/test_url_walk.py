"""A department handler cannot see, by any page or API route, a case of another department.

The test walks every URL pattern the project has. A pattern that names a case (or its resident)
gets that case's identifiers filled in and must answer 404 (or 405 for a method it does not
take), for GET and POST alike; a pattern that does not must not mention the case. Afterwards
the case and its audit trail are exactly as before. A new URL is covered without editing this
test; a URL whose parameters the walker cannot fill makes it fail, so nobody forgets one.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

from cases.models import Case, CaseEvent, Contact
from cases.services.actors import Actor
from cases.services.residents import resident_create
from cases.services.transitions import TRANSITIONS, case_forward
from tests.municipality import Org

pytestmark = pytest.mark.django_db

CONVERTER = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")


def walk(patterns: list, prefix: str = "") -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for p in patterns:
        if isinstance(p, URLResolver):
            if isinstance(p.pattern, RoutePattern):
                out += walk(p.url_patterns, prefix + str(p.pattern))
            else:
                out.append((prefix + str(p.pattern), p))  # regex resolvers: admin, i18n
        elif isinstance(p, URLPattern):
            out.append((prefix + str(p.pattern), p))
    return out


@pytest.fixture
def foreign_case(org: Org) -> Case:
    """A building case with a resident, forwarded to Building: invisible to the waste handler."""
    resident = resident_create(
        actor=Actor.staff(org.agent), name="Hemlig Person", personal_id="811218-9876"
    )
    case = org.new_case(category=org.permit, subject="Bygglov Storgatan 5")
    Case.objects.filter(pk=case.pk).update(resident=resident)
    return case_forward(actor=Actor.staff(org.agent), case_id=case.pk)


def snapshot(case: Case) -> tuple:
    case.refresh_from_db()
    return (
        tuple(getattr(case, f.attname) for f in Case._meta.concrete_fields),
        CaseEvent.objects.filter(case=case).count(),
        Contact.objects.filter(case=case).count(),
    )


def fill(route: str, case: Case) -> list[str]:
    """Concrete URLs for a route, with the case's identifiers (all transition names for <name>)."""
    values = {
        "reference": [case.reference],
        "pk": [str(case.resident_id)],
        "name": list(TRANSITIONS),
        # Public e-service routes: the case's category form, and a receipt "token" that is the
        # case's reference (a guess at someone else's receipt must find nothing).
        "code": [case.category.code],
        "token": [case.reference],
    }
    urls = [route]
    for match in CONVERTER.finditer(route):
        name = match.group("name")
        if name not in values:
            raise AssertionError(
                f"The URL walk does not know how to fill <{name}> in {route!r}; teach it."
            )
        urls = [u.replace(match.group(0), v, 1) for u in urls for v in values[name]]
    return ["/" + u.lstrip("^").rstrip("$") for u in urls]


def test_a_handler_of_another_department_gets_404_on_every_route(
    org: Org, foreign_case: Case
) -> None:
    before = snapshot(foreign_case)
    client = Client()
    client.force_login(org.waste_handler)
    checked = 0
    for route, pattern in walk(get_resolver().url_patterns):
        if route.startswith(("admin/", "i18n/")) or not isinstance(
            getattr(pattern, "pattern", None), RoutePattern
        ):
            continue
        # Routes whose parameters identify a case or its resident must answer 404/405; the
        # others (lists, public forms) must simply not mention the case.
        names_case = any(p in route for p in ("<str:reference>", "<int:pk>", "<str:token>"))
        for url in fill(route, foreign_case):
            for method in ("get", "post"):
                client.force_login(org.waste_handler)  # POST /logout/ ends the session
                response = getattr(client, method)(url)
                checked += 1
                if names_case:
                    assert response.status_code in (404, 405), (
                        f"{method.upper()} {url} -> {response.status_code}"
                    )
                else:
                    body = b"".join(response) if response.streaming else response.content
                    assert foreign_case.reference.encode() not in body, (
                        f"{method.upper()} {url} leaks the case"
                    )
                    assert b"Storgatan" not in body, f"{method.upper()} {url} leaks the case"
    assert checked > 40
    assert snapshot(foreign_case) == before


def test_the_admin_is_closed_to_handlers(org: Org, foreign_case: Case) -> None:
    before = snapshot(foreign_case)
    client = Client()
    client.force_login(org.waste_handler)
    for url in (
        "/admin/",
        "/admin/cases/case/",
        f"/admin/cases/case/{foreign_case.pk}/change/",
        f"/admin/cases/case/{foreign_case.pk}/history/",
        "/admin/cases/caseevent/",
        "/admin/cases/resident/",
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), url
        response = client.post(
            url, {"action": "mark_cases_spam", "_selected_action": [foreign_case.pk]}
        )
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), url
    assert snapshot(foreign_case) == before


def test_the_same_routes_do_show_the_case_to_its_own_department(
    org: Org, foreign_case: Case
) -> None:
    """The walk above would pass trivially if everything were 404: check the positive side."""
    client = Client()
    client.force_login(org.building_handler)
    assert client.get(f"/cases/{foreign_case.reference}/").status_code == 200
    assert client.get(f"/api/v1/cases/{foreign_case.reference}/").status_code == 200
    assert foreign_case.reference.encode() in client.get("/cases/").content
    assert client.get(f"/api/v1/residents/{foreign_case.resident_id}/").status_code == 200
