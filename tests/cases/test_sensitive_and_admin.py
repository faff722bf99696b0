"""Records duties: opening a sensitive case is logged; admin actions go through the services."""

from __future__ import annotations

import pytest
from django.test import Client

from cases.models import CaseEvent, CaseState
from cases.services.actors import Actor
from cases.services.transitions import case_resolve_at_first_contact
from tests.factories import CategoryFactory
from tests.municipality import Org

pytestmark = pytest.mark.django_db


def test_opening_a_sensitive_case_is_logged_but_not_shown_in_the_timeline(org: Org) -> None:
    sensitive = CategoryFactory(
        code="financial-assistance", department=org.building, sensitive=True, default_level=1
    )
    case = org.new_case(category=sensitive)
    ordinary = org.new_case()
    client = Client()
    client.force_login(org.agent)
    client.get(f"/cases/{case.reference}/")
    client.get(f"/api/v1/cases/{case.reference}/")
    client.get(f"/cases/{ordinary.reference}/")
    assert list(
        CaseEvent.objects.filter(kind="viewed").values_list("case_id", "actor__username")
    ) == [
        (case.pk, "agent"),
        (case.pk, "agent"),
    ]
    timeline = client.get(f"/api/v1/cases/{case.reference}/").json()["timeline"]
    assert "viewed" not in [e["kind"] for e in timeline]


def test_admin_actions_change_cases_through_the_services(org: Org) -> None:
    resolved = org.new_case()
    case_resolve_at_first_contact(actor=Actor.staff(org.agent), case_id=resolved.pk)
    new = org.new_case()
    client = Client()
    client.force_login(org.admin)
    response = client.post(
        "/admin/cases/case/",
        {"action": "close_cases", "_selected_action": [resolved.pk, new.pk]},
        follow=True,
    )
    assert response.status_code == 200
    resolved.refresh_from_db()
    new.refresh_from_db()
    assert resolved.state == CaseState.CLOSED
    assert new.state == CaseState.NEW  # not closable: reported, not changed
    event = CaseEvent.objects.get(case=resolved, transition="close")
    assert (event.actor.username, event.reason) == ("root", "Admin action")
    assert f"{new.reference}: " in response.content.decode()
