"""Intake tasks: thin, idempotent, by id. The sweep makes good what a lost task left behind."""

from __future__ import annotations

import datetime

from celery import shared_task
from django.utils import timezone

from channels_app import intake


@shared_task
def inbound_process_task(message_id: int) -> str | None:
    message = intake.inbound_process(message_id=message_id)
    return message.status if message is not None else None


@shared_task
def inbound_process_batch_task(message_ids: list[int]) -> int:
    """Process a batch (a poller's fetch, the sweep's leftovers): one commit per
    ``intake.BATCH_SIZE`` messages. Returns how many this call processed."""
    return len(intake.inbound_process_batch(message_ids=message_ids))


@shared_task
def inbound_sweep_task() -> int:
    """Re-queue inbound items that have waited more than 30 s (their task was lost), one
    batch task per ``intake.BATCH_SIZE`` of them."""
    ids = intake.inbound_stale(
        now=timezone.now(),
        pending_after=datetime.timedelta(seconds=30),
        processing_after=datetime.timedelta(minutes=10),
    )
    for start in range(0, len(ids), intake.BATCH_SIZE):
        inbound_process_batch_task.delay(ids[start : start + intake.BATCH_SIZE])
    return len(ids)
