"""The case core against real PostgreSQL, Redis and a Celery worker process."""

from __future__ import annotations

import datetime
import threading
import time

import pytest
from django.db import connections
from django.utils import timezone

from cases.models import Case, CaseEvent, CaseState
from cases.services import transitions
from cases.services.actors import Actor
from cases.tasks import close_resolved_cases_task
from common.exceptions import ConflictError
from tests.municipality import Org

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_worker_closes_resolved_cases_after_the_quiet_period(
    org: Org, celery_worker_process, wait_until, settings
) -> None:  # type: ignore[no-untyped-def]
    old = org.new_case(subject="Old")
    transitions.case_resolve_at_first_contact(actor=Actor.staff(org.agent), case_id=old.pk)
    recent = org.new_case(subject="Recent")
    transitions.case_resolve_at_first_contact(actor=Actor.staff(org.agent), case_id=recent.pk)
    # Given: one case resolved longer ago than the quiet period, one just now.
    Case.objects.filter(pk=old.pk).update(
        resolved_at=timezone.now() - datetime.timedelta(days=settings.CASE_AUTO_CLOSE_DAYS + 1)
    )
    # When: the periodic sweep runs on the worker.
    close_resolved_cases_task.delay()
    # Then: the old one is closed by the system, the recent one is left alone.
    wait_until(lambda: Case.objects.get(pk=old.pk).state == CaseState.CLOSED)
    event = CaseEvent.objects.get(case_id=old.pk, transition="close")
    assert (event.actor_type, event.actor_id, event.from_state) == (
        "system",
        None,
        "resolved_first_contact",
    )
    time.sleep(1)
    assert Case.objects.get(pk=recent.pk).state == CaseState.RESOLVED_FIRST_CONTACT
    # And a second sweep (a duplicate beat, say) changes nothing.
    close_resolved_cases_task.delay()
    time.sleep(2)
    assert CaseEvent.objects.filter(case_id=old.pk, transition="close").count() == 1


def test_two_people_acting_at_once_one_wins_the_other_gets_a_conflict(
    org: Org, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Real concurrency on PostgreSQL: two threads, two connections, one case row."""
    case = org.new_case()
    real_record = transitions.case_event_record

    def slow_record(**kwargs):  # type: ignore[no-untyped-def]
        time.sleep(0.3)  # hold the row lock long enough for the other thread to queue on it
        return real_record(**kwargs)

    monkeypatch.setattr(transitions, "case_event_record", slow_record)
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def act(name: str, user) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
            transitions.TRANSITIONS[name](actor=Actor.staff(user), case_id=case.pk)
            outcomes[name] = "ok"
        except ConflictError as exc:
            outcomes[name] = exc.code
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=act, args=("forward", org.agent)),
        threading.Thread(target=act, args=("mark_spam", org.cc_supervisor)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes.values()) == ["ok", "transition_not_allowed"], outcomes
    winner = next(name for name, result in outcomes.items() if result == "ok")
    case.refresh_from_db()
    assert case.state == {"forward": CaseState.FORWARDED, "mark_spam": CaseState.SPAM}[winner]
    assert list(
        CaseEvent.objects.filter(case=case, kind="transition").values_list("transition", flat=True)
    ) == [winner]
