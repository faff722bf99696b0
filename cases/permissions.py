"""Who may see a case, and who may do what to it. The only place these rules live.

Visibility (docs/adr/0005-visibility.md):
- administrators and contact-center staff (agents, contact-center supervisors) see every case;
- department staff (handlers, department supervisors) see the cases owned by their unit or a
  unit below it, and nothing else (a case of another department is a 404 everywhere);
- the communications office sees no individual case: it works with aggregates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.models import Role
from common.exceptions import PermissionDeniedError

if TYPE_CHECKING:
    from accounts.models import User
    from cases.models import Case

NOTHING = Q(pk__in=[])


def unit_ids(user: User) -> list[int]:
    """The user's department and every unit below it, computed once per user object."""
    cached = getattr(user, "_unit_ids", None)
    if cached is None:
        cached = user.department.subtree_ids() if user.department_id else []
        user._unit_ids = cached  # type: ignore[attr-defined]
    return cached


def case_visibility_filter(user: User) -> Q | None:
    """A filter for the cases ``user`` may see; ``None`` means every case."""
    if not user.is_authenticated or not user.is_active:
        return NOTHING
    if user.is_administrator:
        return None
    if user.department_id is None or user.role == Role.COMMUNICATIONS:
        return NOTHING
    if user.in_contact_center and user.role in (Role.AGENT, Role.SUPERVISOR):
        return None
    if user.role in (Role.HANDLER, Role.SUPERVISOR):
        return Q(department_id__in=unit_ids(user))
    return NOTHING


def is_contact_center_staff(user: User) -> bool:
    return user.is_administrator or (
        user.in_contact_center and user.role in (Role.AGENT, Role.SUPERVISOR)
    )


def is_department_staff_of(user: User, case: Case) -> bool:
    if user.is_administrator:
        return True
    if user.department_id is None or user.role not in (Role.HANDLER, Role.SUPERVISOR):
        return False
    return case.department_id in unit_ids(user)


def owns_case(user: User, case: Case) -> bool:
    """Contact-center staff own cases held by the contact center; department staff theirs."""
    if case.department.is_contact_center:
        return is_contact_center_staff(user)
    return is_department_staff_of(user, case)


# Which check each transition needs. The check runs after the visibility check (404 first).
TRANSITION_RULES: dict[str, str] = {
    "open": "contact_center",
    "resolve_at_first_contact": "contact_center",
    "forward": "contact_center",
    "mark_spam": "contact_center",
    "merge": "contact_center",
    "close": "contact_center",
    "reopen": "contact_center",
    "accept": "department",
    "return_to_contact_center": "department",
    "wait_for_resident": "owner",
    "resume": "owner",
    "resolve": "owner",
    "withdraw": "owner",
}


def ensure_may_transition(user: User, case: Case, transition: str) -> None:
    rule = TRANSITION_RULES[transition]
    allowed = {
        "contact_center": is_contact_center_staff,
        "department": is_department_staff_of,
        "owner": owns_case,
    }[rule]
    ok = allowed(user) if rule == "contact_center" else allowed(user, case)  # type: ignore[operator]
    if not ok:
        raise PermissionDeniedError(
            _("You are not allowed to do this to case %(ref)s.") % {"ref": case.reference}
        )


def ensure_may_work_on(user: User, case: Case) -> None:
    """Notes, contacts and assignment: anyone who may see the case and is not read-only."""
    if user.role == Role.COMMUNICATIONS and not user.is_administrator:
        raise PermissionDeniedError(_("Your role cannot change cases."))


def transitions_for(user: User, case: Case) -> list[str]:
    """The transitions ``user`` may apply to ``case`` now (for buttons and the API detail)."""
    out = []
    for t in case.get_available_state_transitions():
        try:
            ensure_may_transition(user, case, t.name)
        except PermissionDeniedError:
            continue
        out.append(t.name)
    return out
