"""The shared intake path: record raw first, process once, quarantine, never drop."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
from django.utils import timezone

from cases.choices import Channel
from cases.models import Case, Contact
from cases.services.actors import Actor
from cases.services.cases import ContactInput, case_create
from cases.services.residents import resident_find_or_create_by_contact
from channels_app import intake
from channels_app.models import InboundMessage, InboundStatus
from channels_app.tasks import inbound_sweep_task
from tests.municipality import Org

pytestmark = pytest.mark.django_db


def _test_processor(message: InboundMessage) -> intake.IntakeResult:
    kind = message.payload.get("kind")
    if kind == "ignore":
        return intake.IntakeResult(case=None, note="auto-reply")
    if kind == "quarantine":
        raise intake.Quarantine("Unreadable form")
    if kind == "crash":
        # Make a case, then fail: the case must not survive.
        case_create(
            actor=Actor.resident(Channel.ESERVICE),
            subject="half",
            contact=ContactInput(channel=Channel.ESERVICE),
        )
        raise RuntimeError("boom")
    case = case_create(
        actor=Actor.resident(Channel.ESERVICE),
        subject=message.payload["subject"],
        contact=ContactInput(channel=Channel.ESERVICE),
    )
    return intake.IntakeResult(case=case, contact=case.contacts.get())


@pytest.fixture(autouse=True)
def test_kind() -> Iterator[None]:
    intake.register("test", _test_processor)
    yield
    intake._PROCESSORS.pop("test", None)


@pytest.fixture
def record(django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """Record an item and run what was registered on commit (the processing task), as a
    committed request would."""

    def record(key: str, **payload: object) -> tuple[InboundMessage, bool]:
        with django_capture_on_commit_callbacks(execute=True):
            return intake.inbound_record(
                channel=Channel.ESERVICE, source="test:form", external_id=key, payload=payload
            )

    return record


def test_an_item_is_recorded_then_processed_into_a_case(org: Org, record) -> None:  # type: ignore[no-untyped-def]
    message, created = record("k1", subject="Trasig lampa")
    assert created
    message.refresh_from_db()  # the task ran eagerly after commit
    assert message.status == InboundStatus.PROCESSED
    assert message.case.subject == "Trasig lampa"
    assert message.contact.case_id == message.case_id


def test_the_same_key_twice_is_one_record_and_one_case(org: Org, record) -> None:  # type: ignore[no-untyped-def]
    first, _ = record("k1", subject="Trasig lampa")
    second, created = record("k1", subject="Trasig lampa")
    assert (created, second.pk) == (False, first.pk)
    assert InboundMessage.objects.count() == 1
    assert Case.objects.count() == 1


def test_processing_twice_changes_nothing(org: Org, record) -> None:  # type: ignore[no-untyped-def]
    message, _ = record("k1", subject="Trasig lampa")
    assert intake.inbound_process(message_id=message.pk) is None
    assert Case.objects.count() == 1 and Contact.objects.count() == 1


def test_an_item_that_cannot_be_processed_is_quarantined_with_its_reason(org: Org, record) -> None:  # type: ignore[no-untyped-def]
    message, _ = record("k1", kind="quarantine")
    message.refresh_from_db()
    assert (message.status, message.reason, message.attempts) == (
        "quarantined",
        "Unreadable form",
        1,
    )
    assert Case.objects.count() == 0


def test_a_crash_quarantines_and_leaves_no_half_made_case(org: Org, record) -> None:  # type: ignore[no-untyped-def]
    message, _ = record("k1", kind="crash")
    message.refresh_from_db()
    assert message.status == InboundStatus.QUARANTINED
    assert message.reason == "Internal error: RuntimeError: boom"
    assert Case.objects.count() == 0 and Contact.objects.count() == 0


def test_an_item_needing_no_case_is_ignored_not_lost(org: Org, record) -> None:  # type: ignore[no-untyped-def]
    message, _ = record("k1", kind="ignore")
    message.refresh_from_db()
    assert (message.status, message.case, message.reason) == ("ignored", None, "auto-reply")


def test_a_quarantined_item_is_reprocessed_after_a_fix(
    org: Org, record, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    message, _ = record("k1", kind="quarantine")
    InboundMessage.objects.filter(pk=message.pk).update(payload={"subject": "Fixed"})
    with django_capture_on_commit_callbacks(execute=True):
        assert intake.inbound_requeue(message_ids=[message.pk]) == 1
    message.refresh_from_db()
    assert (message.status, message.case.subject, message.attempts) == ("processed", "Fixed", 2)


def test_the_sweep_picks_up_what_a_lost_task_left_behind(org: Org) -> None:  # type: ignore[no-untyped-def]
    message, _ = intake.inbound_record(
        channel=Channel.ESERVICE,
        source="test:form",
        external_id="lost",
        payload={"subject": "Lost"},
        process=False,
    )
    InboundMessage.objects.filter(pk=message.pk).update(
        received_at=timezone.now() - datetime.timedelta(minutes=5)
    )
    assert inbound_sweep_task() == 1
    message.refresh_from_db()
    assert message.status == InboundStatus.PROCESSED
    assert inbound_sweep_task() == 0


def test_an_unknown_source_is_quarantined(org: Org, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        message, _ = intake.inbound_record(channel=Channel.EMAIL, source="nowhere", external_id="x")
    message.refresh_from_db()
    assert message.status == InboundStatus.QUARANTINED
    assert "No processor" in message.reason


def test_residents_are_found_by_any_spelling_or_created_once(org: Org) -> None:
    first = resident_find_or_create_by_contact(email="Anna@Example.se", name="Anna")
    again = resident_find_or_create_by_contact(email="anna@example.se")
    assert first is not None and again == first
    assert list(first.emails.values_list("address", flat=True)) == ["anna@example.se"]
    by_phone = resident_find_or_create_by_contact(phone="070-123 45 67")
    assert by_phone is not None and by_phone != first
    assert resident_find_or_create_by_contact(phone="0701234567") == by_phone
    assert resident_find_or_create_by_contact(email="not an address") is None


# --- batches (ADR 0015) ----------------------------------------------------------------------
def _pending(*payloads: dict[str, object]) -> list[int]:
    ids, known = intake.inbound_record_many(
        channel=Channel.ESERVICE,
        source="test:form",
        items=[(f"b{i}", b"") for i in range(len(payloads))],
        process=False,
    )
    assert known == 0
    for pk, payload in zip(ids, payloads, strict=True):
        InboundMessage.objects.filter(pk=pk).update(payload=payload)
    return ids


def _statuses(ids: list[int]) -> list[str]:
    return [InboundMessage.objects.get(pk=pk).status for pk in ids]


def test_a_batch_processes_every_pending_message(org: Org) -> None:
    ids = _pending({"subject": "A"}, {"subject": "B"}, {"kind": "ignore"})

    done = intake.inbound_process_batch(message_ids=ids)

    assert [m.pk for m in done] == ids
    assert _statuses(ids) == ["processed", "processed", "ignored"]
    assert sorted(Case.objects.values_list("subject", flat=True)) == ["A", "B"]
    first = InboundMessage.objects.get(pk=ids[0])
    assert (first.contact.case_id, first.attempts) == (first.case_id, 1)


def test_a_failing_message_is_quarantined_and_the_rest_of_the_batch_stands(org: Org) -> None:
    ids = _pending({"subject": "A"}, {"kind": "crash"}, {"kind": "quarantine"}, {"subject": "B"})

    intake.inbound_process_batch(message_ids=ids)

    assert _statuses(ids) == ["processed", "quarantined", "quarantined", "processed"]
    crashed = InboundMessage.objects.get(pk=ids[1])
    assert (crashed.reason, crashed.case) == ("Internal error: RuntimeError: boom", None)
    # the crashing message's half-made case was rolled back to its savepoint
    assert sorted(Case.objects.values_list("subject", flat=True)) == ["A", "B"]
    assert Contact.objects.count() == 2


def test_processing_a_batch_twice_changes_nothing(org: Org) -> None:
    ids = _pending({"subject": "A"}, {"subject": "B"})
    intake.inbound_process_batch(message_ids=ids)

    assert intake.inbound_process_batch(message_ids=ids) == []
    assert intake.inbound_process(message_id=ids[0]) is None
    assert Case.objects.count() == 2 and Contact.objects.count() == 2


def test_a_batch_skips_messages_that_are_not_pending(org: Org) -> None:
    ids = _pending({"subject": "A"}, {"subject": "B"})
    InboundMessage.objects.filter(pk=ids[0]).update(status=InboundStatus.PROCESSING)

    done = intake.inbound_process_batch(message_ids=ids)

    assert [m.pk for m in done] == [ids[1]]
    assert _statuses(ids) == ["processing", "processed"]


class Killed(BaseException):
    """Stands for the worker process dying (not an Exception: nothing may catch it)."""


def test_a_batch_killed_half_way_leaves_every_message_pending_and_no_case(org: Org) -> None:
    ids = _pending({"subject": "A"}, {"kind": "die"}, {"subject": "C"})

    def dying(message: InboundMessage) -> intake.IntakeResult:
        if message.payload.get("kind") == "die":
            raise Killed
        return _test_processor(message)

    intake.register("test", dying)
    with pytest.raises(Killed):
        intake.inbound_process_batch(message_ids=ids)

    assert _statuses(ids) == ["pending", "pending", "pending"]
    assert not Case.objects.exists() and not Contact.objects.exists()


def test_on_commit_work_of_a_failed_message_is_dropped_with_it(
    org: Org, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    sent: list[str] = []

    def enqueue_then_maybe_fail(message: InboundMessage) -> intake.IntakeResult:
        from common.transactions import on_commit

        on_commit(sent.append, message.payload["subject"])
        if message.payload.get("fail"):
            raise intake.Quarantine("no")
        return _test_processor(message)

    intake.register("test", enqueue_then_maybe_fail)
    ids = _pending({"subject": "A"}, {"subject": "B", "fail": True}, {"subject": "C"})
    with django_capture_on_commit_callbacks(execute=True):
        intake.inbound_process_batch(message_ids=ids)

    assert sent == ["A", "C"]
    assert _statuses(ids) == ["processed", "quarantined", "processed"]


def test_a_message_that_lost_a_deadlock_goes_back_to_pending_and_is_retried(
    org: Org, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from django.db import OperationalError

    class Deadlock(Exception):
        sqlstate = "40P01"

    def deadlocked(message: InboundMessage) -> intake.IntakeResult:
        if message.payload.get("kind") == "deadlock":
            raise OperationalError("deadlock detected") from Deadlock()
        return _test_processor(message)

    intake.register("test", deadlocked)
    ids = _pending({"subject": "A"}, {"kind": "deadlock"})
    with django_capture_on_commit_callbacks() as callbacks:
        done = intake.inbound_process_batch(message_ids=ids)

    assert [m.pk for m in done] == [ids[0]]
    retried = InboundMessage.objects.get(pk=ids[1])
    assert (retried.status, retried.attempts, retried.claimed_at) == ("pending", 1, None)
    # the retry task after commit, and the routing of the case that was made
    assert sorted(c.__qualname__.rpartition(".")[2] for c in callbacks) == [
        "case_route_batch_task",
        "inbound_process_batch_task",
    ]
    # A deadlock that keeps happening ends in quarantine, not in an endless retry.
    for _ in range(intake.TRANSIENT_RETRIES):
        intake.inbound_process_batch(message_ids=[ids[1]])
    retried.refresh_from_db()
    assert retried.status == "quarantined"


@pytest.mark.django_db(transaction=True)
def test_a_batch_commits_once(org: Org, routing_deferred: list[list[int]]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ids = _pending({"subject": "A"}, {"subject": "B"}, {"subject": "C"})
    with CaptureQueriesContext(connection) as ctx:
        intake.inbound_process_batch(message_ids=ids)

    statements = [q["sql"] for q in ctx.captured_queries]
    assert statements.count("COMMIT") == 1
    assert not [s for s in statements if s.startswith("SAVEPOINT")]  # none when all succeed
    assert _statuses(ids) == ["processed"] * 3
    assert len(routing_deferred) == 1 and len(routing_deferred[0]) == 3  # one routing task


def test_record_many_stores_new_keys_once_and_enqueues_one_batch(
    org: Org, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    intake.inbound_record(
        channel=Channel.ESERVICE, source="test:form", external_id="old", process=False
    )
    with django_capture_on_commit_callbacks() as callbacks:
        ids, known = intake.inbound_record_many(
            channel=Channel.ESERVICE,
            source="test:form",
            items=[("old", b""), ("new1", b"x"), ("new2", b"y"), ("new1", b"x")],
        )

    assert known == 2  # "old" was recorded before, "new1" came twice
    assert len(ids) == 2 and InboundMessage.objects.count() == 3
    assert sorted(InboundMessage.objects.filter(pk__in=ids).values_list("raw", flat=True)) == [
        b"x",
        b"y",
    ]
    assert len(callbacks) == 1


def test_the_sweep_hands_leftovers_to_batch_tasks(org: Org, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from channels_app import tasks

    ids = _pending(*({"subject": f"S{i}"} for i in range(5)))
    InboundMessage.objects.update(received_at=timezone.now() - datetime.timedelta(minutes=5))
    monkeypatch.setattr(intake, "BATCH_SIZE", 2)
    batches: list[list[int]] = []
    monkeypatch.setattr(tasks.inbound_process_batch_task, "delay", batches.append)

    assert inbound_sweep_task() == 5
    assert batches == [ids[:2], ids[2:4], ids[4:]]


def test_sends_queued_in_a_batch_go_to_one_task_without_those_of_failed_messages(
    org: Org, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    class FakeTask:
        def __init__(self) -> None:
            self.calls: list[object] = []

        def delay(self, arg: object) -> None:
            self.calls.append(arg)

    single, batch = FakeTask(), FakeTask()

    def queue_a_send(message: InboundMessage) -> intake.IntakeResult:
        intake.enqueue_on_commit_grouped(single, batch, message.pk)
        if message.payload.get("fail"):
            raise intake.Quarantine("no")
        return _test_processor(message)

    intake.register("test", queue_a_send)
    ids = _pending({"subject": "A"}, {"subject": "B", "fail": True}, {"subject": "C"})
    with django_capture_on_commit_callbacks(execute=True):
        intake.inbound_process_batch(message_ids=ids)
    # Outside a batch: one task per id, as before
    with django_capture_on_commit_callbacks(execute=True):
        intake.enqueue_on_commit_grouped(single, batch, 99)

    assert batch.calls == [[ids[0], ids[2]]]
    assert single.calls == [99]


def test_a_temporary_database_error_on_one_message_goes_back_to_pending_then_quarantines(
    org: Org, record
) -> None:  # type: ignore[no-untyped-def]
    # Given a processor that hits a temporary database error (a lock timeout, a dropped
    # connection) after making a case
    from django.db import OperationalError

    def locked(message: InboundMessage) -> intake.IntakeResult:
        case_create(
            actor=Actor.resident(Channel.ESERVICE),
            subject="half",
            contact=ContactInput(channel=Channel.ESERVICE),
        )
        raise OperationalError("canceling statement due to lock timeout")

    intake.register("test", locked)
    # When the message is processed on the single-message path
    message, _ = record("k1", subject="Trasig lampa")
    # Then it is back to pending for the sweep, nothing half-made, one attempt counted
    message.refresh_from_db()
    assert (message.status, message.attempts, message.claimed_at) == ("pending", 1, None)
    assert (
        message.reason == "Retrying after OperationalError: canceling statement due to lock timeout"
    )
    assert Case.objects.count() == 0 and Contact.objects.count() == 0
    # And when it keeps failing, it is quarantined after the batch path's retry limit
    for _ in range(intake.TRANSIENT_RETRIES - 1):
        intake.inbound_process(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("quarantined", intake.TRANSIENT_RETRIES)
    assert message.reason == (
        "Internal error: OperationalError: canceling statement due to lock timeout"
    )
    assert Case.objects.count() == 0 and Contact.objects.count() == 0


# --- inbound_receive: record and process in one transaction (forms, Open311 POSTs) ----------------
def _receive(key: str, **payload: object) -> tuple[InboundMessage, bool]:
    return intake.inbound_receive(
        channel=Channel.ESERVICE, source="test:form", external_id=key, payload=payload
    )


def test_receive_records_and_processes_in_one_go(org: Org) -> None:
    message, created = _receive("r1", subject="Trasig lampa")
    assert created
    message.refresh_from_db()
    assert (message.status, message.attempts) == (InboundStatus.PROCESSED, 1)
    assert message.case.subject == "Trasig lampa"
    assert message.contact.case_id == message.case_id
    assert message.claimed_at is not None and message.processed_at is not None


def test_receive_twice_with_one_key_is_one_record_and_one_case(org: Org) -> None:
    first, _ = _receive("r1", subject="Trasig lampa")
    second, created = _receive("r1", subject="Trasig lampa")
    assert (created, second.pk, second.case_id) == (False, first.pk, first.case_id)
    assert InboundMessage.objects.count() == 1 and Case.objects.count() == 1


def test_receive_keeps_what_cannot_be_processed_quarantined(org: Org) -> None:
    message, created = _receive("r1", kind="quarantine")
    assert created
    stored = InboundMessage.objects.get()
    assert (stored.pk, stored.status, stored.reason) == (
        message.pk,
        InboundStatus.QUARANTINED,
        "Unreadable form",
    )
    assert stored.payload == {"kind": "quarantine"} and stored.attempts == 1


def test_receive_rolls_back_a_half_made_case_and_keeps_the_item(org: Org) -> None:
    _receive("r1", kind="crash")
    stored = InboundMessage.objects.get()
    assert stored.status == InboundStatus.QUARANTINED
    assert stored.reason == "Internal error: RuntimeError: boom"
    assert Case.objects.count() == 0 and Contact.objects.count() == 0


def test_receive_finishes_a_record_whose_first_attempt_never_did(org: Org) -> None:
    # Given a record left pending (recorded first, its processing lost)
    pending, _ = intake.inbound_record(
        channel=Channel.ESERVICE,
        source="test:form",
        external_id="r1",
        payload={"subject": "Trasig lampa"},
        process=False,
    )
    # When the sender retries
    message, created = _receive("r1", subject="Trasig lampa")
    # Then the existing record is processed, once
    assert (created, message.pk, message.status) == (False, pending.pk, InboundStatus.PROCESSED)
    assert Case.objects.count() == 1 and InboundMessage.objects.count() == 1
