"""Outbound tasks: thin, idempotent, by id (STYLE habit 5). Beat runs the sweep every 30 s
(``outbound-sweep`` in the settings)."""

from __future__ import annotations

from celery import shared_task

from channels_app.email.outbound import email_outbound_stale
from channels_app.notices import services
from channels_app.sms.outbound import sms_outbound_stale

SWEEP_BATCH = 50


@shared_task
def outbound_send_task(outbound_id: int) -> bool:
    return services.outbound_send(outbound_id=outbound_id)


@shared_task
def outbound_send_batch_task(outbound_ids: list[int]) -> int:
    """Several sends (an intake batch's notices, the sweep's leftovers), each claimed on its
    own. Returns how many this call sent."""
    return sum(services.outbound_send(outbound_id=pk) for pk in outbound_ids)


@shared_task
def outbound_sweep_task(older_than_seconds: int = 30) -> int:
    """Resend e-mails and SMS pending for more than ``older_than_seconds`` (their task was
    lost, Redis was down when it was published, or the last attempt failed and may be
    retried). Attempts are capped by each channel's MAX_ATTEMPTS; what reaches the cap, or
    fails for good, is marked failed and left alone. A row whose first task is only queued
    behind others is found sent by the second and skipped."""
    ids = sorted(
        email_outbound_stale(older_than_seconds=older_than_seconds)
        + sms_outbound_stale(older_than_seconds=older_than_seconds)
    )
    for start in range(0, len(ids), SWEEP_BATCH):
        outbound_send_batch_task.delay(ids[start : start + SWEEP_BATCH])
    return len(ids)
