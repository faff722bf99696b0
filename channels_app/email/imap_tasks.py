"""The IMAP poll as a periodic task (beat, every minute; see ``CELERY_BEAT_SCHEDULE``)."""

from __future__ import annotations

from celery import shared_task

from channels_app.email import imap


@shared_task
def mailboxes_poll_task() -> dict[str, dict[str, object]]:
    """Poll every active mailbox with an IMAP host; a failing one does not stop the others.

    Safe to run twice at once (see ``channels_app.email.imap``): the inbound key keeps each mail
    one row. The beat entry lets a poll expire unstarted after 55 s, so polls do not pile up
    while the worker is away.
    """
    summary: dict[str, dict[str, object]] = {}
    for outcome in imap.mailboxes_poll():
        if outcome.result is None:
            summary[outcome.name] = {"error": outcome.error}
        else:
            summary[outcome.name] = {
                "fetched": outcome.result.fetched,
                "recorded": outcome.result.recorded,
                "duplicates": outcome.result.duplicates,
                "remaining": outcome.result.remaining,
            }
    return summary
