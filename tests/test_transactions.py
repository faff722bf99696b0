"""After-commit publishing: the coalescer that turns many requests' tasks into one message."""

from __future__ import annotations

import logging
import time

import pytest
from django.db import transaction
from django.test import override_settings

from common.transactions import coalescer, grouped_enqueue_on_commit

pytestmark = pytest.mark.django_db(transaction=True)


class FakeTask:
    def __init__(self, *, fails: bool = False) -> None:
        self.calls: list[object] = []
        self.fails = fails
        self.name = "fake"

    def delay(self, arg: object) -> None:
        if self.fails:
            raise ConnectionError("broker down")
        self.calls.append(arg)


def _wait_for(predicate, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@override_settings(CELERY_PUBLISH_COALESCE_SECONDS=0.2, CELERY_TASK_ALWAYS_EAGER=False)
def test_the_tasks_of_requests_within_the_window_go_out_as_one_batch_message() -> None:
    single, batch = FakeTask(), FakeTask()
    # Given three requests committed one after the other within the window
    for pk in (11, 12, 13):
        with transaction.atomic():
            grouped_enqueue_on_commit(single, batch, pk)
    # Then one batch message carries all three ids, and no task was sent per request
    _wait_for(lambda: batch.calls)
    time.sleep(0.3)
    assert batch.calls == [[11, 12, 13]]
    assert single.calls == []


@override_settings(CELERY_PUBLISH_COALESCE_SECONDS=0.05, CELERY_TASK_ALWAYS_EAGER=False)
def test_a_rolled_back_request_publishes_nothing() -> None:
    single, batch = FakeTask(), FakeTask()
    with pytest.raises(RuntimeError), transaction.atomic():
        grouped_enqueue_on_commit(single, batch, 21)
        raise RuntimeError("the request failed")
    with transaction.atomic():
        grouped_enqueue_on_commit(single, batch, 22)
    _wait_for(lambda: batch.calls)
    time.sleep(0.1)
    assert batch.calls == [[22]]


@override_settings(CELERY_PUBLISH_COALESCE_SECONDS=0.05, CELERY_TASK_ALWAYS_EAGER=False)
def test_a_later_request_gets_a_message_of_its_own() -> None:
    single, batch = FakeTask(), FakeTask()
    with transaction.atomic():
        grouped_enqueue_on_commit(single, batch, 31)
    _wait_for(lambda: batch.calls)
    with transaction.atomic():
        grouped_enqueue_on_commit(single, batch, 32)
    _wait_for(lambda: len(batch.calls) == 2)
    assert batch.calls == [[31], [32]]


@override_settings(CELERY_PUBLISH_COALESCE_SECONDS=0.05, CELERY_TASK_ALWAYS_EAGER=False)
def test_a_broker_that_cannot_be_reached_is_logged_and_the_request_stands(
    caplog: pytest.LogCaptureFixture,
) -> None:
    single, batch = FakeTask(fails=True), FakeTask(fails=True)
    with caplog.at_level(logging.WARNING, logger="common.transactions"), transaction.atomic():
        grouped_enqueue_on_commit(single, batch, 41)
    _wait_for(lambda: "Could not enqueue fake for 1 ids" in caplog.text)
    coalescer.flush()  # nothing left over to send


@override_settings(CELERY_PUBLISH_COALESCE_SECONDS=0.0, CELERY_TASK_ALWAYS_EAGER=False)
def test_without_a_window_each_request_publishes_its_own_task() -> None:
    single, batch = FakeTask(), FakeTask()
    with transaction.atomic():
        grouped_enqueue_on_commit(single, batch, 51)
    assert (single.calls, batch.calls) == ([51], [])
