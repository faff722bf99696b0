"""The case domain. Split by topic; import models from ``cases.models``."""

from cases.models.calendar import BusinessCalendar, CalendarException, OpeningHours
from cases.models.case import ActorType, Case, CaseEvent, CaseState, Contact, EventKind
from cases.models.organisation import (
    Category,
    CategoryField,
    Department,
    EscalationStep,
    ServiceAgreement,
)
from cases.models.resident import PowerOfAttorney, Resident, ResidentEmail, ResidentPhone
from cases.models.routing import CannedResponse, CaseEscalation, Notification, RoutingRule

__all__ = [
    "ActorType",
    "BusinessCalendar",
    "CalendarException",
    "CannedResponse",
    "Case",
    "CaseEscalation",
    "CaseEvent",
    "CaseState",
    "Category",
    "CategoryField",
    "Contact",
    "Department",
    "EscalationStep",
    "EventKind",
    "Notification",
    "OpeningHours",
    "PowerOfAttorney",
    "Resident",
    "ResidentEmail",
    "ResidentPhone",
    "RoutingRule",
    "ServiceAgreement",
]
