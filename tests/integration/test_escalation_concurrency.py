"""Two escalation scans at the same moment, on PostgreSQL: every rung fires exactly once.

Two schedulers running by mistake (two beat processes, an operator's ``sla_scan`` during the
beat's) must not tell anyone twice. Each thread has its own database connection, as two
processes would.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction

from cases.models import CaseEscalation, CaseEvent, EventKind, Notification
from cases.services.actors import Actor
from cases.services.escalation import _claim, sla_scan
from cases.services.transitions import case_forward
from tests.municipality import TUESDAY_9, Org

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

AT = datetime.datetime(2026, 3, 10, 10, 0, tzinfo=ZoneInfo("Europe/Stockholm"))


def in_two_threads(work: Callable[[], Any]) -> list[Any]:
    """Run ``work`` in two threads released at the same instant; their results."""
    barrier = threading.Barrier(2)
    results: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(work())
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


@pytest.fixture
def due_rungs(org: Org) -> list[int]:
    """40 forwarded cases, each with both rungs (75 % and 100 %) due at ``AT``."""
    with time_machine.travel(TUESDAY_9, tick=False):
        for _ in range(40):
            case = org.new_case()
            case_forward(actor=Actor.staff(org.agent), case_id=case.pk)
    return list(CaseEscalation.objects.filter(due_at__lte=AT).values_list("pk", flat=True))


def test_two_scans_at_the_same_moment_fire_each_rung_once(due_rungs: list[int]) -> None:
    assert len(due_rungs) == 80
    results = in_two_threads(lambda: sla_scan(at=AT, chunk_size=7))
    fired = [item.escalation_id for result in results for item in result.fired]
    assert sorted(fired) == sorted(due_rungs)  # all of them, none twice
    assert CaseEvent.objects.filter(kind=EventKind.ESCALATED).count() == 80
    assert Notification.objects.count() == 80
    assert not CaseEscalation.objects.filter(fired_at__isnull=True).exists()
    assert sla_scan(at=AT).fired == []


def test_the_conditional_update_alone_lets_one_claim_win(due_rungs: list[int]) -> None:
    """Without the SKIP LOCKED read (both claim the same ids): the second UPDATE waits for the
    first to commit, re-reads ``fired_at`` and changes nothing."""

    def claim() -> set[int]:
        with transaction.atomic():
            return _claim({pk: [] for pk in due_rungs}, AT)

    first, second = in_two_threads(claim)
    assert sorted(first | second) == sorted(due_rungs)
    assert not first & second
    assert {len(first), len(second)} == {0, 80}
