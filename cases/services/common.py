"""Locking and permission helpers shared by the case services."""

from __future__ import annotations

from django.utils.translation import gettext as _

from cases import permissions
from cases.models import Case, Department
from cases.services.actors import Actor
from common.caches import ttl_cached
from common.exceptions import ApplicationError, NotFoundError


def case_lock(*, case_id: int, actor: Actor) -> Case:
    """Lock the case row for the rest of the transaction, then read it with what it joins.

    On PostgreSQL ``SELECT ... FOR UPDATE`` makes a second writer wait and then read the new
    state; on SQLite the write transaction itself serialises writers. Either way the state we
    check is the state we change.

    The lock is taken on the bare row first and the joins are read afterwards on purpose: when
    a locked row is updated by the transaction we waited for, PostgreSQL re-checks the WHERE and
    JOIN conditions against the *new* row but the *old* joined rows, so a ``FOR UPDATE`` with
    joins silently returns nothing after, say, a forward changed ``department_id``: the loser
    of a race would get "not found" instead of a clear conflict.

    A case the actor may not see is reported as not found.
    """
    if not Case.objects.select_for_update().filter(pk=case_id).values_list("pk", flat=True):
        raise NotFoundError(_("No such case."))
    qs = Case.objects.select_related("department", "category", "resident")
    if actor.is_staff:
        qs = qs.visible_to(actor.user)  # type: ignore[arg-type]
    try:
        return qs.get(pk=case_id)
    except Case.DoesNotExist:
        raise NotFoundError(_("No such case.")) from None


def contact_center() -> Department:
    """The contact-center department, cached for a minute per process: every intake reads it,
    and which department is the contact center changes perhaps once in a system's life."""
    try:
        return ttl_cached(
            "contact-center", 60, lambda: Department.objects.get(is_contact_center=True)
        )
    except Department.DoesNotExist:
        raise ApplicationError(
            _(
                "No contact center is configured. An administrator must mark one department as the contact center."
            ),
            code="no_contact_center",
        ) from None


def ensure_may_work_on(actor: Actor, case: Case) -> None:
    if actor.is_staff:
        permissions.ensure_may_work_on(actor.user, case)  # type: ignore[arg-type]
