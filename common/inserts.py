"""Inserting several new rows of several models in one round trip.

Intake creates a case, its first contact and two audit events for every form post, Open311
POST and e-mail. Through ``Model.objects.create`` that is three statements, each built by the
ORM's compiler, and the compiler is most of a create's CPU. ``insert_together`` writes them as
one statement (on PostgreSQL: data-modifying CTEs, ``WITH a AS (INSERT ...), b AS (INSERT ...)
INSERT ...``), with values prepared by the fields themselves (``get_db_prep_save``), so types,
JSON and time zones are what the ORM would write.

The caller sets every primary key another row refers to (a preallocated id, see
``preallocated_id``). Foreign keys are ``DEFERRABLE INITIALLY DEFERRED`` on PostgreSQL, so the
order inside the statement does not matter. Model ``save()`` and signals are not called: the
house rule is that they do nothing anyway (STYLE.md, habit 2).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

from django.db import connection, models

_ID_BLOCK = 50
_id_lock = threading.Lock()
_free_ids: dict[str, list[int]] = {}


# A forked child (a Celery prefork worker, a benchmark's processes) must not use the ids its
# parent took: two processes would insert the same ones.
def _after_fork() -> None:
    global _id_lock
    _id_lock = threading.Lock()  # a lock held by another thread at the fork stays held
    _free_ids.clear()


os.register_at_fork(after_in_child=_after_fork)


def preallocated_id(model: type[models.Model]) -> int | None:
    """On PostgreSQL, the next id for a new row of ``model``, from a block this process took
    from the table's id sequence (one query per 50 rows), so that rows referring to it (and a
    reference number made from it) are written with it. Ids are then not in creation order
    across processes, and a block left over when a process ends is a gap: neither matters
    (ADR 0007). None elsewhere: the database assigns the id on insert."""
    if connection.vendor != "postgresql":
        return None
    table = model._meta.db_table
    with _id_lock:
        free = _free_ids.setdefault(table, [])
        if not free:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [table, _ID_BLOCK],
                )
                free.extend(sorted((row[0] for row in cursor.fetchall()), reverse=True))
        return free.pop()


def _values_sql(objs: Sequence[models.Model]) -> tuple[str, list[Any]]:
    meta = objs[0]._meta
    qn = connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if not (f.primary_key and objs[0].pk is None)]
    params: list[Any] = []
    rows = []
    for obj in objs:
        if type(obj) is not type(objs[0]) or (obj.pk is None) != (objs[0].pk is None):
            raise ValueError("one group holds rows of one model, all with or all without ids")
        params += [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
        rows.append("(" + ", ".join(["%s"] * len(fields)) + ")")
    columns = ", ".join(qn(f.column) for f in fields)
    return f"INSERT INTO {qn(meta.db_table)} ({columns}) VALUES {', '.join(rows)}", params  # noqa: S608 - names from the model


def insert_together(*groups: Sequence[models.Model]) -> None:
    """Insert each group (new instances of one model) in one statement on PostgreSQL, one
    statement per group elsewhere. The instances are marked saved; ids the database assigns
    are not read back (give an id to every row that needs one)."""
    groups = tuple(g for g in groups if g)
    if not groups:
        return
    parts = [_values_sql(group) for group in groups]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            *ctes, (last_sql, last_params) = parts
            sql = ", ".join(f"i{n} AS ({part_sql})" for n, (part_sql, _p) in enumerate(ctes))
            params = [p for _sql, part_params in ctes for p in part_params] + last_params
            cursor.execute(f"WITH {sql} {last_sql}" if ctes else last_sql, params)
        else:
            for part_sql, part_params in parts:
                cursor.execute(part_sql, part_params)
    for group in groups:
        for obj in group:
            obj._state.adding = False
            obj._state.db = connection.alias
