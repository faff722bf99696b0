"""Integration tests share one Celery worker for the whole session (tests/conftest.py).

Cases a test creates in its own process would be routed by that worker at a moment the test
does not control (a `new` case opened or forwarded under its feet), so routing tasks published
from the test process are recorded instead of sent. Tests that are about routing start their
own workers and create their cases in a subprocess (test_reliability.py), which this does not
touch.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _routing_stays_in_the_test(routing_deferred: list[list[int]]) -> list[list[int]]:
    return routing_deferred
