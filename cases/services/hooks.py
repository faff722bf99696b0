"""Work other apps attach to a case transition, inside the transition's own transaction.

The case core knows nothing of residents' notices or escalation ladders; those modules register
a hook here (in their ``AppConfig.ready``), and every transition service calls the hooks after
it has written its event. A hook writes rows (an outbound notice, a planned escalation) in the
same transaction, so a transition that rolls back leaves nothing behind, and it sends nothing
itself: what must leave the building goes through an outbound row and a task after commit
(ADR 0018).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from cases.models import Case, CaseEvent
from cases.services.actors import Actor


class TransitionHook(Protocol):
    def __call__(self, *, case: Case, event: CaseEvent, actor: Actor) -> None: ...


_hooks: dict[str, TransitionHook] = {}


def register_transition_hook(name: str, hook: TransitionHook | Callable[..., None]) -> None:
    """Register ``hook`` under ``name`` (registering a name again replaces it: ready() may run
    twice in tests). Hooks run in name order."""
    _hooks[name] = hook  # type: ignore[assignment]


def run_transition_hooks(*, case: Case, event: CaseEvent, actor: Actor) -> None:
    """Called by every transition service after its event, inside its transaction.

    ``event`` carries the transition's name, ``from_state``/``to_state`` and, in ``data``, the
    before/after of every tracked field (``paused_at`` before a resume, the old deadlines).
    """
    for name in sorted(_hooks):
        _hooks[name](case=case, event=event, actor=actor)
