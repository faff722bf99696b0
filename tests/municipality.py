"""A small municipality for tests (a pytest plugin, see tests/conftest.py): a contact center and two departments."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest

from accounts.models import Role, User
from cases.choices import Channel
from cases.models import Case, Category, Department
from cases.services.actors import Actor
from cases.services.cases import ContactInput, case_create
from tests.factories import (
    AgreementFactory,
    CalendarFactory,
    CategoryFactory,
    DepartmentFactory,
    UserFactory,
)


@dataclass
class Org:
    cc: Department
    waste: Department
    waste_north: Department
    building: Department
    bins: Category  # waste, level 2, agreement lets the contact center resolve 1–2
    permit: Category  # building, level 4
    agent: User
    cc_supervisor: User
    waste_handler: User
    north_handler: User
    building_handler: User
    waste_supervisor: User
    comms: User
    admin: User

    def new_case(
        self,
        *,
        category: Category | None = None,
        subject: str = "Soptunnan tömdes inte",
        channel: str = Channel.PHONE,
    ) -> Case:
        return case_create(
            actor=Actor.staff(self.agent),
            subject=subject,
            category=category if category is not None else self.bins,
            contact=ContactInput(channel=channel),
        )


@pytest.fixture
def org(db: None) -> Org:
    calendar = CalendarFactory(name="Kommunen")
    cc = DepartmentFactory(
        code="kc", is_contact_center=True, name_en="Contact center", calendar=calendar
    )
    waste = DepartmentFactory(
        code="waste",
        name_en="Waste",
        name_sv="Avfall",
        email="avfall@example.org",
        calendar=calendar,
    )
    waste_north = DepartmentFactory(code="waste-north", name_en="Waste North", parent=waste)
    building = DepartmentFactory(code="building", name_en="Building", calendar=calendar)
    bins = CategoryFactory(code="missed-bin", department=waste, default_level=2)
    permit = CategoryFactory(code="building-permit", department=building, default_level=4)
    AgreementFactory(department=waste, categories=[bins], contact_center_levels=[1, 2])
    AgreementFactory(department=building, categories=[permit], contact_center_levels=[1, 2, 3])
    return Org(
        cc=cc,
        waste=waste,
        waste_north=waste_north,
        building=building,
        bins=bins,
        permit=permit,
        agent=UserFactory(username="agent", role=Role.AGENT, department=cc),
        cc_supervisor=UserFactory(username="ccsup", role=Role.SUPERVISOR, department=cc),
        waste_handler=UserFactory(username="wastehandler", role=Role.HANDLER, department=waste),
        north_handler=UserFactory(
            username="northhandler", role=Role.HANDLER, department=waste_north
        ),
        building_handler=UserFactory(
            username="buildinghandler", role=Role.HANDLER, department=building
        ),
        waste_supervisor=UserFactory(username="wastesup", role=Role.SUPERVISOR, department=waste),
        comms=UserFactory(username="comms", role=Role.COMMUNICATIONS, department=cc),
        admin=UserFactory(username="root", role=Role.ADMIN, is_superuser=True, is_staff=True),
    )


# A Tuesday morning in office hours, Stockholm time; tests that need deadlines travel here.
TUESDAY_9 = datetime.datetime(
    2026, 3, 3, 9, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=1))
)
