"""Transaction-scoped advisory locks on PostgreSQL (a no-op elsewhere)."""

from __future__ import annotations

import hashlib

from django.db import connection


def advisory_xact_lock(key: str) -> None:
    """Hold a lock named ``key`` until the current transaction ends (PostgreSQL only).

    For find-or-create on values that cannot carry a unique constraint (several residents may
    share an e-mail address). On SQLite, writers are serialised by the database itself.
    """
    if connection.vendor != "postgresql":
        return
    number = int.from_bytes(
        hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [number])
