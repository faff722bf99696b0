"""Who sees which case: one queryset rule for every page, API list, detail and export."""

from __future__ import annotations

import pytest

from cases.models import Case
from cases.services.actors import Actor
from cases.services.transitions import case_forward
from tests.municipality import Org

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_cases(org: Org) -> dict[str, Case]:
    at_cc = org.new_case(subject="At the contact center")
    waste = org.new_case(subject="Waste")
    case_forward(actor=Actor.staff(org.agent), case_id=waste.pk)
    north = org.new_case(subject="Waste north")
    case_forward(actor=Actor.staff(org.agent), case_id=north.pk, department=org.waste_north)
    building = org.new_case(category=org.permit, subject="Building")
    case_forward(actor=Actor.staff(org.agent), case_id=building.pk)
    return {"cc": at_cc, "waste": waste, "north": north, "building": building}


def visible(user) -> set[str]:  # type: ignore[no-untyped-def]
    return set(Case.objects.visible_to(user).values_list("subject", flat=True))


ALL = {"At the contact center", "Waste", "Waste north", "Building"}


def test_contact_center_staff_and_admins_see_every_case(org: Org, three_cases: dict) -> None:
    assert visible(org.agent) == ALL
    assert visible(org.cc_supervisor) == ALL
    assert visible(org.admin) == ALL


def test_a_handler_sees_their_unit_and_the_units_below_it(org: Org, three_cases: dict) -> None:
    assert visible(org.waste_handler) == {"Waste", "Waste north"}
    assert visible(org.waste_supervisor) == {"Waste", "Waste north"}
    assert visible(org.north_handler) == {"Waste north"}
    assert visible(org.building_handler) == {"Building"}


def test_the_communications_office_sees_no_individual_case(org: Org, three_cases: dict) -> None:
    assert visible(org.comms) == set()


def test_inactive_users_and_users_without_a_department_see_nothing(
    org: Org, three_cases: dict
) -> None:
    org.waste_handler.is_active = False
    assert visible(org.waste_handler) == set()
    org.building_handler.department = None
    assert visible(org.building_handler) == set()


def test_the_comms_office_cannot_add_notes_to_any_case(org: Org, three_cases: dict) -> None:
    from cases.models import CaseEvent
    from cases.services.cases import case_add_note
    from common.exceptions import NotFoundError

    count = CaseEvent.objects.count()
    with pytest.raises(NotFoundError):
        case_add_note(actor=Actor.staff(org.comms), case_id=three_cases["cc"].pk, text="x")
    assert CaseEvent.objects.count() == count
