#!/usr/bin/env python
"""Intake benchmark: e-mail end to end, Open311 POST and e-service POST over HTTP.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cc_bench .venv/bin/python bench/intake.py \\
        --out /tmp/cc_results.jsonl

Workloads (one JSON line each, in the shape of ../shared/bench/peer_helpdesk/):

- ``intake_email``: N raw e-mails (generated; a tenth with a PDF attachment, a fifth from
  senders already known) taken through the pipeline as production runs it (ADR 0015): each
  fetch of ``--email-batch`` mails recorded as the IMAP poller records it (one transaction),
  then processed by ``inbound_process_batch`` (one transaction): parse, resident, case,
  contact, receipt row. The fetches are spread over ``--email-processes`` forked processes
  (default 2, the machine's cores; the JSON line says ``processes``). ``--email-mode single``
  measures one message per transaction instead (``inbound_record`` + ``inbound_process``, as
  ``ingest_email`` does). Celery tasks the receipts enqueue go to Redis DB 14 (nobody
  consumes them here; the queue is emptied afterwards). ``queries_per_message`` and
  ``commits_per_message`` are counted over one warm fetch. With ``--only email`` only the
  rows the run created are deleted afterwards (other processes may be writing meanwhile).
- ``intake_open311_http`` and ``intake_eservice_http``: N creating POSTs over real HTTP to
  gunicorn on 127.0.0.1 with production settings and its production configuration
  (``gunicorn.conf.py``: 3 ``gthread`` workers, 2 threads each, keep-alive), from clients at
  each ``--concurrency``. Client, gunicorn and PostgreSQL share the machine's cores, as in the
  peer's ``intake_api_http``. ``queries_per_create`` is counted in-process on one warm POST
  (all captured statements, as the peer counts; ``data_statements_per_create`` without
  BEGIN/COMMIT/savepoints; both also ``_with_email``, where the reporter's e-mail adds the
  resident lookup). ``--clients python`` (default) is the peer's client (Python requests in
  threads, ~2.5 ms of CPU per POST on the same cores); ``--clients wrk`` drives the same
  workload with ``wrk`` and ``bench/wrk/<workload>.lua`` (unique bodies, ~0.2 ms per POST).
  ``--worker-class gthread --threads N``, ``--preload``, ``--keepalive`` configure gunicorn.
  Each line also has ``cpu_ms_per_request`` (gunicorn, PostgreSQL, client, other: read from
  /proc) and ``cpu_busy_pct_of_2_cores``, so a run on a busy machine shows as such.

Run it on the seeded ``cc_bench`` database (``bench/seed.py``) so that the tables have a big
city's volume. Cases created by the run are deleted at the end (``--keep`` keeps them).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/cc_bench"
BROKER = "redis://127.0.0.1:6379/14"

os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
os.environ.setdefault("CELERY_BROKER_URL", BROKER)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactcenter.settings.dev")
os.environ["DJANGO_DEBUG"] = "0"


def setup() -> None:
    import django

    django.setup()


# --- Data ------------------------------------------------------------------------------------
SUBJECTS = [
    "Soptunnan tömdes inte",
    "Gatlampan är släckt",
    "Fråga om bygglov för altan",
    "Vattenläcka på gatan",
    "Snöröjning saknas",
    "Faktura för förskola",
]


def pick_category() -> Any:
    """A public, non-sensitive category valid today, with the fewest required fields."""
    from django.db.models import Count, Q
    from django.utils import timezone

    from cases.models import Category

    qs = (
        Category.objects.valid_on(timezone.localdate())
        .filter(sensitive=False)
        .annotate(required=Count("fields", filter=Q(fields__required=True)))
        .order_by("required", "code")
    )
    category = qs.first()
    if category is None:
        sys.exit("no category: seed the database first (bench/seed.py)")
    return category


def field_values(category: Any) -> dict[str, str]:
    """A valid value for each required extra field, by kind."""
    values: dict[str, str] = {}
    for field in category.fields.filter(required=True):
        kind = field.kind
        if kind in ("choice", "multichoice"):
            values[field.code] = field.choices[0]["key"]
        elif kind == "yesno":
            values[field.code] = "true"
        elif kind == "number":
            values[field.code] = "3"
        elif kind == "date":
            values[field.code] = datetime.date.today().isoformat()
        elif kind == "location":
            values[field.code] = "59.3293,18.0686"
        elif kind != "attachment":
            values[field.code] = "Bänk vid lekplatsen"
    return values


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def make_mail(i: int, run: str, sender_prefix: str = "boende") -> bytes:
    msg = EmailMessage()
    sender = f"{sender_prefix}{i % 5000 if i % 5 else i}@example.se"
    msg["From"] = f"Boende {i} <{sender}>"
    msg["To"] = "kontakt@exempelstad.se"
    msg["Subject"] = f"{SUBJECTS[i % len(SUBJECTS)]} – Storgatan {i % 90 + 1}"
    msg["Date"] = format_datetime(datetime.datetime.now(datetime.UTC))
    msg["Message-ID"] = make_msgid(idstring=f"{run}.{i}", domain="mail.example.se")
    msg.set_content(
        "Hej!\n\nJag vill anmäla att "
        + SUBJECTS[i % len(SUBJECTS)].lower()
        + f" vid Storgatan {i % 90 + 1}. Det har varit så i en vecka.\n\nMvh\nBoende {i}\n"
    )
    if i % 10 == 0:
        msg.add_attachment(PDF, maintype="application", subtype="pdf", filename=f"bild-{i}.pdf")
    return msg.as_bytes()


# --- Helpers ----------------------------------------------------------------------------------
def n_cases() -> int:
    from cases.models import Case

    return Case.objects.count()


def max_case_id() -> int:
    from django.db.models import Max

    from cases.models import Case

    return Case.objects.aggregate(m=Max("id"))["m"] or 0


def cleanup(after_id: int, inbound_after: int) -> None:
    """Delete what the run created (cases above ``after_id`` and their rows)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "DELETE FROM channels_app_inboundattachment WHERE message_id > %s", [inbound_after]
        )
        cur.execute("DELETE FROM channels_app_inboundmessage WHERE id > %s", [inbound_after])
        cur.execute("DELETE FROM channels_app_outboundmessage WHERE case_id > %s", [after_id])
        cur.execute("DELETE FROM cases_caseevent WHERE case_id > %s", [after_id])
        cur.execute("DELETE FROM cases_contact WHERE case_id > %s", [after_id])
        cur.execute("DELETE FROM cases_case WHERE id > %s", [after_id])


def cleanup_email(inbound_after: int) -> None:
    """Delete exactly what the e-mail workload created (its inbound rows on ``email:bench``
    and their cases), leaving alone rows other processes write to the database meanwhile."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE bench_cases ON COMMIT DROP AS SELECT DISTINCT case_id AS id "
            "FROM channels_app_inboundmessage WHERE id > %s AND source = 'email:bench' "
            "AND case_id IS NOT NULL",
            [inbound_after],
        )
        cur.execute(
            "DELETE FROM channels_app_inboundattachment WHERE message_id IN (SELECT id FROM "
            "channels_app_inboundmessage WHERE id > %s AND source = 'email:bench')",
            [inbound_after],
        )
        cur.execute(
            "DELETE FROM channels_app_inboundmessage WHERE id > %s AND source = 'email:bench'",
            [inbound_after],
        )
        for table in ("channels_app_outboundmessage", "cases_caseevent", "cases_contact"):
            cur.execute(f"DELETE FROM {table} WHERE case_id IN (SELECT id FROM bench_cases)")
        cur.execute("DELETE FROM cases_case WHERE id IN (SELECT id FROM bench_cases)")


def max_inbound_id() -> int:
    from django.db.models import Max

    from channels_app.models import InboundMessage

    return InboundMessage.objects.aggregate(m=Max("id"))["m"] or 0


def flush_broker() -> None:
    import redis

    with contextlib.suppress(redis.RedisError):
        redis.Redis.from_url(BROKER).flushdb()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- E-mail -----------------------------------------------------------------------------------
def _email_worker(
    mails: list[bytes], source: str, batch: int, single: bool, out: Any = None
) -> dict[str, Any]:
    """Record and process ``mails`` as production does: with ``single`` one message at a time
    (``inbound_record`` + ``inbound_process``, two commits each, as ``ingest_email`` does);
    otherwise a fetch at a time, as the IMAP poller records it (``inbound_record_many``, one
    transaction) and the worker's batch task processes it (``inbound_process_batch``, one
    transaction). Each message's latency is that of its whole batch (it is committed with it)."""
    from channels_app import intake
    from channels_app.email.parse import external_id_for

    samples: list[float] = []
    statuses: dict[str, int] = {}
    if single:
        for raw in mails:
            t = time.perf_counter()
            message, _ = intake.inbound_record(
                channel="email",
                source=source,
                external_id=external_id_for(raw),
                raw=raw,
                process=False,
            )
            result = intake.inbound_process(message_id=message.pk)
            samples.append((time.perf_counter() - t) * 1000)
            status = result.status if result else "none"
            statuses[status] = statuses.get(status, 0) + 1
    else:
        for start in range(0, len(mails), batch):
            chunk = mails[start : start + batch]
            t = time.perf_counter()
            ids, _known = intake.inbound_record_many(
                channel="email",
                source=source,
                items=[(external_id_for(raw), raw) for raw in chunk],
                process=False,
            )
            done = intake.inbound_process_batch(message_ids=ids)
            ms = (time.perf_counter() - t) * 1000
            samples += [ms] * len(chunk)
            for message in done:
                statuses[message.status] = statuses.get(message.status, 0) + 1
            statuses["none"] = statuses.get("none", 0) + len(chunk) - len(done)
            if not statuses["none"]:
                del statuses["none"]
    result = {"samples": samples, "statuses": statuses}
    if out is not None:
        out.put(result)
    return result


def _email_in_processes(
    mails: list[bytes], source: str, batch: int, single: bool, processes: int
) -> tuple[float, dict[str, Any]]:
    """Split the mails over ``processes`` forked worker processes (each its own connection,
    as separate Celery worker processes would be); the wall time from start to the last."""
    import multiprocessing

    from django.db import connections

    if processes == 1:
        started = time.perf_counter()
        result = _email_worker(mails, source, batch, single)
        return time.perf_counter() - started, result
    connections.close_all()  # the children open their own
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    # Whole fetches per process, as the poller hands out one batch task per fetch.
    chunks = [mails[i : i + batch] for i in range(0, len(mails), batch)]
    shares = [[m for chunk in chunks[k::processes] for m in chunk] for k in range(processes)]
    workers = [
        ctx.Process(target=_email_worker, args=(share, source, batch, single, queue))
        for share in shares
    ]
    started = time.perf_counter()
    for w in workers:
        w.start()
    results = [queue.get() for _ in workers]
    seconds = time.perf_counter() - started
    for w in workers:
        w.join()
    merged: dict[str, Any] = {"samples": [], "statuses": {}}
    for r in results:
        merged["samples"] += r["samples"]
        for k, v in r["statuses"].items():
            merged["statuses"][k] = merged["statuses"].get(k, 0) + v
    return seconds, merged


def bench_email(args: argparse.Namespace, facts: dict[str, Any]) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from channels_app.models import InboundStatus, Mailbox

    category = pick_category()
    mailbox, _ = Mailbox.objects.update_or_create(
        name="bench", defaults={"address": "kontakt@exempelstad.se", "default_category": category}
    )
    source = f"email:{mailbox.name}"
    single = args.email_mode == "single"
    batch = 1 if single else args.email_batch
    run = secrets.token_hex(4)
    # Warm-up fetch (caches, the id block), then one counted fetch, then the measured ones.
    # (Their own senders: a receipt to a measured sender would block its receipt for 24 h.)
    warm = [make_mail(i, run + "w", "uppvarmning") for i in range(batch)]
    counted = [make_mail(i, run + "q", "raknad") for i in range(batch)]
    mails = [make_mail(i, run) for i in range(args.email_n)]
    _email_worker(warm, source, batch, single)
    before = n_cases()
    with CaptureQueriesContext(connection) as ctx:
        _email_worker(counted, source, batch, single)
    statements = [q["sql"] for q in ctx.captured_queries]
    queries = len(statements) / len(counted)
    commits = sum(1 for q in statements if q.strip().upper() == "COMMIT") / len(counted)

    seconds, result = _email_in_processes(mails, source, batch, single, args.email_processes)
    samples, statuses = result["samples"], result["statuses"]
    from _common import latency

    return {
        **facts,
        "workload": "intake_email",
        "n_tickets": before,
        "messages": args.email_n,
        "statuses": statuses,
        "cases_created": n_cases() - before - len(counted),
        "seconds": round(seconds, 2),
        "messages_per_s": round(args.email_n / seconds, 1),
        "tickets_per_s": round(args.email_n / seconds, 1),
        "latency": latency(samples),
        "queries_per_message": round(queries, 2),
        "commits_per_message": round(commits, 3),
        "processed_ok": statuses.get(InboundStatus.PROCESSED, 0) == args.email_n,
        "mode": args.email_mode,
        "batch_size": batch,
        "processes": args.email_processes,
        "method": (
            "in-process, sequential: inbound_record + inbound_process per raw message "
            "(parse, resident, case, contact, receipt row; receipt task enqueued to Redis)"
            if single
            else "as production: each fetch of batch_size raw messages recorded as the IMAP "
            "poller does (inbound_record_many, one transaction), then processed by "
            "inbound_process_batch (one transaction, a savepoint per message: parse, resident, "
            "case, contact, receipt row; receipt tasks enqueued to Redis); fetches spread "
            "over `processes` forked worker processes; latency of a message = its fetch's"
        ),
    }


# --- HTTP -------------------------------------------------------------------------------------
class Gunicorn:
    """gunicorn on 127.0.0.1 with production settings. ``worker_class`` sync (one request at a
    time per process, no keep-alive) or gthread (``threads`` per process, keep-alive for
    ``keepalive`` seconds; production's default); ``preload`` imports the project once in the
    master."""

    def __init__(
        self,
        workers: int,
        *,
        worker_class: str = "sync",
        threads: int = 1,
        preload: bool = False,
        keepalive: int = 2,
    ) -> None:
        self.workers, self.worker_class, self.threads = workers, worker_class, threads
        self.preload, self.keepalive = preload, keepalive
        self.port = free_port()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "contactcenter.settings.production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DATABASE_CONN_MAX_AGE": "60",
            "ESERVICE_RATE_LIMIT_PER_HOUR": "100000000",
            "DJANGO_LOG_LEVEL": "WARNING",
        }
        self.log_path = Path(tempfile.gettempdir()) / "cc_bench_gunicorn.log"
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "contactcenter.wsgi",
                "-w",
                str(workers),
                "-b",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                "--worker-class",
                worker_class,
                "--threads",
                str(threads),
                "--keep-alive",
                str(keepalive),
                *(["--preload"] if preload else []),
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.5),
            ):
                break
            time.sleep(0.2)
        else:
            self.stop()
            sys.exit(f"gunicorn did not start: see {self.log_path}")
        time.sleep(1.0)  # let every worker import the project

    def describe(self) -> dict[str, Any]:
        return {
            "gunicorn_workers": self.workers,
            "gunicorn_worker_class": self.worker_class,
            "gunicorn_threads": self.threads,
            "gunicorn_preload": self.preload,
            "gunicorn_keepalive_s": self.keepalive if self.worker_class != "sync" else 0,
        }

    def stop(self) -> None:
        self.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=15)
        self.log.close()


def run_clients(
    url: str, bodies: list[dict[str, str]], concurrency: int
) -> tuple[float, list[float], list[str]]:
    import requests

    samples: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    chunks = [bodies[i::concurrency] for i in range(concurrency)]

    def client(chunk: list[dict[str, str]]) -> None:
        with requests.Session() as session:
            for body in chunk:
                t = time.perf_counter()
                try:
                    r = session.post(url, data=body, allow_redirects=False, timeout=30)
                    ok = r.status_code in (200, 302, 303)
                    kind = "" if ok else f"HTTP {r.status_code}"
                except requests.RequestException as exc:
                    kind = type(exc).__name__
                with lock:
                    samples.append((time.perf_counter() - t) * 1000)
                    if kind:
                        errors.append(kind)

    threads = [threading.Thread(target=client, args=(c,)) for c in chunks]
    started = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return time.perf_counter() - started, samples, errors


def open311_bodies(n: int, key: str, category: Any, values: dict[str, str]) -> list[dict[str, str]]:
    run = secrets.token_hex(4)
    bodies = []
    for i in range(n):
        body = {
            "api_key": key,
            "service_code": category.code,
            "lat": f"{59.3 + (i % 100) / 1000:.4f}",
            "long": f"{18.0 + (i % 77) / 1000:.4f}",
            "description": f"{SUBJECTS[i % len(SUBJECTS)]} ({run}-{i})",
        }
        if i % 3 == 0:
            body["email"] = f"rapportor{i % 700}@example.se"
        for code, value in values.items():
            body[f"attribute[{code}]"] = value
        bodies.append(body)
    return bodies


def eservice_bodies(n: int, values: dict[str, str]) -> list[dict[str, str]]:
    bodies = []
    for i in range(n):
        body = {
            "token": secrets.token_urlsafe(24),
            "description": f"{SUBJECTS[i % len(SUBJECTS)]} vid Storgatan {i % 90 + 1}.",
            "name": f"Boende {i}",
            "email": f"eboende{i % 900}@example.se" if i % 2 else "",
            "contact_preference": "email" if i % 2 else "",
        }
        for code, value in values.items():
            body[f"f-{code}"] = value
        bodies.append(body)
    return bodies


# --- CPU accounting (Linux /proc): where the machine's two cores go during a run -------------
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_cpu(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds; 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _pids(match: Any) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            comm = stat[stat.index("(") + 1 : stat.rindex(")")]
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if match(int(entry), comm, ppid):
                out.append(int(entry))
    return out


def _machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot (/proc/stat)."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / _TICK, sum(values) / _TICK


class CpuAccount:
    """CPU seconds used by gunicorn (master and workers), PostgreSQL (every postgres process)
    and the client between ``start()`` and ``stop()``, and the machine's total busy time (the
    rest is other work on the machine: this process, other users)."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid

    def _server(self) -> list[int]:
        return [self.server_pid, *_pids(lambda pid, comm, ppid: ppid == self.server_pid)]

    def _postgres(self) -> list[int]:
        return _pids(lambda pid, comm, ppid: comm.startswith("postgres"))

    def _snapshot(self) -> dict[str, Any]:
        import resource

        return {
            "server": {pid: _proc_cpu(pid) for pid in self._server()},
            "postgres": {pid: _proc_cpu(pid) for pid in self._postgres()},
            "self": time.process_time(),
            "children": resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
            + resource.getrusage(resource.RUSAGE_CHILDREN).ru_stime,
            "machine": _machine_busy(),
            "wall": time.perf_counter(),
        }

    def start(self) -> None:
        self.before = self._snapshot()

    def stop(self, *, client: str, requests: int) -> dict[str, Any]:
        after = self._snapshot()

        def delta(kind: str) -> float:
            return sum(v - self.before[kind].get(pid, 0.0) for pid, v in after[kind].items())

        client_s = (
            after["self"] - self.before["self"]
            if client == "python"
            else after["children"] - self.before["children"]
        )
        busy = after["machine"][0] - self.before["machine"][0]
        wall = after["wall"] - self.before["wall"]
        parts = {"gunicorn": delta("server"), "postgres": delta("postgres"), "client": client_s}
        parts["other"] = max(0.0, busy - sum(parts.values()))
        per = max(requests, 1)
        return {
            "cpu_ms_per_request": {k: round(v * 1000 / per, 2) for k, v in parts.items()},
            "cpu_busy_pct_of_2_cores": round(100 * busy / (wall * (os.cpu_count() or 1)), 1),
        }


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


def count_queries(path: str, body: dict[str, str]) -> dict[str, int]:
    """Statements of one warm creating POST, in-process (django.test.Client): ``all`` as
    captured (the peer's count), ``data`` without transaction control (BEGIN, COMMIT,
    savepoints)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    warm = {**body, "description": body["description"] + " warm"}
    if "token" in body:
        warm["token"] = secrets.token_urlsafe(24)
    form = "application/x-www-form-urlencoded"  # what Open311 requires; the form takes it too
    first = client.post(path, urlencode(warm), content_type=form)
    with CaptureQueriesContext(connection) as ctx:
        second = client.post(path, urlencode(body), content_type=form)
    if first.status_code >= 400 or second.status_code >= 400:
        sys.exit(
            f"the query-count POST to {path} failed: {second.status_code} {second.content[:300]!r}"
        )
    statements = [q["sql"] for q in ctx.captured_queries]
    data = [q for q in statements if not q.startswith(TRANSACTION_CONTROL)]
    return {"all": len(statements), "data": len(data)}


def query_facts(path: str, anonymous: dict[str, str], with_email: dict[str, str]) -> dict[str, Any]:
    """Queries per create for a POST without and with a reporter's e-mail (resident lookup)."""
    plain, known = count_queries(path, anonymous), count_queries(path, with_email)
    return {
        "queries_per_create": plain["all"],
        "data_statements_per_create": plain["data"],
        "queries_per_create_with_email": known["all"],
        "data_statements_per_create_with_email": known["data"],
    }


def created_since(source: str, after_inbound: int) -> int:
    """Cases this run made: its processed inbound records (by source, above an id). Not a
    count of all cases: other work on a shared database (another benchmark creating or cleaning
    up cases) would otherwise be counted in, or out."""
    from channels_app.models import InboundMessage, InboundStatus

    return InboundMessage.objects.filter(
        pk__gt=after_inbound, source=source, status=InboundStatus.PROCESSED, case__isnull=False
    ).count()


WRK_DIR = ROOT / "bench" / "wrk"


def run_wrk(
    url: str, which: str, script_args: list[str], connections: int, seconds: int, threads: int
) -> dict[str, Any]:
    """wrk (C, event loop: a small share of the CPU the server needs) with a Lua script that
    makes every POST unique; wrk's JSON summary line (bench/wrk/common.lua)."""
    import json
    import shutil

    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    command = [
        "wrk",
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "30s",
        "-s",
        str(WRK_DIR / f"{which}.lua"),
        url,
        "--",
        *script_args,
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT).stdout
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if not lines:
        sys.exit(f"wrk printed no summary:\n{out}")
    return json.loads(lines[-1])


def _wrk_args(which: str, key: str, category: Any, values: dict[str, str]) -> list[str]:
    run = secrets.token_hex(4)
    if which == "open311":
        extra = [urlencode({f"attribute[{c}]": v}) for c, v in values.items()]
        return [key, category.code, run, *extra]
    return [run, *[urlencode({f"f-{c}": v}) for c, v in values.items()]]


def warm_up(url: str, bodies: list[dict[str, str]]) -> None:
    """Like the peer: a few POSTs first so that every worker has imported everything and holds
    its database connection (and the caches are filled)."""
    import requests

    with requests.Session() as session:
        for body in bodies:
            r = session.post(url, data=body, allow_redirects=False, timeout=60)
            if r.status_code not in (200, 303):
                sys.exit(f"warm-up POST failed: {r.status_code} {r.text[:300]}")


def bench_http(args: argparse.Namespace, facts: dict[str, Any], which: str) -> list[dict[str, Any]]:
    from _common import latency

    from channels_app.open311.services import open311_client_create

    category = pick_category()
    values = field_values(category)
    key = ""
    if which == "open311":
        from channels_app.models import Open311Client

        Open311Client.objects.filter(name="bench").delete()
        _, key = open311_client_create(name="bench", description="bench/intake.py")
        path = "/open311/v2/requests.json"
        make = lambda n: open311_bodies(n, key, category, values)  # noqa: E731
        sample = make(3)
        anonymous, with_email = sample[1], sample[0]
        source = f"open311:{Open311Client.objects.get(name='bench').pk}"
    else:
        path = f"/e/{category.code}/"
        make = lambda n: eservice_bodies(n, values)  # noqa: E731
        sample = make(2)
        anonymous, with_email = sample[0], sample[1]
        source = f"eservice:{category.code}"
    queries = query_facts(path, anonymous, with_email)
    server = Gunicorn(
        args.workers,
        worker_class=args.worker_class,
        threads=args.threads,
        preload=args.preload,
        keepalive=args.keepalive,
    )
    url = f"http://127.0.0.1:{server.port}{path}"
    common = {
        **facts,
        "workload": f"intake_{which}_http",
        **server.describe(),
        **queries,
        "url": f"POST http://127.0.0.1:<port>{path}",
    }
    lines = []
    try:
        warm_up(url, make(4 * args.workers))
        for client in args.clients:
            for concurrency in args.concurrency:
                before = n_cases()
                after_inbound = max_inbound_id()
                account = CpuAccount(server.process.pid)
                account.start()
                if client == "python":
                    bodies = make(args.http_n)
                    seconds, samples, errors = run_clients(url, bodies, concurrency)
                    created = created_since(source, after_inbound)
                    line = {
                        "n_tickets": before,
                        "requests": len(bodies),
                        "tickets_created": created,
                        "errors": len(errors),
                        "error_kinds": sorted(set(errors)),
                        "concurrency": concurrency,
                        "seconds": round(seconds, 2),
                        "tickets_per_s": round(created / seconds, 1),
                        "latency": latency(samples),
                        "client": "python-requests",
                        "method": "python requests in threads against gunicorn on the same "
                        "2-core machine (client, server and PostgreSQL share the CPUs); "
                        "peer-comparable",
                    }
                else:
                    summary = run_wrk(
                        url,
                        which,
                        _wrk_args(which, key, category, values),
                        concurrency,
                        args.wrk_seconds,
                        args.wrk_threads,
                    )
                    created = created_since(source, after_inbound)
                    seconds = summary["duration_us"] / 1e6
                    errors = summary["bad_status"] + sum(summary["socket_errors"].values())
                    lat = summary["latency_us"]
                    line = {
                        "n_tickets": before,
                        "requests": summary["wrk_requests"],
                        "tickets_created": created,
                        "errors": errors,
                        "error_kinds": [k for k, v in summary["socket_errors"].items() if v]
                        + (["HTTP status"] if summary["bad_status"] else []),
                        "concurrency": concurrency,
                        "seconds": round(seconds, 2),
                        "tickets_per_s": round(created / seconds, 1),
                        "latency": {
                            "p50_ms": round(lat["p50"] / 1000, 2),
                            "p95_ms": round(lat["p95"] / 1000, 2),
                            "p99_ms": round(lat["p99"] / 1000, 2),
                            "mean_ms": round(lat["mean"] / 1000, 2),
                            "max_ms": round(lat["max"] / 1000, 2),
                            "samples": summary["wrk_requests"],
                        },
                        "client": "wrk",
                        "method": f"wrk ({min(args.wrk_threads, concurrency)} threads, "
                        f"{concurrency} connections, {args.wrk_seconds} s, Lua script "
                        "bench/wrk/" + which + ".lua: unique bodies) against gunicorn on the "
                        "same 2-core machine; not the peer's client",
                    }
                line.update(account.stop(client=client, requests=line["requests"]))
                lines.append({**common, **line})
                print(
                    f"[intake] {which} {client} c={concurrency} {server.describe()}: "
                    f"{line['tickets_per_s']} cases/s, p50 {line['latency']['p50_ms']} ms, "
                    f"p95 {line['latency']['p95_ms']} ms, errors {line['errors']}, "
                    f"CPU ms/request {line['cpu_ms_per_request']}, "
                    f"busy {line['cpu_busy_pct_of_2_cores']} %",
                    file=sys.stderr,
                )
    finally:
        server.stop()
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default="email,open311,eservice")
    parser.add_argument("--email-n", type=int, default=2000)
    parser.add_argument(
        "--email-mode",
        choices=("batch", "single"),
        default="batch",
        help="batch: as the IMAP poller and the batch task; single: one message per transaction",
    )
    parser.add_argument("--email-batch", type=int, default=50, help="messages per fetch/batch")
    parser.add_argument("--email-processes", type=int, default=2)
    parser.add_argument("--http-n", type=int, default=2000)
    parser.add_argument("--concurrency", default="1,4,8")
    # Defaults: gunicorn as production runs it (gunicorn.conf.py, WEB_CONCURRENCY=3).
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--worker-class", default="gthread", choices=["sync", "gthread"])
    parser.add_argument("--threads", type=int, default=2, help="threads per gthread worker")
    parser.add_argument("--preload", action="store_true")
    parser.add_argument("--keepalive", type=int, default=5, help="seconds (gthread only)")
    parser.add_argument(
        "--clients", default="python", help="python (peer-comparable), wrk, or python,wrk"
    )
    parser.add_argument("--wrk-seconds", type=int, default=15)
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--label", default=None)
    parser.add_argument("--out", default=None)
    parser.add_argument("--keep", action="store_true", help="keep the cases the run created")
    args = parser.parse_args()
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    args.clients = args.clients.split(",")
    setup()
    from _common import emit, env_facts
    from django.utils import timezone

    facts = env_facts()
    after_case, after_inbound = max_case_id(), max_inbound_id()
    only = set(args.only.split(","))
    try:
        lines: list[dict[str, Any]] = []
        if "email" in only:
            lines.append(bench_email(args, facts))
            emit(
                {
                    **lines[-1],
                    "ts": timezone.now().isoformat(),
                    **({"label": args.label} if args.label else {}),
                },
                args.out,
            )
        for which in ("open311", "eservice"):
            if which in only:
                for line in bench_http(args, facts, which):
                    emit(
                        {
                            **line,
                            "ts": timezone.now().isoformat(),
                            **({"label": args.label} if args.label else {}),
                        },
                        args.out,
                    )
    finally:
        flush_broker()
        if not args.keep and only == {"email"}:
            cleanup_email(after_inbound)
        elif not args.keep:
            cleanup(after_case, after_inbound)
            from django.db import connection

            with connection.cursor() as cur:
                cur.execute(
                    "ANALYZE cases_case, cases_contact, cases_caseevent, channels_app_inboundmessage"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
