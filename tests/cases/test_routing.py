"""Routing: every new case gets exactly one destination (triage, the contact center's queue, or
a department with deadlines), by rules first and then by category and service agreement."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from cases.choices import Channel
from cases.models import Case, CaseEvent, CaseState, OpeningHours, RoutingRule
from cases.services.actors import Actor
from cases.services.cases import ContactInput, case_classify, case_create
from cases.services.routing import (
    Decision,
    RoutingFacts,
    case_route,
    case_route_batch,
    cases_unrouted,
    rule_matches,
)
from cases.services.transitions import (
    case_accept,
    case_forward,
    case_open,
    case_return_to_contact_center,
)
from channels_app.models import InboundMessage, Mailbox
from tests.factories import CalendarFactory, CategoryFactory, DepartmentFactory
from tests.municipality import TUESDAY_9, Org

pytestmark = pytest.mark.django_db
TZ = TUESDAY_9.tzinfo


def staff(user) -> Actor:  # type: ignore[no-untyped-def]
    return Actor.staff(user)


def routing_events(case: Case) -> list[CaseEvent]:
    return list(CaseEvent.objects.filter(case=case, kind="transition").order_by("pk"))


def new_case(org: Org, **kwargs) -> Case:  # type: ignore[no-untyped-def]
    """A new case as intake makes it (the routing task is not run: tests call routing)."""
    kwargs.setdefault("channel", Channel.ESERVICE)
    return org.new_case(**kwargs)


def test_a_case_the_contact_center_may_resolve_stays_in_its_queue(org: Org) -> None:
    case = new_case(org, category=org.bins)  # level 2; the waste agreement leaves 1-2 to the CC

    outcome = case_route(case_id=case.pk)

    case.refresh_from_db()
    assert outcome is not None and outcome.decision == Decision.CONTACT_CENTER
    assert (case.state, case.department, case.triage) == (CaseState.OPEN, org.cc, False)
    assert case.routed_at is not None
    [event] = routing_events(case)
    assert (event.transition, event.actor_type, event.to_state) == ("open", "system", "open")
    assert event.data["routing"] == {"decision": "contact_center"}
    assert event.reason == "In the contact center's queue: the contact center may resolve it."


@time_machine.travel(TUESDAY_9, tick=False)
def test_a_case_above_the_contact_centers_levels_is_forwarded_with_deadlines(org: Org) -> None:
    case = new_case(org, category=org.permit)  # level 4; building leaves 1-3 to the CC

    outcome = case_route(case_id=case.pk)

    case.refresh_from_db()
    assert outcome is not None
    assert (outcome.decision, outcome.department) == (Decision.FORWARDED, "building")
    assert (case.state, case.department) == (CaseState.FORWARDED, org.building)
    assert case.agreement is not None and case.agreement.department == org.building
    # 8 and 40 business hours of Mon-Fri 08-16 from Tuesday 09:00.
    assert case.accept_due_at == datetime.datetime(2026, 3, 4, 9, 0, tzinfo=TZ)
    assert case.resolve_due_at == datetime.datetime(2026, 3, 10, 9, 0, tzinfo=TZ)
    [event] = routing_events(case)
    assert event.transition == "forward"
    assert event.reason == "Routed by category to Building."
    assert event.data["routing"] == {"decision": "forwarded"}
    assert event.data["agreement_id"] == case.agreement_id


def test_a_case_without_category_waits_in_triage(org: Org) -> None:
    case = case_create(
        actor=staff(org.agent),
        subject="Fråga om något",
        contact=ContactInput(channel=Channel.EMAIL),
    )

    outcome = case_route(case_id=case.pk)

    case.refresh_from_db()
    assert outcome is not None and outcome.decision == Decision.TRIAGE
    assert (case.state, case.department, case.triage) == (CaseState.OPEN, org.cc, True)
    assert routing_events(case)[0].reason == (
        "No category: waiting in triage for an agent to classify it."
    )


def test_classifying_a_triage_case_takes_it_out_of_triage(org: Org) -> None:
    case = case_create(
        actor=staff(org.agent), subject="Fråga", contact=ContactInput(channel=Channel.EMAIL)
    )
    case_route(case_id=case.pk)

    case = case_classify(actor=staff(org.agent), case_id=case.pk, category=org.bins)

    case.refresh_from_db()
    assert (case.triage, case.category, case.state) == (False, org.bins, CaseState.OPEN)
    event = CaseEvent.objects.get(case=case, kind="classified")
    assert event.data["after"]["triage"] is False


def test_routing_twice_routes_once(org: Org) -> None:
    case = new_case(org, category=org.permit)

    first = case_route(case_id=case.pk)
    second = case_route(case_id=case.pk)
    again = case_route_batch(case_ids=[case.pk, case.pk])

    assert first is not None and second is None and again == []
    assert len(routing_events(case)) == 1


def test_a_case_an_agent_took_first_is_not_routed(org: Org) -> None:
    case = new_case(org, category=org.permit)
    case_open(actor=staff(org.agent), case_id=case.pk)

    assert case_route(case_id=case.pk) is None

    case.refresh_from_db()
    assert (case.state, case.department, case.routed_at) == (CaseState.OPEN, org.cc, None)


def test_a_batch_routes_each_case_to_its_own_destination(org: Org) -> None:
    a = new_case(org, category=org.bins)
    b = new_case(org, category=org.permit)
    c = case_create(
        actor=staff(org.agent), subject="Okänt", contact=ContactInput(channel=Channel.LETTER)
    )

    outcomes = case_route_batch(case_ids=[c.pk, b.pk, a.pk])

    assert [(o.case_id, o.decision) for o in outcomes] == [
        (a.pk, Decision.CONTACT_CENTER),
        (b.pk, Decision.FORWARDED),
        (c.pk, Decision.TRIAGE),
    ]


def test_a_department_whose_calendar_has_no_hours_sends_the_case_to_triage(org: Org) -> None:
    closed = CalendarFactory(name="Inga tider", office_hours=False)
    org.building.calendar = closed
    org.building.save()
    case = new_case(org, category=org.permit)

    outcome = case_route(case_id=case.pk)

    case.refresh_from_db()
    assert outcome is not None and outcome.decision == Decision.TRIAGE
    assert (case.state, case.triage) == (CaseState.OPEN, True)
    [event] = routing_events(case)
    assert "no opening hours" in event.data["routing"]["error"]
    assert event.reason.startswith("Could not be forwarded (")


def test_a_department_without_agreement_gets_level_4_and_the_contact_center_keeps_the_rest(
    org: Org,
) -> None:
    parks = DepartmentFactory(code="parks", name_en="Parks")
    benches = CategoryFactory(code="broken-bench", department=parks, default_level=2)
    trees = CategoryFactory(code="dangerous-tree", department=parks, default_level=4)
    kept = new_case(org, category=benches)
    sent = new_case(org, category=trees)

    outcomes = case_route_batch(case_ids=[kept.pk, sent.pk])

    assert [o.decision for o in outcomes] == [Decision.CONTACT_CENTER, Decision.FORWARDED]
    sent.refresh_from_db()
    # Without an agreement there is no deadline to hold the department to.
    assert (sent.department, sent.accept_due_at, sent.resolve_due_at) == (parks, None, None)


# --- Returns ----------------------------------------------------------------------------------


def test_a_returned_case_goes_back_to_triage_and_the_return_is_counted(org: Org) -> None:
    case = new_case(org, category=org.permit)
    case_route(case_id=case.pk)
    case_accept(actor=staff(org.building_handler), case_id=case.pk)

    case_return_to_contact_center(
        actor=staff(org.building_handler), case_id=case.pk, reason="Gäller inte bygglov"
    )

    case.refresh_from_db()
    assert (case.state, case.department, case.triage) == (CaseState.OPEN, org.cc, True)
    assert (case.agreement, case.accept_due_at, case.resolve_due_at) == (None, None, None)
    returns = CaseEvent.objects.filter(case=case, transition="return_to_contact_center")
    assert [(e.reason, e.actor_id) for e in returns] == [
        ("Gäller inte bygglov", org.building_handler.pk)
    ]
    # and a second forward and return count twice
    case_forward(actor=staff(org.agent), case_id=case.pk)
    case_return_to_contact_center(
        actor=staff(org.building_handler), case_id=case.pk, reason="Fortfarande fel"
    )
    assert CaseEvent.objects.filter(case=case, transition="return_to_contact_center").count() == 2


# --- Rules ------------------------------------------------------------------------------------


def rule(**fields) -> RoutingRule:  # type: ignore[no-untyped-def]
    fields.setdefault("name", "Regel")
    return RoutingRule.objects.create(**fields)


def email_case(org: Org, *, subject: str, sender: str, mailbox: str = "kontakt") -> Case:
    """A case as the e-mail channel makes it: with its inbound record naming mailbox and sender."""
    case = case_create(
        actor=Actor.resident(Channel.EMAIL),
        subject=subject,
        contact=ContactInput(channel=Channel.EMAIL),
    )
    InboundMessage.objects.create(
        channel=Channel.EMAIL,
        source=f"email:{mailbox}",
        external_id=f"<{case.pk}@example>",
        payload={"from": sender, "subject": subject},
        status="processed",
        case=case,
    )
    return case


def test_a_subject_keyword_rule_classifies_the_case_and_routing_follows_the_category(
    org: Org,
) -> None:
    rule(
        name="Bygglov i ämnet",
        channel=Channel.EMAIL,
        subject_keywords="bygglov\nbygg-lov",
        category=org.permit,
    )
    case = email_case(org, subject="Fråga om BYGGLOV för altan", sender="anna@example.se")

    outcome = case_route(case_id=case.pk)

    case.refresh_from_db()
    assert outcome is not None and outcome.rule == "Bygglov i ämnet"
    assert (case.category, case.complexity_level, case.state) == (
        org.permit,
        4,
        CaseState.FORWARDED,
    )
    [event] = routing_events(case)
    assert event.data["routing"]["category"] == "building-permit"
    assert event.data["routing"]["rule"]["name"] == "Bygglov i ämnet"


def test_a_sender_domain_rule_matches_subdomains_and_forwards_to_its_department(org: Org) -> None:
    rule(name="Entreprenören", sender_domains="@renhallning.se", department=org.waste_north)
    case = email_case(org, subject="Rapport vecka 12", sender="drift@nord.renhallning.se")
    other = email_case(org, subject="Rapport vecka 12", sender="x@renhallning.se.evil.example")

    outcomes = case_route_batch(case_ids=[case.pk, other.pk])

    assert [(o.decision, o.department, o.rule) for o in outcomes] == [
        (Decision.FORWARDED, "waste-north", "Entreprenören"),
        (Decision.TRIAGE, "kc", ""),
    ]
    assert routing_events(case)[0].reason == ("Routed by the rule “Entreprenören” to Waste North.")


def test_rules_are_tried_by_position_and_only_active_ones(org: Org) -> None:
    rule(name="Inaktiv", position=1, active=False, subject_keywords="sopor", category=org.permit)
    rule(name="Andra", position=20, subject_keywords="sopor", priority="low")
    rule(name="Första", position=10, subject_keywords="sopor", category=org.bins, priority="high")
    case = email_case(org, subject="Sopor överallt", sender="a@example.se")

    outcome = case_route(case_id=case.pk)

    case.refresh_from_db()
    assert outcome is not None and outcome.rule == "Första"
    assert (case.category, case.priority) == (org.bins, "high")


def test_a_mailbox_rule_matches_only_mail_to_that_mailbox(org: Org) -> None:
    bygg = Mailbox.objects.create(name="bygg", address="bygg@example.org", department=org.building)
    rule(name="Byggbrevlådan", mailbox=bygg, category=org.permit)
    to_bygg = email_case(org, subject="Hej", sender="a@example.se", mailbox="bygg")
    to_kontakt = email_case(org, subject="Hej", sender="a@example.se", mailbox="kontakt")

    outcomes = case_route_batch(case_ids=[to_bygg.pk, to_kontakt.pk])

    assert [o.decision for o in outcomes] == [Decision.FORWARDED, Decision.TRIAGE]


def test_a_rule_never_overrides_the_category_a_resident_chose(org: Org) -> None:
    rule(name="Ord", subject_keywords="tunna", category=org.permit)
    case = new_case(org, category=org.bins, subject="Tunna", channel=Channel.ESERVICE)

    case_route(case_id=case.pk)

    case.refresh_from_db()
    assert (case.category, case.state) == (org.bins, CaseState.OPEN)


def test_rule_matching_is_pure_and_needs_every_condition() -> None:
    r = RoutingRule(channel=Channel.EMAIL, subject_keywords="Faktura", sender_domains="acme.se")
    assert rule_matches(r, RoutingFacts("email", "Din FAKTURA", sender="a@acme.se"), {})
    assert not rule_matches(r, RoutingFacts("sms", "Din faktura", sender="a@acme.se"), {})
    assert not rule_matches(r, RoutingFacts("email", "Hej", sender="a@acme.se"), {})
    assert not rule_matches(r, RoutingFacts("email", "Faktura", sender="a@notacme.se"), {})
    assert not rule_matches(r, RoutingFacts("email", "Faktura", sender=""), {})


def test_a_rule_needs_a_condition_and_an_action(org: Org) -> None:
    with pytest.raises(ValidationError) as exc:
        RoutingRule(name="Tom").full_clean()
    assert set(exc.value.message_dict) == {"subject_keywords", "category"}
    with pytest.raises(ValidationError) as exc:
        RoutingRule(name="Fel", channel=Channel.SMS, department=org.cc).full_clean()
    assert exc.value.message_dict["department"] == [
        "Choose a department, not the contact center itself."
    ]
    RoutingRule(name="Rätt", channel=Channel.SMS, department=org.waste).full_clean()


# --- Social media and the sweep -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("created", "due"),
    [
        # Friday 15:00 -> 24 working-day hours -> Monday 15:00.
        (datetime.datetime(2026, 3, 6, 15, 0), datetime.datetime(2026, 3, 9, 15, 0)),
        # Maundy Thursday 10:00: Good Friday, the weekend and Easter Monday do not count.
        (datetime.datetime(2026, 4, 2, 10, 0), datetime.datetime(2026, 4, 7, 10, 0)),
        # Saturday night: the clock starts on Monday 00:00.
        (datetime.datetime(2026, 3, 7, 23, 0), datetime.datetime(2026, 3, 10, 0, 0)),
    ],
)
def test_social_media_cases_must_be_answered_within_24_working_day_hours(
    org: Org, created: datetime.datetime, due: datetime.datetime
) -> None:
    stockholm = ZoneInfo("Europe/Stockholm")
    with time_machine.travel(created.replace(tzinfo=stockholm), tick=False):
        case = new_case(org, category=org.bins, channel=Channel.SOCIAL)
        case_route(case_id=case.pk)
    case.refresh_from_db()
    assert case.respond_due_at == due.replace(tzinfo=stockholm)


def test_the_sweep_finds_only_cases_left_new_for_a_minute(org: Org) -> None:
    with time_machine.travel(TUESDAY_9, tick=False):
        old = new_case(org, category=org.bins)
        routed = new_case(org, category=org.bins)
        case_route(case_id=routed.pk)
    with time_machine.travel(TUESDAY_9 + datetime.timedelta(seconds=90), tick=False):
        fresh = new_case(org, category=org.bins)
        assert cases_unrouted() == [old.pk]
        assert fresh.pk not in cases_unrouted()


def test_opening_hours_change_applies_to_the_next_batch(org: Org) -> None:
    """Agreements and calendars are read once per batch, never kept across batches."""
    with time_machine.travel(TUESDAY_9, tick=False):
        first = new_case(org, category=org.permit)
        case_route(case_id=first.pk)
        OpeningHours.objects.filter(calendar=org.building.calendar).update(opens=datetime.time(9))
        second = new_case(org, category=org.permit)
        case_route(case_id=second.pk)
    first.refresh_from_db()
    second.refresh_from_db()
    # 8 business hours from Tuesday 09:00: Wednesday 09:00 with 08-16 days, 10:00 with 09-16.
    assert first.accept_due_at == datetime.datetime(2026, 3, 4, 9, 0, tzinfo=TZ)
    assert second.accept_due_at == datetime.datetime(2026, 3, 4, 10, 0, tzinfo=TZ)


# --- Public notes (Open311 status_notes read them) ------------------------------------------------


def test_a_note_is_internal_unless_marked_public_and_only_staff_write_public_notes(
    org: Org,
) -> None:
    from cases.services.cases import case_add_note
    from common.exceptions import PermissionDeniedError

    case = new_case(org, category=org.bins)
    case_add_note(actor=staff(org.agent), case_id=case.pk, text="Intern")
    case_add_note(actor=staff(org.agent), case_id=case.pk, text="Vi tömmer på fredag", public=True)
    with pytest.raises(PermissionDeniedError):
        case_add_note(actor=Actor.resident(Channel.EMAIL), case_id=case.pk, text="Hej", public=True)

    notes = CaseEvent.objects.filter(case=case, kind="note").order_by("pk")
    assert [(n.reason, n.data) for n in notes] == [
        ("Intern", {}),
        ("Vi tömmer på fredag", {"public": True}),
    ]


def test_routings_agreement_index_answers_like_agreement_for(org: Org) -> None:
    """Routing reads agreements from a per-process index; it must pick the same agreement as
    the query an agent's forward runs: the most specific unit's, valid on the day."""
    from cases.services.deadlines import _AgreementIndex, agreement_for
    from tests.factories import AgreementFactory

    north_bins = AgreementFactory(
        department=org.waste_north, categories=[org.bins], valid_from=datetime.date(2026, 6, 1)
    )
    old = AgreementFactory(
        department=org.waste,
        categories=[org.bins],
        valid_from=datetime.date(2019, 1, 1),
        valid_to=datetime.date(2019, 12, 31),
    )
    index = _AgreementIndex()
    days = [datetime.date(2019, 6, 1), datetime.date(2026, 3, 1), datetime.date(2026, 7, 1)]
    for category in (org.bins, org.permit):
        for department in (org.waste, org.waste_north, org.building, org.cc):
            for day in days:
                expected = agreement_for(category=category, department=department, on=day)
                assert index.find(category.pk, department, day) == expected, (
                    category.code,
                    department.code,
                    day,
                )
    assert index.find(org.bins.pk, org.waste_north, days[2]) == north_bins
    assert index.find(org.bins.pk, org.waste, days[0]) == old
