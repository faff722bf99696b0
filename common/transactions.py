"""The one way to register side effects: after the surrounding transaction commits.

A rolled-back transaction then never sends anything, and a task never runs before the row it
reads is visible to the worker.
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)


def on_commit(func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
    """Call ``func(*args, **kwargs)`` once the current transaction commits. An exception is
    logged, never raised: the transaction is committed and the caller has succeeded."""

    def call() -> None:
        func(*args, **kwargs)

    call.__qualname__ = getattr(func, "__qualname__", repr(func))
    transaction.on_commit(call, robust=True)


def enqueue_on_commit(task: Any, /, *args: Any, **kwargs: Any) -> None:
    """Send a Celery task after commit. The task must be idempotent and take ids only.

    When the broker cannot be reached (Redis down) the failure is logged and swallowed: the
    work is in the database, and a periodic sweep enqueues it again (ADR 0018). A resident's
    request never fails because of it.
    """

    def send() -> None:
        try:
            task.delay(*args, **kwargs)
        except Exception:
            logger.warning(
                "Could not enqueue %s%r; a sweep will pick the work up again.",
                getattr(task, "name", task),
                args,
                exc_info=True,
            )

    # A named function: Django's robust on_commit logs failures with the callback's
    # __qualname__, which a functools.partial lacks (it then raises AttributeError instead).
    send.__qualname__ = f"enqueue:{getattr(task, 'name', task)}"
    transaction.on_commit(send, robust=True)


# Inside ``collect_grouped_enqueues``: batch task -> ids to hand it in one call after commit.
_grouped: contextvars.ContextVar[dict[Any, list[int]] | None] = contextvars.ContextVar(
    "grouped_enqueues", default=None
)


@contextlib.contextmanager
def collect_grouped_enqueues() -> Iterator[dict[Any, list[int]]]:
    """Collect ``grouped_enqueue_on_commit`` calls made inside the block, by batch task.

    The caller (a worker processing a batch in one transaction) enqueues each batch task once
    with all its ids after commit, and drops the ids of an item whose savepoint rolled back.
    """
    group: dict[Any, list[int]] = {}
    token = _grouped.set(group)
    try:
        yield group
    finally:
        _grouped.reset(token)


def grouped_enqueue_on_commit(
    task: Any, batch_task: Any, pk: int, *, coalesce: bool = True
) -> None:
    """After commit, ``task.delay(pk)``; inside ``collect_grouped_enqueues`` the ids of the whole
    batch go to one ``batch_task.delay([pk, ...])`` instead: one broker message instead of one
    per item (a Celery send costs about half a millisecond of CPU, a tenth of a form post).

    Outside a batch, with ``CELERY_PUBLISH_COALESCE_SECONDS`` above zero (production and the
    demo), the id goes to this process's ``coalescer``: the ids of every request committed
    within that window go out as one ``batch_task`` message. Only for work a sweep finds
    again if the process dies with its buffer; others pass ``coalesce=False``."""
    group = _grouped.get()
    if group is not None:
        group.setdefault(batch_task, []).append(pk)
    elif coalesce and coalescer.window() > 0:
        transaction.on_commit(lambda: coalescer.add(batch_task, pk), robust=True)
    else:
        enqueue_on_commit(task, pk)


class Coalescer:
    """Ids for batch tasks, collected across the requests of one process and published by one
    background thread a short window after the first of them arrived.

    Losing the buffer (the process is killed) loses no work: the rows are committed, and the
    periodic sweeps (routing, outbound) pick up whatever no task was sent for. A forked child
    starts with an empty buffer and its own thread.
    """

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)
        atexit.register(self.flush)

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pending: dict[Any, list[int]] = {}
        self._thread: threading.Thread | None = None

    @staticmethod
    def window() -> float:
        from django.conf import settings

        if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
            return 0.0
        return float(getattr(settings, "CELERY_PUBLISH_COALESCE_SECONDS", 0.0))

    def add(self, batch_task: Any, pk: int) -> None:
        with self._lock:
            self._pending.setdefault(batch_task, []).append(pk)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="publish-coalescer", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(self.window())  # let the other requests of this window join
            self._wake.clear()
            self.flush()

    def flush(self) -> None:
        """Publish everything collected (the thread's work; also at exit)."""
        with self._lock:
            pending, self._pending = self._pending, {}
        for batch_task, pks in pending.items():
            try:
                batch_task.delay(pks)
            except Exception:
                logger.warning(
                    "Could not enqueue %s for %d ids; a sweep will pick the work up again.",
                    getattr(batch_task, "name", batch_task),
                    len(pks),
                    exc_info=True,
                )


coalescer = Coalescer()
