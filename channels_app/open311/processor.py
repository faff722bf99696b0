"""Turns a recorded Open311 request into a case (the intake convention: ``process(message)``).

Runs inside ``intake.inbound_process``'s transaction, in the POST itself or later from the
sweep. Everything it needs is in the payload the POST validated and stored, including the
case's subject and description, so processing again later gives the same case text.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

from cases import identity
from cases.choices import Channel, Nature
from cases.models import Category
from cases.services.actors import Actor
from cases.services.cases import ContactInput, case_create_with_contact
from cases.services.residents import resident_find_or_create_by_contact
from channels_app.intake import IntakeResult, Quarantine
from channels_app.models import InboundMessage

# The category the POST just read, so processing it in the same request does not read it
# again. Only a hint: a category of another id (or none, in the sweep) is read from the database.
_category_hint: ContextVar[Category | None] = ContextVar("open311_category_hint", default=None)


@contextlib.contextmanager
def category_hint(category: Category) -> Iterator[None]:
    token = _category_hint.set(category)
    try:
        yield
    finally:
        _category_hint.reset(token)


def process(message: InboundMessage) -> IntakeResult:
    payload = message.payload
    category = _category_hint.get()
    if category is None or category.pk != payload.get("category_id"):
        category = Category.objects.filter(pk=payload.get("category_id")).first()
    if category is None:
        raise Quarantine(f"The category of service_code {payload.get('service_code')!r} is gone.")
    name = " ".join(p for p in (payload.get("first_name", ""), payload.get("last_name", "")) if p)
    email, phone = payload.get("email", ""), payload.get("phone", "")
    resident = (
        resident_find_or_create_by_contact(email=email, phone=phone, name=name)
        if email or phone
        else None  # an anonymous report: nothing to look up
    )
    case, contact = case_create_with_contact(
        actor=Actor.resident(Channel.ESERVICE),
        location_key=identity.location_key(
            lat=payload.get("lat"),
            long=payload.get("long"),
            address=payload.get("address_string", ""),
        ),
        subject=payload["subject"],
        description=payload["case_description"],
        category=category,
        resident=resident,
        contact=ContactInput(
            channel=Channel.ESERVICE,
            nature=Nature.TRANSACTION,
            summary=f"Open311: {payload.get('client', '')}",
        ),
    )
    return IntakeResult(case=case, contact=contact)
