"""The work queues: who sees which queue, what each holds, counts, filters, taking a case, and a
query count that does not grow with the page."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.test import Client

from cases.choices import Channel
from cases.models import Case, CaseEvent, CaseState
from cases.selectors import Queue, queue_cases, queue_counts, queues_for
from cases.services.actors import Actor
from cases.services.cases import ContactInput, case_create, case_take
from cases.services.routing import case_route
from cases.services.transitions import case_forward, case_wait_for_resident
from common.exceptions import NotFoundError
from tests.municipality import TUESDAY_9, Org

pytestmark = pytest.mark.django_db


def staff(user) -> Actor:  # type: ignore[no-untyped-def]
    return Actor.staff(user)


def login(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def refs(qs) -> list[str]:  # type: ignore[no-untyped-def]
    return [c.reference for c in qs]


@pytest.fixture
def world(org: Org) -> dict[str, Case]:
    """At Tuesday 09:00: a new case, one in the CC queue, one in triage, one forwarded to
    waste, one waiting for the resident, one assigned to the agent."""
    with time_machine.travel(TUESDAY_9, tick=False):
        new = org.new_case(subject="Ny")
        cc = org.new_case(subject="I kön")
        case_route(case_id=cc.pk)
        triage = case_create(
            actor=staff(org.agent), subject="Okänt", contact=ContactInput(channel=Channel.EMAIL)
        )
        case_route(case_id=triage.pk)
        forwarded = org.new_case(subject="Till avfall")
        case_forward(actor=staff(org.agent), case_id=forwarded.pk)
        waiting = org.new_case(subject="Väntar")
        case_route(case_id=waiting.pk)
        case_wait_for_resident(actor=staff(org.agent), case_id=waiting.pk)
        mine = org.new_case(subject="Min")
        case_take(actor=staff(org.agent), case_id=mine.pk)
    return {
        "new": new,
        "cc": cc,
        "triage": triage,
        "forwarded": forwarded,
        "waiting": waiting,
        "mine": mine,
    }


def test_queues_depend_on_the_role(org: Org) -> None:
    assert queues_for(org.agent) == ["mine", "contact_center", "triage", "waiting", "deadline"]
    assert queues_for(org.waste_handler) == ["department", "mine", "waiting", "deadline"]
    assert queues_for(org.comms) == []


def test_each_queue_holds_its_cases_in_working_order(org: Org, world: dict[str, Case]) -> None:
    now = TUESDAY_9 + datetime.timedelta(minutes=5)
    by = {
        name: refs(queue_cases(user=org.agent, name=name, now=now))
        for name in queues_for(org.agent)
    }

    w = {k: v.reference for k, v in world.items()}
    assert by["mine"] == [w["mine"]]
    # new and open cases at the contact center, not in triage, oldest first
    assert by["contact_center"] == [w["new"], w["cc"], w["mine"]]
    assert by["triage"] == [w["triage"]]
    assert by["waiting"] == [w["waiting"]]
    assert by["deadline"] == []  # the waste deadline (Wed 09:00) is more than 4 h away

    desk = refs(queue_cases(user=org.waste_handler, name="department", now=now))
    assert desk == [w["forwarded"]]
    assert refs(queue_cases(user=org.building_handler, name="department", now=now)) == []


def test_counts_match_the_queues_in_one_query(
    org: Org, world: dict[str, Case], django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    now = TUESDAY_9 + datetime.timedelta(minutes=5)
    with django_assert_num_queries(1):
        counts = queue_counts(user=org.agent, now=now)
    assert counts == {"mine": 1, "contact_center": 3, "triage": 1, "waiting": 1, "deadline": 0}
    assert queue_counts(user=org.waste_handler, now=now) == {
        "department": 1,
        "mine": 0,
        "waiting": 0,
        "deadline": 0,
    }


def test_the_deadline_queue_fills_as_deadlines_come_close(org: Org, world: dict[str, Case]) -> None:
    # The accept deadline of the forwarded case is Wednesday 09:00 (8 business hours).
    at = datetime.datetime(2026, 3, 4, 5, 30, tzinfo=TUESDAY_9.tzinfo)
    assert refs(queue_cases(user=org.waste_handler, name=Queue.DEADLINE, now=at)) == [
        world["forwarded"].reference
    ]
    assert refs(queue_cases(user=org.agent, name=Queue.DEADLINE, now=at)) == [
        world["forwarded"].reference
    ]


def test_filters_narrow_the_queue(org: Org, world: dict[str, Case]) -> None:
    now = TUESDAY_9
    email = refs(
        queue_cases(user=org.agent, name="contact_center", now=now, filters={"channel": "email"})
    )
    assert email == []
    phone = refs(
        queue_cases(user=org.agent, name="contact_center", now=now, filters={"channel": "phone"})
    )
    assert len(phone) == 3


def test_a_queue_the_user_does_not_work_is_not_found(org: Org) -> None:
    with pytest.raises(NotFoundError):
        queue_cases(user=org.waste_handler, name="triage", now=TUESDAY_9)


# --- Taking a case ------------------------------------------------------------------------------


def test_taking_a_new_case_opens_it_and_assigns_it(org: Org) -> None:
    case = org.new_case()

    case_take(actor=staff(org.agent), case_id=case.pk)

    case.refresh_from_db()
    assert (case.state, case.assignee) == (CaseState.OPEN, org.agent)
    kinds = list(
        CaseEvent.objects.filter(case=case).order_by("pk").values_list("kind", "transition")
    )
    assert kinds[-2:] == [("transition", "open"), ("assigned", "")]


def test_a_handler_taking_a_forwarded_case_accepts_it(org: Org) -> None:
    case = org.new_case()
    case_forward(actor=staff(org.agent), case_id=case.pk)

    case_take(actor=staff(org.waste_handler), case_id=case.pk)

    case.refresh_from_db()
    assert (case.state, case.assignee) == (CaseState.ACCEPTED, org.waste_handler)


def test_another_department_cannot_take_a_case_and_nothing_changes(org: Org) -> None:
    case = org.new_case()
    case_forward(actor=staff(org.agent), case_id=case.pk)
    events = CaseEvent.objects.filter(case=case).count()

    response = login(org.building_handler).post(f"/cases/{case.reference}/take/")

    assert response.status_code == 404
    case.refresh_from_db()
    assert (case.state, case.assignee_id) == (CaseState.FORWARDED, None)
    assert CaseEvent.objects.filter(case=case).count() == events


# --- The page --------------------------------------------------------------------------------------


def test_the_page_shows_tabs_with_counts_and_the_rows(org: Org, world: dict[str, Case]) -> None:
    response = login(org.agent).get("/cases/queue/?queue=contact_center")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-queue-count="contact_center">3<' in html
    assert 'data-queue-count="triage">1<' in html
    for key in ("new", "cc", "mine"):
        assert f'data-ref="{world[key].reference}"' in html
    assert f'data-ref="{world["triage"].reference}"' not in html
    assert "Keyboard shortcuts" in html


def test_the_fragment_is_only_the_list_for_the_refresh(org: Org, world: dict[str, Case]) -> None:
    response = login(org.agent).get("/cases/queue/?queue=triage&fragment=1")

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="queue-list"')
    assert "<html" not in html
    assert f'data-ref="{world["triage"].reference}"' in html


def test_take_from_the_page_returns_to_the_queue(org: Org, world: dict[str, Case]) -> None:
    case = world["cc"]
    response = login(org.agent).post(
        f"/cases/{case.reference}/take/", {"next": "/cases/queue/?queue=contact_center"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/cases/queue/?queue=contact_center"
    case.refresh_from_db()
    assert case.assignee == org.agent


def test_a_user_without_queues_gets_404_and_an_unknown_queue_404(org: Org) -> None:
    assert login(org.comms).get("/cases/queue/").status_code == 404
    assert login(org.agent).get("/cases/queue/?queue=nope").status_code == 404


def test_the_queue_page_query_count_does_not_grow_with_the_rows(
    org: Org, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    for i in range(30):
        case = org.new_case(subject=f"Ärende {i}")
        case_route(case_id=case.pk)
    client = login(org.agent)
    client.get("/cases/queue/?queue=contact_center")  # warm: session, caches
    # session + user, counts, the page of rows, the paginator's count, categories,
    # departments, the unread-notifications badge
    with django_assert_max_num_queries(12):
        response = client.get("/cases/queue/?queue=contact_center")
    assert response.status_code == 200
    assert response.content.decode().count("data-ref=") == 25


# --- The supervisor's view ----------------------------------------------------------------------


def test_the_supervisor_sees_the_day_in_figures(org: Org, world: dict[str, Case]) -> None:
    from cases.selectors import supervisor_overview
    from cases.services.transitions import case_resolve_at_first_contact

    with time_machine.travel(TUESDAY_9 + datetime.timedelta(minutes=1), tick=False):
        quick = org.new_case(subject="Snabb fråga")
        case_resolve_at_first_contact(actor=staff(org.agent), case_id=quick.pk)
    # Wednesday 08:30: the forwarded case must be accepted by 09:00 (at risk, not overdue).
    at = datetime.datetime(2026, 3, 4, 8, 30, tzinfo=TUESDAY_9.tzinfo)

    o = supervisor_overview(user=org.cc_supervisor, now=at)

    phone = next(r for r in o.by_channel if r["origin_channel"] == "phone")
    assert (phone["contact_center"], phone["triage"], phone["waiting"], phone["total"]) == (
        3,
        0,
        1,
        5,
    )
    assert [r["origin_channel"] for r in o.by_channel] == ["email", "phone"]
    assert (o.overdue, o.at_risk) == (0, 1)
    assert o.load == [{"username": "agent", "name": "", "active": 1, "overdue": 0}]
    assert o.oldest_waiting is not None and o.oldest_waiting.pk == world["new"].pk
    # today (Wednesday) nothing came in yet; Tuesday's contacts belong to yesterday
    assert o.fcr_today == [] and o.fcr_today_total["rate"] is None

    tuesday = supervisor_overview(
        user=org.cc_supervisor, now=TUESDAY_9 + datetime.timedelta(hours=1)
    )
    assert tuesday.fcr_today_total == {"inbound": 7, "resolved": 1, "rate": 14}


def test_a_department_supervisor_sees_only_the_department(org: Org, world: dict[str, Case]) -> None:
    from cases.selectors import supervisor_overview

    o = supervisor_overview(user=org.waste_supervisor, now=TUESDAY_9 + datetime.timedelta(hours=1))

    assert [(r["origin_channel"], r["department"], r["total"]) for r in o.by_channel] == [
        ("phone", 1, 1)
    ]
    assert o.oldest_waiting is not None and o.oldest_waiting.pk == world["forwarded"].pk
    assert o.fcr_today_total == {"inbound": 1, "resolved": 0, "rate": 0}


def test_the_supervisor_page_is_for_supervisors_only(org: Org, world: dict[str, Case]) -> None:
    page = login(org.cc_supervisor).get("/cases/supervisor/")
    assert page.status_code == 200
    assert 'data-figure="oldest"' in page.content.decode()
    assert login(org.agent).get("/cases/supervisor/").status_code == 404
    assert login(org.waste_handler).get("/cases/supervisor/").status_code == 404
