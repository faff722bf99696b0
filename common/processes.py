"""Stopping a Celery worker we started as a child process (the embedded launcher, the tests)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess


def stop_process_group(process: subprocess.Popen, *, timeout: float) -> None:  # type: ignore[type-arg]
    """SIGTERM (Celery's warm shutdown: finish the task at hand), then SIGKILL to the whole
    process group if it has not exited within ``timeout`` seconds. The child must have been
    started with ``start_new_session=True`` so that its group is its own."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
