"""Celery tasks of the case core. Thin: they take ids, call services, and are idempotent.

The database is the source of truth: a task that is lost is made good by the next periodic
sweep, and a task that runs twice finds its work done and does nothing.
"""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cases.models import Case, CaseState
from cases.services.actors import Actor
from cases.services.transitions import case_close
from common.exceptions import ApplicationError

logger = logging.getLogger(__name__)


def _due_for_auto_close(now: datetime.datetime):  # type: ignore[no-untyped-def]
    cutoff = now - datetime.timedelta(days=settings.CASE_AUTO_CLOSE_DAYS)
    return Case.objects.filter(
        state__in=(CaseState.RESOLVED, CaseState.RESOLVED_FIRST_CONTACT), resolved_at__lt=cutoff
    )


@shared_task
def case_auto_close_task(case_id: int) -> bool:
    """Close one resolved case whose quiet period is over. False if there was nothing to do."""
    now = timezone.now()
    if not _due_for_auto_close(now).filter(pk=case_id).exists():
        return False
    try:
        case_close(
            actor=Actor.system(),
            case_id=case_id,
            resolved_before=now - datetime.timedelta(days=settings.CASE_AUTO_CLOSE_DAYS),
            reason=_("Closed automatically: no reaction from the resident within %(days)d days.")
            % {"days": settings.CASE_AUTO_CLOSE_DAYS},
        )
    except ApplicationError:
        # Someone reopened or closed it between our check and our lock: their action stands.
        return False
    return True


@shared_task
def close_resolved_cases_task(limit: int = 5000) -> int:
    """Periodic sweep (Celery beat): close every resolved case past its quiet period."""
    ids = list(
        _due_for_auto_close(timezone.now()).order_by("pk").values_list("pk", flat=True)[:limit]
    )
    closed = sum(1 for pk in ids if case_auto_close_task(pk))
    if closed:
        logger.info("Closed %d resolved cases automatically.", closed)
    return closed


@shared_task
def notify_department_of_forward_task(case_id: int) -> bool:
    """Tell a department's functional mailbox that a case was forwarded to it.

    Only the reference, category and deadline go out: never the case content, which may be
    sensitive. The Message-ID is fixed per case and forward, so a mail server drops a repeat
    delivery if the task runs twice.
    """
    case = Case.objects.select_related("department", "category").filter(pk=case_id).first()
    if case is None or case.state != CaseState.FORWARDED or not case.department.email:
        return False
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Case %(ref)s forwarded to %(dept)s") % {
            "ref": case.reference,
            "dept": case.department,
        }
        deadline = (
            timezone.localtime(case.accept_due_at).strftime("%Y-%m-%d %H:%M")
            if case.accept_due_at
            else "–"
        )
        body = _(
            "Case %(ref)s (%(category)s) has been forwarded to %(dept)s.\n"
            "Accept it by: %(deadline)s.\n\nOpen it in the contact center to read it."
        ) % {
            "ref": case.reference,
            "category": case.category or _("no category"),
            "dept": case.department,
            "deadline": deadline,
        }
    forwarded = int(case.forwarded_at.timestamp()) if case.forwarded_at else 0
    message = EmailMessage(
        subject=subject,
        body=body,
        to=[case.department.email],
        headers={
            "Message-ID": f"<forward-{case.pk}-{forwarded}@{settings.CASE_REFERENCE_PREFIX.lower()}.contactcenter>",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.send()
    return True


@shared_task
def notify_department_of_forward_batch_task(case_ids: list[int]) -> int:
    """``notify_department_of_forward_task`` for a routing batch: one broker message."""
    return sum(1 for pk in case_ids if notify_department_of_forward_task(pk))


# --- Routing (ADR 0018) ------------------------------------------------------------------------


@shared_task
def case_route_task(case_id: int) -> bool:
    """Route one new case. False if it was routed already (or is no longer new)."""
    from cases.services.routing import case_route

    return case_route(case_id=case_id) is not None


@shared_task
def case_route_batch_task(case_ids: list[int]) -> int:
    """Route many new cases in one go (intake batches). Returns how many were routed."""
    from cases.services.routing import case_route_batch

    return len(case_route_batch(case_ids=case_ids))


@shared_task
def route_sweep_task(older_than_seconds: int = 20) -> int:
    """Periodic sweep (Celery beat, every 30 s): route the new cases a lost task left behind
    (or that were created while the broker was down). Routing a case twice does nothing."""
    from cases.services.routing import cases_unrouted

    ids = cases_unrouted(older_than_seconds=older_than_seconds)
    for start in range(0, len(ids), 200):
        case_route_batch_task.delay(ids[start : start + 200])
    if ids:
        logger.info("Re-queued %d unrouted cases.", len(ids))
    return len(ids)


# --- Escalation ladders (ADR 0019) --------------------------------------------------------------


@shared_task
def sla_scan_task() -> int:
    """Periodic scan (Celery beat, every minute): fire the escalation steps that are due.

    Idempotent and safe to run twice at once: each step is claimed by a conditional UPDATE.
    Returns how many steps fired.
    """
    from cases.services.escalation import sla_scan

    result = sla_scan()
    if result.fired or result.cancelled:
        logger.info(
            "SLA scan: %d escalations fired, %d deferred, %d cancelled.",
            len(result.fired),
            len(result.deferred),
            result.cancelled,
        )
    return len(result.fired)
