"""Factories for tests. Cases are made through the services, never by writing state directly."""

from __future__ import annotations

import datetime
from decimal import Decimal

import factory

from accounts.models import Role, User
from cases.models import (
    BusinessCalendar,
    Category,
    Department,
    EscalationStep,
    OpeningHours,
    Resident,
    ServiceAgreement,
)


class CalendarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessCalendar
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Calendar {n}")
    country = "SE"
    timezone = "Europe/Stockholm"
    eves_closed = True

    @factory.post_generation
    def office_hours(self, create: bool, extracted: object, **kwargs: object) -> None:
        """Mon–Fri 08:00–16:00 unless ``office_hours=False``."""
        if not create or extracted is False:
            return
        OpeningHours.objects.bulk_create(
            OpeningHours(calendar=self, weekday=d, opens=datetime.time(8), closes=datetime.time(16))
            for d in range(5)
        )


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"dept-{n}")
    name_sv = factory.LazyAttribute(lambda o: f"Förvaltning {o.code}")
    name_da = factory.LazyAttribute(lambda o: f"Forvaltning {o.code}")
    name_en = factory.LazyAttribute(lambda o: f"Department {o.code}")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    code = factory.Sequence(lambda n: f"category-{n}")
    name_sv = factory.LazyAttribute(lambda o: f"Kategori {o.code}")
    name_da = factory.LazyAttribute(lambda o: f"Kategori {o.code}")
    name_en = factory.LazyAttribute(lambda o: f"Category {o.code}")
    department = factory.SubFactory(DepartmentFactory)
    default_level = 2


class AgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceAgreement
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Agreement {n}")
    department = factory.SubFactory(DepartmentFactory)
    valid_from = datetime.date(2020, 1, 1)
    contact_center_levels = [1, 2]
    accept_within_hours = Decimal("8")
    resolve_within_hours = Decimal("40")

    @factory.post_generation
    def categories(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create and extracted:
            self.categories.set(extracted)  # type: ignore[attr-defined]

    @factory.post_generation
    def ladder(self, create: bool, extracted: object, **kwargs: object) -> None:
        if not create:
            return
        EscalationStep.objects.create(agreement=self, position=1, at_percent=75, notify="assignee")
        EscalationStep.objects.create(
            agreement=self, position=2, at_percent=100, notify="department_supervisor"
        )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.AGENT
    password = factory.django.Password("pw")


class ResidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resident

    name = factory.Sequence(lambda n: f"Resident {n}")
