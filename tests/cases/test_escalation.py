"""Escalation ladders: planned at forward in business time, fired once by the scan. Given / when / then.

The org fixture's calendar is Swedish, Mon–Fri 08:00–16:00, eves closed; its agreements give
8 business hours to accept and 40 to resolve.
"""

from __future__ import annotations

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from cases.models import (
    Case,
    CaseEscalation,
    CaseEvent,
    CaseState,
    EscalationStep,
    EventKind,
    Notification,
    ServiceAgreement,
)
from cases.services.actors import Actor
from cases.services.escalation import sla_scan
from cases.services.transitions import (
    case_accept,
    case_forward,
    case_resolve,
    case_resume,
    case_return_to_contact_center,
    case_wait_for_resident,
    case_withdraw,
)
from cases.tasks import sla_scan_task
from channels_app.models import OutboundMessage
from tests.factories import UserFactory
from tests.municipality import TUESDAY_9, Org

pytestmark = pytest.mark.django_db

STHLM = ZoneInfo("Europe/Stockholm")
UTC = datetime.UTC


def local(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=STHLM)  # type: ignore[misc]


def set_ladder(org: Org, *steps: tuple[str, int, str, bool], department: str = "waste") -> None:
    """Replace the ladder of the department's agreement: (deadline, percent, notify, outside)."""
    agreement = ServiceAgreement.objects.get(department=getattr(org, department))
    agreement.escalation_steps.all().delete()
    EscalationStep.objects.bulk_create(
        EscalationStep(
            agreement=agreement,
            position=position,
            deadline=deadline,
            at_percent=percent,
            notify=notify,
            outside_business_hours=outside,
        )
        for position, (deadline, percent, notify, outside) in enumerate(steps, start=1)
    )


FULL_LADDER = (
    ("resolve", 75, "assignee", False),
    ("resolve", 100, "department_supervisor", False),
    ("accept", 100, "department_supervisor", False),
    ("resolve", 150, "department_director", False),
    ("resolve", 200, "contact_center_supervisor", False),
)


def forwarded(org: Org, at: datetime.datetime, *, department=None, **kwargs) -> Case:  # type: ignore[no-untyped-def]
    with time_machine.travel(at, tick=False):
        case = org.new_case(**kwargs)
        return case_forward(actor=Actor.staff(org.agent), case_id=case.pk, department=department)


def plan(case: Case) -> dict[int, datetime.datetime]:
    """Position -> due, in Stockholm time."""
    return {
        position: due.astimezone(STHLM)
        for position, due in CaseEscalation.objects.filter(case=case).values_list(
            "step__position", "due_at"
        )
    }


def pending(case: Case) -> list[int]:
    return sorted(
        CaseEscalation.objects.filter(
            case=case, fired_at__isnull=True, cancelled_at__isnull=True
        ).values_list("step__position", flat=True)
    )


def escalated(case: Case) -> list[dict]:
    return list(
        CaseEvent.objects.filter(case=case, kind=EventKind.ESCALATED)
        .order_by("id")
        .values_list("data", flat=True)
    )


# --- Planning in business time -----------------------------------------------------------------


def test_forward_plans_every_rung_in_business_hours_across_the_weekends(org: Org) -> None:
    set_ladder(org, *FULL_LADDER)
    case = forwarded(org, TUESDAY_9)  # Tuesday 3 March 2026, 09:00
    assert plan(case) == {
        1: local(2026, 3, 6, 15, 0),  # 30 h: Tue 7 + Wed 8 + Thu 8 + Fri 7
        2: local(2026, 3, 10, 9, 0),  # 40 h: over the weekend to next Tuesday 09:00
        3: local(2026, 3, 4, 9, 0),  # accept, 8 h: Tue 7 + Wed 1
        4: local(2026, 3, 12, 13, 0),  # 60 h
        5: local(2026, 3, 17, 9, 0),  # 80 h: over a second weekend
    }
    case.refresh_from_db()
    # The 100 % rungs are the case's own deadlines, to the second.
    assert plan(case)[2] == case.resolve_due_at
    assert plan(case)[3] == case.accept_due_at


def test_midsummer_eve_is_closed(org: Org) -> None:
    set_ladder(org, ("accept", 100, "department_supervisor", False))
    case = forwarded(org, local(2026, 6, 18, 15, 0))  # Thursday before midsommarafton
    # Thu 15–16 is 1 h; Fri 19 June (eve), Sat (midsommardagen) and Sun are closed.
    assert plan(case) == {1: local(2026, 6, 22, 15, 0)}


@pytest.mark.parametrize(
    ("forward_at", "due_utc"),
    [
        # Clocks go forward on Sunday 29 March: Friday is UTC+1, Monday UTC+2.
        (local(2026, 3, 27, 14, 0), datetime.datetime(2026, 3, 30, 12, 0, tzinfo=UTC)),
        # Clocks go back on Sunday 25 October: Friday is UTC+2, Monday UTC+1.
        (local(2026, 10, 23, 14, 0), datetime.datetime(2026, 10, 26, 13, 0, tzinfo=UTC)),
    ],
)
def test_a_rung_across_a_dst_change_keeps_the_wall_clock(
    org: Org, forward_at: datetime.datetime, due_utc: datetime.datetime
) -> None:
    set_ladder(org, ("accept", 100, "department_supervisor", False))
    case = forwarded(org, forward_at)
    # Fri 14–16 is 2 h, Monday 08:00 + 6 h = 14:00 local, whatever the offset.
    due = CaseEscalation.objects.get(case=case).due_at
    assert due == due_utc
    assert due.astimezone(STHLM).hour == 14


def test_a_ladder_across_christmas_and_new_year(org: Org) -> None:
    set_ladder(
        org,
        ("resolve", 75, "assignee", False),
        ("resolve", 100, "department_supervisor", False),
        ("resolve", 150, "department_director", False),
    )
    case = forwarded(org, local(2026, 12, 22, 9, 0))  # Tuesday
    # Closed: 24 (julafton), 25, 26, 27 December, 31 (nyårsafton), 1 January, 6 January.
    assert plan(case) == {
        1: local(2026, 12, 29, 15, 0),  # 30 h: Tue 7, Wed 8, Mon 28 8, Tue 29 7
        2: local(2027, 1, 4, 9, 0),  # 40 h: + Tue 1, Wed 30 8, then Monday 4 January
        3: local(2027, 1, 7, 13, 0),  # 60 h: Mon 4, Tue 5, not Wed 6 (Epiphany), Thu 7 5 h
    }


def test_a_rolled_back_forward_plans_nothing(org: Org) -> None:
    case = org.new_case()
    with pytest.raises(RuntimeError), transaction.atomic():
        case_forward(actor=Actor.staff(org.agent), case_id=case.pk)
        assert CaseEscalation.objects.filter(case=case).count() == 2
        raise RuntimeError("rolled back")
    assert not CaseEscalation.objects.filter(case=case).exists()


def test_a_forward_without_agreement_plans_nothing(org: Org) -> None:
    ServiceAgreement.objects.filter(department=org.waste).update(valid_to="2020-12-31")
    case = forwarded(org, TUESDAY_9)
    assert not CaseEscalation.objects.filter(case=case).exists()


# --- Moving and cancelling with the transitions -------------------------------------------------


def test_accept_cancels_the_accept_rungs_only(org: Org) -> None:
    set_ladder(org, *FULL_LADDER)
    case = forwarded(org, TUESDAY_9)
    with time_machine.travel(TUESDAY_9 + datetime.timedelta(hours=1), tick=False):
        case_accept(actor=Actor.staff(org.waste_handler), case_id=case.pk)
    assert pending(case) == [1, 2, 4, 5]
    cancelled = CaseEscalation.objects.get(case=case, step__position=3).cancelled_at
    assert cancelled == TUESDAY_9 + datetime.timedelta(hours=1)


def test_waiting_for_the_resident_moves_the_rungs_by_the_business_time_stood_still(
    org: Org,
) -> None:
    case = forwarded(org, TUESDAY_9)  # 75 % Fri 6 March 15:00, 100 % Tue 10 March 09:00
    with time_machine.travel(TUESDAY_9 + datetime.timedelta(hours=1), tick=False):
        case_accept(actor=Actor.staff(org.waste_handler), case_id=case.pk)
    with time_machine.travel(local(2026, 3, 3, 11, 0), tick=False):
        case_wait_for_resident(actor=Actor.staff(org.waste_handler), case_id=case.pk)
    with time_machine.travel(local(2026, 3, 5, 10, 0), tick=False):  # Thursday 10:00
        case = case_resume(actor=Actor.resident("email"), case_id=case.pk)
    # 28 h were left of the 75 % rung and 38 h of the 100 % rung at Tuesday 11:00.
    assert plan(case) == {1: local(2026, 3, 10, 14, 0), 2: local(2026, 3, 11, 16, 0)}
    assert plan(case)[2] == case.resolve_due_at


def test_a_scan_leaves_a_paused_case_for_later(org: Org) -> None:
    case = forwarded(org, TUESDAY_9)
    with time_machine.travel(TUESDAY_9 + datetime.timedelta(hours=1), tick=False):
        case_accept(actor=Actor.staff(org.waste_handler), case_id=case.pk)
    # Fake a pause that began after the 75 % rung fell due (the scan had not run yet).
    with time_machine.travel(local(2026, 3, 6, 15, 30), tick=False):
        case_wait_for_resident(actor=Actor.staff(org.waste_handler), case_id=case.pk)
    result = sla_scan(at=local(2026, 3, 6, 15, 45))
    assert (result.fired, result.paused) == ([], 1)
    assert pending(case) == [1, 2]
    # A rung already due at the pause stays due; after the answer it fires.
    with time_machine.travel(local(2026, 3, 9, 9, 0), tick=False):
        case_resume(actor=Actor.resident("email"), case_id=case.pk)
    assert plan(case)[1] == local(2026, 3, 6, 15, 0)
    result = sla_scan(at=local(2026, 3, 9, 9, 1))
    assert [item.position for item in result.fired] == [1]


@pytest.mark.parametrize("transition", ["return_to_contact_center", "resolve", "withdraw"])
def test_leaving_the_department_or_finishing_cancels_what_is_left(
    org: Org, transition: str
) -> None:
    case = forwarded(org, TUESDAY_9)
    handler = Actor.staff(org.waste_handler)
    with time_machine.travel(TUESDAY_9 + datetime.timedelta(hours=1), tick=False):
        case_accept(actor=handler, case_id=case.pk)
        if transition == "resolve":
            case_resolve(actor=handler, case_id=case.pk)
        elif transition == "withdraw":
            case_withdraw(actor=Actor.resident("email"), case_id=case.pk)
        else:
            case_return_to_contact_center(actor=handler, case_id=case.pk, reason="Fel enhet")
    assert pending(case) == []
    assert sla_scan(at=local(2026, 4, 1, 10, 0)).fired == []
    assert escalated(case) == []


def test_a_new_forward_replans_what_has_not_fired_and_never_repeats_what_has(
    org: Org,
) -> None:
    case = forwarded(org, TUESDAY_9)
    sla_scan(at=local(2026, 3, 6, 15, 0))  # the 75 % rung fires
    with time_machine.travel(local(2026, 3, 6, 15, 10), tick=False):
        case_return_to_contact_center(
            actor=Actor.staff(org.waste_handler), case_id=case.pk, reason="Fel enhet"
        )
    with time_machine.travel(local(2026, 3, 9, 8, 0), tick=False):  # Monday
        case = case_forward(actor=Actor.staff(org.agent), case_id=case.pk)
    assert pending(case) == [2]
    assert plan(case)[2] == local(2026, 3, 13, 16, 0) == case.resolve_due_at
    sla_scan(at=local(2026, 3, 20, 10, 0))
    assert [e["step"] for e in escalated(case)] == [1, 2]


# --- The scan ----------------------------------------------------------------------------------


def test_a_rung_fires_exactly_once_however_often_the_scan_runs(org: Org) -> None:
    case = forwarded(org, TUESDAY_9)
    assert sla_scan(at=local(2026, 3, 6, 14, 59)).fired == []
    first = sla_scan(at=local(2026, 3, 6, 15, 0))
    again = sla_scan(at=local(2026, 3, 6, 15, 0))
    later = sla_scan(at=local(2026, 3, 6, 15, 30))
    assert [(i.reference, i.position) for i in first.fired] == [(case.reference, 1)]
    assert again.fired == later.fired == []
    # Nobody accepted it yet, so "the assignee" is the department's supervisor.
    assert escalated(case) == [
        {
            "deadline": "resolve",
            "at_percent": 75,
            "notify": "assignee",
            "step": 1,
            "step_id": EscalationStep.objects.get(agreement__department=org.waste, position=1).pk,
            "due_at": "2026-03-06T14:00:00+00:00",
            "recipients": [org.waste_supervisor.pk],
        }
    ]
    row = CaseEscalation.objects.get(case=case, step__position=1)
    assert row.fired_at == local(2026, 3, 6, 15, 0)
    assert row.notified == [org.waste_supervisor.pk]
    event = CaseEvent.objects.get(case=case, kind=EventKind.ESCALATED)
    assert (event.actor_type, event.actor_id) == ("system", None)


def test_the_scan_runs_on_in_chunks_and_stops_at_its_limit(org: Org) -> None:
    cases = [forwarded(org, TUESDAY_9) for _ in range(5)]
    result = sla_scan(at=local(2026, 3, 6, 15, 0), limit=3, chunk_size=2)
    assert (len(result.fired), result.more) == (3, True)
    result = sla_scan(at=local(2026, 3, 6, 15, 0), chunk_size=2)
    assert (len(result.fired), result.more) == (2, False)
    assert sum(len(escalated(c)) for c in cases) == 5


def test_the_scan_costs_the_same_queries_for_two_cases_as_for_eight(org: Org) -> None:
    def queries_to_fire(n: int, at: datetime.datetime) -> int:
        for _ in range(n):
            case = forwarded(org, TUESDAY_9)
            with time_machine.travel(TUESDAY_9 + datetime.timedelta(hours=1), tick=False):
                case_accept(actor=Actor.staff(org.waste_handler), case_id=case.pk)
        with CaptureQueriesContext(connection) as queries:
            assert len(sla_scan(at=at).fired) == n
        return len(queries)

    # The second scan fires only the 75 % rungs of the eight new cases: no per-case query.
    assert queries_to_fire(2, local(2026, 3, 6, 15, 0)) == queries_to_fire(
        8, local(2026, 3, 6, 15, 0)
    )


def test_a_rung_is_not_mailed_at_night_unless_configured(org: Org) -> None:
    set_ladder(
        org,
        ("accept", 50, "assignee", False),
        ("accept", 50, "contact_center_supervisor", True),
    )
    case = forwarded(org, local(2026, 3, 3, 12, 0))  # 4 h: due Tuesday 16:00, at closing
    night = sla_scan(at=local(2026, 3, 3, 20, 0))
    assert [i.position for i in night.fired] == [2]
    assert [(i.position, i.until) for i in night.deferred] == [
        (1, datetime.datetime(2026, 3, 4, 7, 0, tzinfo=UTC))  # Wednesday 08:00 local
    ]
    assert pending(case) == [1]
    morning = sla_scan(at=local(2026, 3, 4, 8, 0))
    assert [i.position for i in morning.fired] == [1]
    assert CaseEscalation.objects.get(case=case, step__position=1).fired_at == local(
        2026, 3, 4, 8, 0
    )


def test_a_rung_due_before_christmas_waits_for_the_office_to_open(org: Org) -> None:
    set_ladder(org, ("accept", 100, "department_supervisor", False))
    case = forwarded(org, local(2026, 12, 23, 8, 0))  # due Wednesday 23 December 16:00
    on_christmas_eve = sla_scan(at=local(2026, 12, 24, 10, 0))
    assert on_christmas_eve.fired == []
    assert [i.until for i in on_christmas_eve.deferred] == [local(2026, 12, 28, 8, 0)]
    assert sla_scan(at=local(2026, 12, 28, 8, 0)).fired[0].case_id == case.pk


def test_the_scan_cancels_a_rung_whose_deadline_no_longer_runs(org: Org) -> None:
    set_ladder(org, ("accept", 100, "department_supervisor", False))
    case = forwarded(org, TUESDAY_9)
    # A state reached without the hook (an older release, a data fix): accepted.
    Case.objects.filter(pk=case.pk).update(state=CaseState.ACCEPTED)
    result = sla_scan(at=local(2026, 3, 4, 10, 0))
    assert (result.fired, result.cancelled) == ([], 1)
    assert CaseEscalation.objects.get(case=case).cancelled_at == local(2026, 3, 4, 10, 0)


# --- Recipients, notifications and e-mails ------------------------------------------------------


@pytest.fixture
def heads(org: Org) -> dict[str, object]:
    director = UserFactory(
        username="director", role=Role.HANDLER, department=org.waste, email="dir@example.org"
    )
    north_head = UserFactory(
        username="northhead", role=Role.HANDLER, department=org.waste_north, email="nh@example.org"
    )
    org.waste.head = director
    org.waste.save()
    org.waste_north.head = north_head
    org.waste_north.save()
    for user, address in [
        (org.north_handler, "handler@example.org"),
        (org.waste_supervisor, "sup@example.org"),
        (org.cc_supervisor, "ccsup@example.org"),
    ]:
        user.email = address
        user.save()
    return {"director": director, "north_head": north_head}


ROLES_LADDER = (
    ("resolve", 10, "assignee", True),
    ("resolve", 10, "department_supervisor", True),
    ("resolve", 10, "department_director", True),
    ("resolve", 10, "contact_center_supervisor", True),
)


def test_each_role_reaches_its_people(org: Org, heads: dict) -> None:
    set_ladder(org, *ROLES_LADDER)
    case = forwarded(org, TUESDAY_9, department=org.waste_north)
    with time_machine.travel(TUESDAY_9 + datetime.timedelta(minutes=5), tick=False):
        case_accept(actor=Actor.staff(org.north_handler), case_id=case.pk)
    result = sla_scan(at=local(2026, 3, 3, 13, 0))  # 10 % of 40 h = 4 h
    assert {i.notify: i.recipients for i in result.fired} == {
        "assignee": (org.north_handler.pk,),
        "department_supervisor": (heads["north_head"].pk,),  # the sub-unit's head
        "department_director": (heads["director"].pk,),  # head of the top unit
        "contact_center_supervisor": (org.cc_supervisor.pk,),
    }


def test_without_assignee_or_head_the_supervisors_are_told(org: Org, heads: dict) -> None:
    set_ladder(org, *ROLES_LADDER)
    org.waste.head = None
    org.waste.save()
    case = forwarded(org, TUESDAY_9)  # to Waste, not accepted: nobody is assigned
    result = sla_scan(at=local(2026, 3, 3, 13, 0))
    assert {i.notify: i.recipients for i in result.fired} == {
        "assignee": (org.waste_supervisor.pk,),
        "department_supervisor": (org.waste_supervisor.pk,),
        "department_director": (org.waste_supervisor.pk,),
        "contact_center_supervisor": (org.cc_supervisor.pk,),
    }
    assert CaseEscalation.objects.filter(case=case, notified=[org.waste_supervisor.pk]).count() == 3


def test_it_notifies_in_the_workspace_and_mails_without_case_content(
    org: Org, heads: dict, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    set_ladder(org, ("resolve", 100, "department_supervisor", False))
    case = forwarded(
        org, TUESDAY_9, department=org.waste_north, subject="Granne dumpar sopor hos mig"
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = sla_scan(at=local(2026, 3, 10, 9, 0))
    assert (result.notifications, result.emails) == (1, 1)
    note = Notification.objects.get(case=case)
    assert note.recipient == heads["north_head"]
    assert note.kind == "escalation"
    assert case.reference in note.message
    [sent] = mail.outbox
    assert sent.to == ["nh@example.org"]
    assert sent.subject == f"Escalation: case {case.reference} ({org.bins.name_en})"
    assert f"Case {case.reference} was not resolved by its deadline, 2026-03-10 09:00 CET." in (
        sent.body
    )
    assert "Waste North" in sent.body
    assert "Granne" not in sent.body + sent.subject
    assert sent.extra_headers["Auto-Submitted"] == "auto-generated"
    assert OutboundMessage.objects.get(case=case).kind == "escalation"


def test_the_mail_does_not_name_a_sensitive_category(
    org: Org, heads: dict, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    org.bins.sensitive = True
    org.bins.save()
    set_ladder(org, ("resolve", 75, "contact_center_supervisor", False))
    forwarded(org, TUESDAY_9)
    with django_capture_on_commit_callbacks(execute=True):
        sla_scan(at=local(2026, 3, 6, 15, 0))
    [sent] = mail.outbox
    assert org.bins.name_en not in sent.subject + sent.body
    assert "sensitive category" in sent.subject


def test_a_user_without_address_is_only_notified_in_the_workspace(org: Org) -> None:
    forwarded(org, TUESDAY_9)
    result = sla_scan(at=local(2026, 3, 6, 15, 0))
    assert (result.notifications, result.emails) == (1, 0)
    assert not OutboundMessage.objects.exists()


# --- Interfaces --------------------------------------------------------------------------------


def test_the_command_prints_what_it_fired_and_deferred(org: Org) -> None:
    set_ladder(
        org,
        ("accept", 50, "assignee", False),
        ("accept", 50, "contact_center_supervisor", True),
    )
    case = forwarded(org, local(2026, 3, 3, 12, 0))
    out = io.StringIO()
    call_command("sla_scan", "--at", "2026-03-03T20:00", stdout=out)  # naive: Stockholm
    assert out.getvalue().splitlines() == [
        f"fired     {case.reference} step 2 (accept 50 %, contact_center_supervisor) due "
        f"2026-03-03 16:00 CET: 1 recipient(s) [{org.cc_supervisor.pk}]",
        f"deferred  {case.reference} step 1 (accept 50 %, assignee) due 2026-03-03 16:00 CET: "
        "outside business hours, until 2026-03-04 08:00 CET",
        "sla_scan at 2026-03-03 20:00 CET: 1 fired, 1 deferred, 0 cancelled, 0 paused; "
        "1 notifications, 0 e-mails.",
    ]


def test_the_command_takes_an_offset_and_refuses_nonsense(org: Org) -> None:
    out = io.StringIO()
    call_command("sla_scan", "--at", "2026-03-03T19:00:00Z", stdout=out)
    assert out.getvalue().startswith("sla_scan at 2026-03-03 20:00 CET: 0 fired")
    with pytest.raises(CommandError, match="ISO-8601"):
        call_command("sla_scan", "--at", "next tuesday", stdout=io.StringIO())


def test_the_beat_task_scans_now(org: Org) -> None:
    forwarded(org, TUESDAY_9)
    with time_machine.travel(local(2026, 3, 10, 10, 0), tick=False):
        assert sla_scan_task() == 2
        assert sla_scan_task() == 0
