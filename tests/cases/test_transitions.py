"""The case state machine, one service per transition. Given / when / then."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core import mail
from django.db import transaction

from cases.choices import Channel, Direction
from cases.models import Case, CaseEvent, CaseState, Contact, EventKind
from cases.services.actors import Actor
from cases.services.cases import ContactInput, case_add_contact
from cases.services.transitions import (
    case_accept,
    case_close,
    case_forward,
    case_mark_spam,
    case_merge,
    case_open,
    case_reopen,
    case_resolve,
    case_resolve_at_first_contact,
    case_resume,
    case_return_to_contact_center,
    case_wait_for_resident,
    case_withdraw,
)
from common.exceptions import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError
from tests.municipality import TUESDAY_9, Org

pytestmark = pytest.mark.django_db


def staff(user) -> Actor:  # type: ignore[no-untyped-def]
    return Actor.staff(user)


def events(case: Case) -> list[tuple[str, str, str, str]]:
    return list(
        CaseEvent.objects.filter(case=case, kind=EventKind.TRANSITION)
        .order_by("id")
        .values_list("transition", "from_state", "to_state", "actor__username")
    )


def frozen(case: Case) -> dict:
    """Everything about a case that a refused action must leave unchanged."""
    case.refresh_from_db()
    return {
        "row": {f.attname: getattr(case, f.attname) for f in Case._meta.concrete_fields},
        "events": CaseEvent.objects.filter(case=case).count(),
        "contacts": sorted(Contact.objects.filter(case=case).values_list("id", flat=True)),
    }


def test_a_new_case_starts_new_at_the_contact_center_with_its_first_contact(org: Org) -> None:
    case = org.new_case()
    assert case.state == CaseState.NEW
    assert case.department == org.cc
    assert case.reference == f"KC-{case.created_at.astimezone().year}-{case.pk:06d}"
    assert case.complexity_level == 2
    assert list(case.contacts.values_list("channel", "direction")) == [
        (Channel.PHONE, Direction.INBOUND)
    ]
    assert list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True)) == [
        "created",
        "contact_added",
    ]


def test_it_opens_a_new_case(org: Org) -> None:
    case = org.new_case()
    case = case_open(actor=staff(org.agent), case_id=case.pk)
    assert case.state == CaseState.OPEN
    assert events(case) == [("open", "new", "open", "agent")]


def test_it_resolves_at_first_contact_and_marks_the_contact(org: Org) -> None:
    case = org.new_case()
    case = case_resolve_at_first_contact(
        actor=staff(org.agent), case_id=case.pk, reason="Gav besked om tömningsdag"
    )
    assert case.state == CaseState.RESOLVED_FIRST_CONTACT
    assert case.resolved_at_first_contact is True
    assert list(case.contacts.values_list("resolved_at_first_contact", flat=True)) == [True]
    assert events(case) == [("resolve_at_first_contact", "new", "resolved_first_contact", "agent")]
    assert CaseEvent.objects.get(case=case, kind="transition").reason == "Gav besked om tömningsdag"


def test_first_contact_resolution_is_refused_for_a_level_the_agreement_keeps(org: Org) -> None:
    case = org.new_case(category=org.permit)  # level 4, agreement allows 1–3
    before = frozen(case)
    with pytest.raises(ApplicationError) as exc:
        case_resolve_at_first_contact(actor=staff(org.agent), case_id=case.pk)
    assert exc.value.code == "level_not_allowed"
    assert frozen(case) == before


def test_first_contact_resolution_is_refused_after_a_second_inbound_contact(org: Org) -> None:
    case = org.new_case()
    case_add_contact(
        actor=staff(org.agent), case_id=case.pk, contact=ContactInput(channel=Channel.EMAIL)
    )
    before = frozen(case)
    with pytest.raises(ApplicationError) as exc:
        case_resolve_at_first_contact(actor=staff(org.agent), case_id=case.pk)
    assert exc.value.code == "not_first_contact"
    assert frozen(case) == before


@time_machine.travel(TUESDAY_9, tick=False)
def test_forward_hands_the_case_to_the_category_department_with_business_hour_deadlines(
    org: Org,
) -> None:
    case = org.new_case()
    case = case_forward(actor=staff(org.agent), case_id=case.pk, reason="Behöver beslut")
    assert case.state == CaseState.FORWARDED
    assert case.department == org.waste
    # 8 business hours from Tue 09:00 with 08–16 days: Tue 09–16 is 7 h, then Wed 08–09.
    assert case.accept_due_at == datetime.datetime(2026, 3, 4, 9, 0, tzinfo=TUESDAY_9.tzinfo)
    # 40 business hours: Tue 7 h, Wed–Fri 24 h (31), Mon 8 h (39), Tue 08–09 (40).
    assert case.resolve_due_at == datetime.datetime(2026, 3, 10, 9, 0, tzinfo=TUESDAY_9.tzinfo)
    event = CaseEvent.objects.get(case=case, kind="transition")
    assert event.data["before"]["department_id"] == org.cc.pk
    assert event.data["after"]["department_id"] == org.waste.pk
    assert event.data["agreement_id"] is not None


def test_forward_tells_the_department_mailbox_only_after_commit(
    org: Org, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    case = org.new_case()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        case_forward(actor=staff(org.agent), case_id=case.pk)
        assert mail.outbox == []  # nothing before commit
    assert len(callbacks) == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["avfall@example.org"]
    assert case.reference in mail.outbox[0].subject
    assert "Soptunnan" not in mail.outbox[0].body  # no case content by plain e-mail


def test_a_refused_forward_sends_nothing(org: Org, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    case = org.new_case()
    before = frozen(case)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ApplicationError),
    ):
        case_forward(actor=staff(org.agent), case_id=case.pk, department=org.cc)
    assert callbacks == []
    assert mail.outbox == []
    assert frozen(case) == before


def test_forward_needs_a_department_when_the_case_has_no_category(org: Org) -> None:
    case = org.new_case()
    Case.objects.filter(pk=case.pk).update(category=None)
    with pytest.raises(ApplicationError) as exc:
        case_forward(actor=staff(org.agent), case_id=case.pk)
    assert "department" in exc.value.fields


def test_the_department_accepts_and_becomes_assignee(org: Org) -> None:
    case = org.new_case()
    case_forward(actor=staff(org.agent), case_id=case.pk)
    case = case_accept(actor=staff(org.waste_handler), case_id=case.pk)
    assert case.state == CaseState.ACCEPTED
    assert case.assignee == org.waste_handler
    assert case.accepted_at is not None


def test_a_sub_unit_handler_cannot_accept_for_the_parent_department(org: Org) -> None:
    case = org.new_case()
    case_forward(actor=staff(org.agent), case_id=case.pk)
    before = frozen(case)
    # waste-north sits below waste: it cannot see waste's own cases at all.
    with pytest.raises(NotFoundError):
        case_accept(actor=staff(org.north_handler), case_id=case.pk)
    assert frozen(case) == before


def test_another_department_cannot_accept_and_learns_nothing(org: Org) -> None:
    case = org.new_case()
    case_forward(actor=staff(org.agent), case_id=case.pk)
    before = frozen(case)
    with pytest.raises(NotFoundError):
        case_accept(actor=staff(org.building_handler), case_id=case.pk)
    assert frozen(case) == before


def test_an_agent_cannot_accept_on_behalf_of_the_department(org: Org) -> None:
    case = org.new_case()
    case_forward(actor=staff(org.agent), case_id=case.pk)
    before = frozen(case)
    with pytest.raises(PermissionDeniedError):
        case_accept(actor=staff(org.agent), case_id=case.pk)
    assert frozen(case) == before


def test_a_misrouted_case_returns_to_the_contact_center_never_to_nobody(org: Org) -> None:
    case = org.new_case()
    case_forward(actor=staff(org.agent), case_id=case.pk)
    case_accept(actor=staff(org.waste_handler), case_id=case.pk)
    case = case_return_to_contact_center(
        actor=staff(org.waste_handler), case_id=case.pk, reason="Gäller bygglov"
    )
    assert case.state == CaseState.OPEN
    assert case.department == org.cc
    assert case.assignee is None
    assert case.accept_due_at is None and case.resolve_due_at is None
    assert events(case)[-1] == ("return_to_contact_center", "accepted", "open", "wastehandler")


def test_a_return_needs_a_reason(org: Org) -> None:
    case = org.new_case()
    case_forward(actor=staff(org.agent), case_id=case.pk)
    before = frozen(case)
    with pytest.raises(ApplicationError) as exc:
        case_return_to_contact_center(actor=staff(org.waste_handler), case_id=case.pk, reason="  ")
    assert exc.value.fields == {"reason": ["This field is required."]}
    assert frozen(case) == before


def test_waiting_for_the_resident_pauses_the_clock_and_an_answer_resumes_it(org: Org) -> None:
    with time_machine.travel(TUESDAY_9, tick=False):
        case = org.new_case()
        case_forward(actor=staff(org.agent), case_id=case.pk)
        case_accept(actor=staff(org.waste_handler), case_id=case.pk)
    with time_machine.travel(TUESDAY_9 + datetime.timedelta(hours=2), tick=False):  # Tue 11:00
        case = case_wait_for_resident(
            actor=staff(org.waste_handler), case_id=case.pk, reason="Vilken adress?"
        )
        assert case.state == CaseState.WAITING
        assert case.paused_at == TUESDAY_9 + datetime.timedelta(hours=2)
    # The resident answers by e-mail on Thursday 10:00: two business days later.
    thursday_10 = datetime.datetime(2026, 3, 5, 10, 0, tzinfo=TUESDAY_9.tzinfo)
    with time_machine.travel(thursday_10, tick=False):
        case_add_contact(
            actor=staff(org.waste_handler),
            case_id=case.pk,
            contact=ContactInput(channel=Channel.EMAIL),
        )
    case.refresh_from_db()
    assert case.state == CaseState.ACCEPTED
    assert case.paused_at is None
    # Resolve-by was Tue 10 Mar 09:00; at the pause (Tue 11:00) 38 business hours were left.
    # From Thu 10:00: Thu 6 h, Fri 8 (14), Mon 8 (22), Tue 8 (30), Wed 8 (38) -> Wed 11 Mar 16:00.
    assert case.resolve_due_at == datetime.datetime(2026, 3, 11, 16, 0, tzinfo=TUESDAY_9.tzinfo)
    resume = CaseEvent.objects.filter(case=case, transition="resume").get()
    assert (resume.from_state, resume.to_state) == ("waiting_resident", "accepted")
    assert resume.data["paused_seconds"] == int(
        (thursday_10 - (TUESDAY_9 + datetime.timedelta(hours=2))).total_seconds()
    )


def test_resume_at_the_contact_center_goes_back_to_open(org: Org) -> None:
    case = org.new_case()
    case_open(actor=staff(org.agent), case_id=case.pk)
    case_wait_for_resident(actor=staff(org.agent), case_id=case.pk)
    case = case_resume(actor=staff(org.agent), case_id=case.pk)
    assert case.state == CaseState.OPEN


def test_resolve_then_close_then_reopen(org: Org) -> None:
    case = org.new_case()
    case_forward(actor=staff(org.agent), case_id=case.pk)
    case_accept(actor=staff(org.waste_handler), case_id=case.pk)
    case = case_resolve(
        actor=staff(org.waste_handler), case_id=case.pk, reason="Extra tömning bokad"
    )
    assert case.state == CaseState.RESOLVED and case.resolved_at is not None
    case = case_close(actor=staff(org.agent), case_id=case.pk, reason="Återkoppling given")
    assert case.state == CaseState.CLOSED and case.closed_at is not None
    case = case_reopen(actor=staff(org.agent), case_id=case.pk, reason="Tunnan står kvar")
    assert case.state == CaseState.OPEN
    assert case.department == org.cc
    assert case.closed_at is None and case.resolved_at is None
    assert [e[0] for e in events(case)] == ["forward", "accept", "resolve", "close", "reopen"]


def test_the_department_cannot_close_the_contact_center_follows_up(org: Org) -> None:
    case = org.new_case()
    case_forward(actor=staff(org.agent), case_id=case.pk)
    case_accept(actor=staff(org.waste_handler), case_id=case.pk)
    case_resolve(actor=staff(org.waste_handler), case_id=case.pk)
    before = frozen(case)
    with pytest.raises(NotFoundError):
        # Resolved cases stay with the department: visible to it, but closing is the contact center's.
        case_close(actor=staff(org.building_handler), case_id=case.pk)
    with pytest.raises(PermissionDeniedError):
        case_close(actor=staff(org.waste_handler), case_id=case.pk)
    assert frozen(case) == before


def test_merge_moves_the_contacts_to_the_surviving_case(org: Org) -> None:
    original = org.new_case(subject="Gatlampa trasig")
    duplicate = org.new_case(subject="Gatlampa trasig igen", channel=Channel.EMAIL)
    moved = list(duplicate.contacts.values_list("id", flat=True))
    duplicate = case_merge(
        actor=staff(org.agent), case_id=duplicate.pk, into_case_id=original.pk, reason="Samma lampa"
    )
    assert duplicate.state == CaseState.MERGED
    assert duplicate.merged_into == original
    assert sorted(original.contacts.values_list("id", flat=True)) == sorted(
        Contact.objects.filter(case=original).values_list("id", flat=True)
    )
    assert set(moved) <= set(original.contacts.values_list("id", flat=True))
    assert duplicate.contacts.count() == 0
    merged_in = CaseEvent.objects.get(case=original, kind=EventKind.MERGED_IN)
    assert merged_in.data == {"from": duplicate.reference, "moved_contact_ids": moved}


def test_a_case_cannot_be_merged_into_itself_or_a_closed_case(org: Org) -> None:
    case = org.new_case()
    other = org.new_case()
    case_resolve_at_first_contact(actor=staff(org.agent), case_id=other.pk)
    before = frozen(case)
    with pytest.raises(ApplicationError):
        case_merge(actor=staff(org.agent), case_id=case.pk, into_case_id=case.pk)
    with pytest.raises(ConflictError) as exc:
        case_merge(actor=staff(org.agent), case_id=case.pk, into_case_id=other.pk)
    assert exc.value.code == "target_not_active"
    assert frozen(case) == before


def test_withdraw_by_the_resident_is_recorded_with_the_channel(org: Org) -> None:
    case = org.new_case()
    case = case_withdraw(
        actor=Actor.resident(Channel.SMS), case_id=case.pk, reason="Löst sig själv"
    )
    assert case.state == CaseState.WITHDRAWN
    event = CaseEvent.objects.get(case=case, kind="transition")
    assert (event.actor_type, event.actor_id, event.actor_channel) == ("resident", None, "sms")


def test_a_resident_cannot_forward(org: Org) -> None:
    case = org.new_case()
    before = frozen(case)
    with pytest.raises(PermissionDeniedError):
        case_forward(actor=Actor.resident(Channel.SMS), case_id=case.pk)
    assert frozen(case) == before


def test_spam_only_from_new_or_open(org: Org) -> None:
    case = org.new_case()
    case = case_mark_spam(actor=staff(org.agent), case_id=case.pk)
    assert case.state == CaseState.SPAM
    forwarded = org.new_case()
    case_forward(actor=staff(org.agent), case_id=forwarded.pk)
    before = frozen(forwarded)
    with pytest.raises(ConflictError) as exc:
        case_mark_spam(actor=staff(org.agent), case_id=forwarded.pk)
    assert exc.value.code == "transition_not_allowed"
    assert frozen(forwarded) == before


@pytest.mark.parametrize(
    ("state_path", "transition"),
    [
        ([], "accept"),
        ([], "resolve"),
        ([], "close"),
        (["open"], "reopen"),
        (["resolve_at_first_contact"], "forward"),
        (["resolve_at_first_contact"], "withdraw"),
    ],
)
def test_transitions_not_allowed_from_the_current_state_are_conflicts(
    org: Org, state_path: list[str], transition: str
) -> None:
    from cases.services.transitions import TRANSITIONS

    case = org.new_case()
    for step in state_path:
        TRANSITIONS[step](actor=staff(org.admin), case_id=case.pk)
    before = frozen(case)
    kwargs = {"reason": "x"} if transition in ("reopen",) else {}
    with pytest.raises(ConflictError) as exc:
        TRANSITIONS[transition](actor=staff(org.admin), case_id=case.pk, **kwargs)
    assert exc.value.code == "transition_not_allowed"
    assert frozen(case) == before


def test_a_stale_expected_state_is_a_conflict_and_changes_nothing(org: Org) -> None:
    case = org.new_case()
    case_open(actor=staff(org.agent), case_id=case.pk)
    before = frozen(case)
    # A second agent still sees "new" on their screen and forwards.
    with pytest.raises(ConflictError) as exc:
        case_forward(actor=staff(org.cc_supervisor), case_id=case.pk, expected_state="new")
    assert exc.value.code == "state_changed"
    assert frozen(case) == before


def test_the_loser_of_a_race_gets_a_conflict(org: Org) -> None:
    """Two agents read the same case; the first saves; the second's save must not overwrite it.

    The row lock serialises this on PostgreSQL (see the integration test); here we check the
    second line of defence: the state-conditional UPDATE of ConcurrentTransitionMixin.
    """
    from django_fsm import ConcurrentTransition

    case = org.new_case()
    stale = Case.objects.get(pk=case.pk)
    case_open(actor=staff(org.agent), case_id=case.pk)
    stale.mark_spam(now=stale.created_at)
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        stale.save()
    case.refresh_from_db()
    assert case.state == CaseState.OPEN
