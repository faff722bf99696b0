"""E-mail tasks: thin, idempotent, by id. Needs a beat entry for the sweep (see ADR 0014)."""

from __future__ import annotations

from celery import shared_task

from channels_app.email import outbound


@shared_task
def email_send_task(outbound_id: int) -> bool:
    return outbound.email_send(outbound_id=outbound_id)


@shared_task
def email_send_batch_task(outbound_ids: list[int]) -> int:
    """The sends one intake batch queued (its receipts), each claimed on its own as in
    ``email_send_task``. Returns how many this call sent."""
    return sum(outbound.email_send(outbound_id=pk) for pk in outbound_ids)


@shared_task
def email_outbound_sweep_task() -> int:
    """Resend e-mails pending for more than two minutes (their task was lost or failed)."""
    ids = outbound.email_outbound_stale(older_than_seconds=120)
    for pk in ids:
        email_send_task.delay(pk)
    return len(ids)
