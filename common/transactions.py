"""The one way to register side effects: after the surrounding transaction commits.

A rolled-back transaction then never sends anything, and a task never runs before the row it
reads is visible to the worker.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.db import transaction


def on_commit(func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
    """Call ``func(*args, **kwargs)`` once the current transaction commits."""
    transaction.on_commit(functools.partial(func, *args, **kwargs), robust=True)


def enqueue_on_commit(task: Any, /, *args: Any, **kwargs: Any) -> None:
    """Send a Celery task after commit. The task must be idempotent and take ids only."""
    transaction.on_commit(functools.partial(task.delay, *args, **kwargs), robust=True)
