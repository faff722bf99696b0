"""Bulk-load row tuples: ``COPY ... FROM STDIN`` on PostgreSQL, chunked ``executemany`` elsewhere.

Table and column names come from the models' ``_meta``, never from literals. A column the
caller does not supply (say, one added to a model after this was written) gets the field's
default, so a NOT NULL column without a database default does not break the seed.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Sequence

from django.core.management.color import no_style
from django.db import connection, models, transaction

EXECUTEMANY_BATCH = 5000
Batch = list[tuple[type[models.Model], Sequence[str], list[tuple]]]


class BulkWriter:
    """Writes rows for a model given as tuples in the order of ``fields`` (model field names)."""

    def __init__(self) -> None:
        self.vendor = connection.vendor
        self.counts: dict[str, int] = {}
        self._plans: dict[tuple[type[models.Model], tuple[str, ...]], tuple[str, str, tuple]] = {}

    def _plan(self, model: type[models.Model], fields: Sequence[str]) -> tuple[str, str, tuple]:
        key = (model, tuple(fields))
        if key not in self._plans:
            qn = connection.ops.quote_name
            given = [model._meta.get_field(name) for name in fields]
            columns = [f.column for f in given]
            extra: list[object] = []
            for f in model._meta.concrete_fields:
                if f.name in fields or f.primary_key:
                    continue
                default = f.get_default()
                if isinstance(f, models.JSONField):
                    default = json.dumps(default)
                columns.append(f.column)
                extra.append(default)
            table = qn(model._meta.db_table)
            cols = ", ".join(qn(c) for c in columns)
            if self.vendor == "postgresql":
                sql = f"COPY {table} ({cols}) FROM STDIN"
            else:
                marks = ", ".join(["%s"] * len(columns))
                # Names come from the models' _meta, quoted; values go as parameters.
                sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"  # noqa: S608
            self._plans[key] = (model._meta.db_table, sql, tuple(extra))
        return self._plans[key]

    def write(self, model: type[models.Model], fields: Sequence[str], rows: list[tuple]) -> None:
        if not rows:
            return
        table, sql, extra = self._plan(model, fields)
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                # The Django cursor wraps a psycopg 3 cursor, which streams COPY data.
                with cursor.cursor.copy(sql) as copy:
                    write_row = copy.write_row
                    if extra:
                        for row in rows:
                            write_row(row + extra)
                    else:
                        for row in rows:
                            write_row(row)
            else:
                for start in range(0, len(rows), EXECUTEMANY_BATCH):
                    batch = rows[start : start + EXECUTEMANY_BATCH]
                    cursor.executemany(sql, [row + extra for row in batch] if extra else batch)
        self.counts[table] = self.counts.get(table, 0) + len(rows)


def next_id(model: type[models.Model]) -> int:
    """The id after the largest one in the table (ids are set by us, in the same insert)."""
    top = model.objects.aggregate(top=models.Max("pk"))["top"]
    return (top or 0) + 1


def reset_sequences(model_list: list[type[models.Model]]) -> None:
    """Point PostgreSQL's id sequences past the ids we wrote (SQLite needs nothing)."""
    statements = connection.ops.sequence_reset_sql(no_style(), model_list)
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


@transaction.atomic
def wipe(model_list: list[type[models.Model]]) -> None:
    """Empty these tables and every table that references them (TRUNCATE ... CASCADE on PG)."""
    tables = [m._meta.db_table for m in model_list]
    statements = connection.ops.sql_flush(
        no_style(), tables, reset_sequences=True, allow_cascade=True
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Rows written earlier in an enclosing transaction (a test) may still have deferred
            # foreign-key checks queued, and PostgreSQL refuses to TRUNCATE under them.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for sql in statements:
            cursor.execute(sql)
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def verify_references(model_list: list[type[models.Model]]) -> list[str]:
    """Foreign keys of these tables that point at nothing, as "table.column: n" (empty: all good)."""
    qn = connection.ops.quote_name
    problems = []
    with connection.cursor() as cursor:
        for model in model_list:
            for f in model._meta.concrete_fields:
                if not f.is_relation:
                    continue
                child, parent = model._meta.db_table, f.related_model._meta.db_table
                target = f.target_field.column
                # Names come from _meta, quoted; there are no values in this statement.
                cursor.execute(
                    f"SELECT count(*) FROM {qn(child)} c WHERE c.{qn(f.column)} IS NOT NULL "  # noqa: S608
                    f"AND NOT EXISTS (SELECT 1 FROM {qn(parent)} p WHERE p.{qn(target)} = c.{qn(f.column)})"
                )
                n = cursor.fetchone()[0]
                if n:
                    problems.append(f"{child}.{f.column}: {n}")
    return problems


def analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


class Sink:
    """Where batches go: written at once, or by a background thread on PostgreSQL.

    On PostgreSQL, outside any transaction, a second connection in a thread writes batch n
    while the caller generates batch n+1: the server does its index work on one core while
    Python builds rows on the other. Each batch is one transaction, tables in the order given
    (parents first). Inside a transaction (tests), or on SQLite, batches are written inline.
    """

    def __init__(self, out: BulkWriter) -> None:
        self.out = out
        self.background = connection.vendor == "postgresql" and not connection.in_atomic_block
        self.error: BaseException | None = None
        self.skipped_fk_triggers = False
        if self.background:
            self._queue: queue.Queue[Batch | None] = queue.Queue(maxsize=2)
            self._thread = threading.Thread(target=self._run, name="seed-writer", daemon=True)
            self._thread.start()

    def put(self, batch: Batch) -> None:
        if not self.background:
            self._write(batch)
            return
        while True:
            if self.error is not None:
                raise self.error
            try:
                self._queue.put(batch, timeout=0.5)
                return
            except queue.Full:
                continue

    def close(self) -> None:
        """Wait until everything is written; re-raise what went wrong in the writer."""
        if self.background:
            self.put(None)  # type: ignore[arg-type]
            self._thread.join()
            if self.error is not None:
                raise self.error

    def _write(self, batch: Batch) -> None:
        with transaction.atomic():
            for model, fields, rows in batch:
                self.out.write(model, fields, rows)

    def _skip_fk_triggers(self) -> None:
        """For this session only, skip the per-row foreign-key triggers if we may.

        Checking each of ~10 million references one by one is about 40 % of the server's work
        in a seed; ``session_replication_role = replica`` (what pg_dump's restores and logical
        replication use) skips them for this connection alone, and ``verify_references`` checks
        every reference set-wise afterwards. Only a superuser may set it; others keep the
        triggers and are merely slower.
        """
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            row = cursor.fetchone()
            if row and row[0]:
                cursor.execute("SET session_replication_role = replica")
                self.skipped_fk_triggers = True

    def _run(self) -> None:
        # This thread has its own Django connection (connections are per thread).
        try:
            self._skip_fk_triggers()
            while True:
                batch = self._queue.get()
                if batch is None:
                    return
                self._write(batch)
        except BaseException as exc:
            self.error = exc
            while True:  # unblock the producer; its next put() raises the error
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    return
        finally:
            connection.close()
