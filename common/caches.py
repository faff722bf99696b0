"""Small per-process caches with a time-to-live, for rows that almost never change and are
read on every intake (the contact-center department). Tests clear them between tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings

_lock = threading.Lock()
_entries: dict[str, tuple[float, Any]] = {}


def ttl_cached(key: str, seconds: float, load: Callable[[], Any]) -> Any:
    """``load()``'s value, reused for ``seconds`` in this process. A failing load is not cached.

    With ``settings.PROCESS_CACHES_DISABLED`` every call loads: the long-lived worker process
    of the integration tests sees the test database emptied and refilled between tests."""
    if getattr(settings, "PROCESS_CACHES_DISABLED", False):
        return load()
    now = time.monotonic()
    with _lock:
        hit = _entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
    value = load()
    with _lock:
        _entries[key] = (now + seconds, value)
    return value


def clear_process_caches() -> None:
    with _lock:
        _entries.clear()
