"""Edge cases found in review, pinned so they stay fixed."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from cases.choices import Channel
from cases.models import Case, CaseEvent, CaseState, Contact
from cases.services.actors import Actor
from cases.services.cases import ContactInput, case_add_contact
from cases.services.residents import resident_create
from cases.services.transitions import (
    case_accept,
    case_forward,
    case_reopen,
    case_resolve_at_first_contact,
    case_wait_for_resident,
)
from common.exceptions import ApplicationError, PermissionDeniedError
from tests.factories import CategoryFactory
from tests.municipality import Org

pytestmark = pytest.mark.django_db


def test_an_agent_can_log_the_residents_call_on_a_case_a_department_holds(org: Org) -> None:
    case = org.new_case()
    case_forward(actor=Actor.staff(org.agent), case_id=case.pk)
    case_accept(actor=Actor.staff(org.waste_handler), case_id=case.pk)
    case_wait_for_resident(actor=Actor.staff(org.waste_handler), case_id=case.pk)
    contact = case_add_contact(
        actor=Actor.staff(org.agent), case_id=case.pk, contact=ContactInput(channel=Channel.PHONE)
    )
    case.refresh_from_db()
    assert contact.agent == org.agent
    assert case.state == CaseState.ACCEPTED
    resume = CaseEvent.objects.get(case=case, transition="resume")
    assert (resume.actor_type, resume.actor_id, resume.reason) == (
        "system",
        None,
        "The resident answered.",
    )


def test_a_level_4_case_without_category_is_not_resolved_at_first_contact(org: Org) -> None:
    case = org.new_case()
    Case.objects.filter(pk=case.pk).update(category=None, complexity_level=4)
    with pytest.raises(ApplicationError) as exc:
        case_resolve_at_first_contact(actor=Actor.staff(org.agent), case_id=case.pk)
    assert exc.value.code == "level_not_allowed"
    assert Case.objects.get(pk=case.pk).state == CaseState.NEW


def test_reopening_takes_back_the_first_contact_resolution_of_the_contact(org: Org) -> None:
    case = org.new_case()
    case_resolve_at_first_contact(actor=Actor.staff(org.agent), case_id=case.pk)
    assert list(
        Contact.objects.filter(case=case).values_list("resolved_at_first_contact", flat=True)
    ) == [True]
    case_reopen(actor=Actor.staff(org.agent), case_id=case.pk, reason="Inte löst")
    assert list(
        Contact.objects.filter(case=case).values_list("resolved_at_first_contact", flat=True)
    ) == [False]
    assert Case.objects.get(pk=case.pk).resolved_at_first_contact is False


def test_resident_search_results_mask_the_identity_number(org: Org) -> None:
    resident_create(
        actor=Actor.staff(org.agent), name="Anna", personal_id="811218-9876", phones=["0701234567"]
    )
    client = APIClient()
    client.force_authenticate(org.agent)
    result = client.get("/api/v1/residents/?phone=0701234567").json()["results"][0]
    assert result["personal_id"] == "19811218-XXXX"
    assert client.get(f"/api/v1/residents/{result['id']}/").json()["personal_id"] == "19811218-9876"


def test_permission_is_checked_before_the_target_department(org: Org) -> None:
    case = org.new_case()
    case_forward(actor=Actor.staff(org.agent), case_id=case.pk)
    case_accept(actor=Actor.staff(org.waste_handler), case_id=case.pk)
    # A handler may not forward at all: 403, not "the case is already at the contact center".
    with pytest.raises(PermissionDeniedError):
        case_forward(actor=Actor.staff(org.waste_handler), case_id=case.pk, department=org.cc)


def test_two_versions_of_a_category_may_not_overlap(org: Org) -> None:
    CategoryFactory(
        code="street-light",
        department=org.waste,
        valid_from=datetime.date(2024, 1, 1),
        valid_to=datetime.date(2025, 12, 31),
    )
    later = CategoryFactory.build(
        code="street-light", department=org.waste, valid_from=datetime.date(2026, 1, 1)
    )
    later.clean()  # follows on: fine
    overlapping = CategoryFactory.build(
        code="street-light", department=org.waste, valid_from=datetime.date(2025, 6, 1)
    )
    with pytest.raises(ValidationError) as exc:
        overlapping.clean()
    assert "valid_from" in exc.value.message_dict


# --- Second review -------------------------------------------------------------------------


def test_after_a_merge_the_surviving_timeline_shows_every_contact(org: Org) -> None:
    from cases.selectors import case_timeline
    from cases.services.transitions import case_merge

    original = org.new_case()
    duplicate = org.new_case(channel=Channel.EMAIL)
    case_merge(actor=Actor.staff(org.agent), case_id=duplicate.pk, into_case_id=original.pk)
    timeline = case_timeline(case=original)
    shown = sorted(e.contact.pk for e in timeline if e.contact is not None)
    assert shown == sorted(Contact.objects.filter(case=original).values_list("pk", flat=True))
    assert len(shown) == 2
    moved_entry = next(e for e in timeline if e.event.data.get("moved_from"))
    assert moved_entry.event.data["moved_from"] == duplicate.reference
    # The duplicate no longer shows contacts it does not hold.
    assert [e.contact for e in case_timeline(case=duplicate) if e.contact is not None] == []


def test_cases_of_different_residents_are_not_merged(org: Org) -> None:
    from cases.services.transitions import case_merge

    alice = resident_create(actor=Actor.staff(org.agent), name="Alice")
    bob = resident_create(actor=Actor.staff(org.agent), name="Bob")
    a, b = org.new_case(), org.new_case()
    Case.objects.filter(pk=a.pk).update(resident=alice)
    Case.objects.filter(pk=b.pk).update(resident=bob)
    with pytest.raises(ApplicationError) as exc:
        case_merge(actor=Actor.staff(org.agent), case_id=a.pk, into_case_id=b.pk)
    assert exc.value.code == "different_residents"
    assert Contact.objects.filter(case=b).count() == 1
    assert Case.objects.get(pk=a.pk).state == CaseState.NEW


@pytest.mark.parametrize("path", ["returned", "reopened"])
def test_no_first_contact_resolution_after_a_return_or_a_reopen(org: Org, path: str) -> None:
    from cases.services.transitions import case_open, case_resolve, case_return_to_contact_center

    case = org.new_case()
    agent = Actor.staff(org.agent)
    if path == "returned":
        case_forward(actor=agent, case_id=case.pk)
        case_return_to_contact_center(
            actor=Actor.staff(org.waste_handler), case_id=case.pk, reason="Fel förvaltning"
        )
    else:
        case_open(actor=agent, case_id=case.pk)
        case_resolve(actor=agent, case_id=case.pk)
        case_reopen(actor=agent, case_id=case.pk, reason="Inte löst")
    with pytest.raises(ApplicationError) as exc:
        case_resolve_at_first_contact(actor=agent, case_id=case.pk)
    assert exc.value.code == "not_first_contact"
    assert Case.objects.get(pk=case.pk).state == CaseState.OPEN


def test_reopen_leaves_no_department_assignee_behind(org: Org) -> None:
    from cases.services.transitions import case_close, case_resolve

    case = org.new_case()
    case_forward(actor=Actor.staff(org.agent), case_id=case.pk)
    case_accept(actor=Actor.staff(org.waste_handler), case_id=case.pk)
    case_resolve(actor=Actor.staff(org.waste_handler), case_id=case.pk)
    case_close(actor=Actor.staff(org.agent), case_id=case.pk)
    case = case_reopen(actor=Actor.staff(org.agent), case_id=case.pk, reason="Tunnan står kvar")
    assert (case.department, case.assignee) == (org.cc, None)


def test_bad_list_parameters_are_400_not_500(org: Org) -> None:
    client = APIClient()
    client.force_authenticate(org.agent)
    r = client.get("/api/v1/cases/?resident=abc&created_from=yesterday&state=nonsense")
    assert r.status_code == 400
    assert set(r.json()["fields"]) == {"resident", "created_from", "state.0"}


def test_a_calendar_without_opening_hours_is_a_clear_error(org: Org) -> None:
    from tests.factories import CalendarFactory

    org.waste.calendar = CalendarFactory(name="Empty", office_hours=False)
    org.waste.save()
    case = org.new_case()
    with pytest.raises(ApplicationError) as exc:
        case_forward(actor=Actor.staff(org.agent), case_id=case.pk)
    assert exc.value.code == "calendar_without_hours"
    assert Case.objects.get(pk=case.pk).state == CaseState.NEW


def test_a_wrong_state_forward_is_409_before_any_deadline_is_computed(org: Org) -> None:
    from common.exceptions import ConflictError

    case = org.new_case()
    case_resolve_at_first_contact(actor=Actor.staff(org.agent), case_id=case.pk)
    with pytest.raises(ConflictError):
        case_forward(actor=Actor.staff(org.agent), case_id=case.pk)


def test_a_handler_gets_403_whatever_the_input(org: Org) -> None:
    case = org.new_case()
    case_forward(actor=Actor.staff(org.agent), case_id=case.pk)
    client = APIClient()
    client.force_authenticate(org.waste_handler)
    r = client.post(
        f"/api/v1/cases/{case.reference}/forward/", {"department": "nope"}, format="json"
    )
    assert r.status_code == 403
    a = client.post(
        f"/api/v1/cases/{case.reference}/assign/", {"assignee": "no-such-user"}, format="json"
    )
    b = client.post(f"/api/v1/cases/{case.reference}/assign/", {"assignee": "agent"}, format="json")
    assert a.status_code == b.status_code == 400
    assert a.json() == b.json()  # a missing user and a user of another unit look the same


def test_auto_close_rechecks_the_quiet_period_under_the_lock(org: Org) -> None:
    from django.utils import timezone

    from cases.services.transitions import case_close
    from common.exceptions import ConflictError

    case = org.new_case()
    case_resolve_at_first_contact(actor=Actor.staff(org.agent), case_id=case.pk)
    with pytest.raises(ConflictError) as exc:
        case_close(
            actor=Actor.system(),
            case_id=case.pk,
            resolved_before=timezone.now() - datetime.timedelta(days=14),
        )
    assert exc.value.code == "recently_resolved"
    assert Case.objects.get(pk=case.pk).state == CaseState.RESOLVED_FIRST_CONTACT


def test_addresses_typed_in_the_admin_are_normalised_and_found(org: Org) -> None:
    from django.test import Client

    client = Client()
    client.force_login(org.admin)
    response = client.post(
        "/admin/cases/resident/add/",
        {
            "kind": "person",
            "name": "Eva",
            "preferred_language": "sv",
            "emails-TOTAL_FORMS": "1",
            "emails-INITIAL_FORMS": "0",
            "emails-0-address": "Eva@Example.ORG",
            "phones-TOTAL_FORMS": "1",
            "phones-INITIAL_FORMS": "0",
            "phones-0-number": "070-123 45 67",
            "representatives-TOTAL_FORMS": "0",
            "representatives-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    from cases.selectors import resident_find

    found = list(resident_find(user=org.agent, email="eva@example.org", phone="0701234567"))
    assert [r.name for r in found] == ["Eva"]
