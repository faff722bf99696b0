#!/usr/bin/env python
"""Routing benchmark: N new cases routed by ``case_route_batch`` in forked worker processes.

    .venv/bin/python bench/routing.py --cases 20000 --processes 2 --out /tmp/cc_results.jsonl

Creates (or reuses) the PostgreSQL database ``cc_bench_route`` (``DATABASE_URL`` overrides),
migrates it and seeds the demo municipality with a small history when it has no contact center.
Then it creates ``--cases`` new cases the way intake does (a category from the demo's
categories for most, none for a tenth; the routing tasks they would enqueue are discarded), and
routes them in batches of ``--batch`` (what ``case_route_batch_task`` gets from an intake batch
or the sweep) spread over ``--processes`` forked processes, each with its own connection, as
two Celery worker processes would be. Everything routing does happens for real: rules, the
agreement and calendar lookups, the transition and its event, the hooks (planned escalations,
residents' notices as outbound rows) and the after-commit task sends, which go to Redis DB 14
(nobody consumes them; the queue is emptied afterwards).

One JSON line, workload ``routing``: ``cases_per_s`` over the wall time from the first fork to
the last process done, ``queries_per_case`` counted over one warm batch in the parent, and how
many cases went to triage, stayed at the contact center or were forwarded. The cases made by
the run are left routed in the database (``--cleanup`` deletes nothing else: the database is the
benchmark's own).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/cc_bench_route"
BROKER = "redis://127.0.0.1:6379/14"
os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
os.environ.setdefault("CELERY_BROKER_URL", BROKER)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactcenter.settings.dev")
os.environ["DJANGO_DEBUG"] = "0"

from _common import emit, env_facts  # noqa: E402


def ensure_database() -> None:
    url = os.environ["DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    exists = subprocess.run(
        ["psql", admin, "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not exists:
        subprocess.run(["psql", admin, "-qc", f'CREATE DATABASE "{name}"'], check=True)


def setup() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    from cases.models import Department

    call_command("migrate", verbosity=0)
    if not Department.objects.filter(is_contact_center=True).exists():
        print("seeding the demo municipality (small history)", file=sys.stderr)
        call_command("seed_demo", contacts=2000, years=1, reset=True)


def create_cases(n: int, seed: int) -> list[int]:
    """``n`` new cases as intake makes them, in transactions of 500; no routing task sent."""
    from django.db import transaction
    from django.utils import timezone

    from cases.choices import Channel
    from cases.models import Category
    from cases.services.actors import Actor
    from cases.services.cases import ContactInput, case_create_with_contact
    from common.transactions import collect_grouped_enqueues

    rng = random.Random(seed)
    categories = list(Category.objects.valid_on(timezone.localdate()).select_related("department"))
    channels = [Channel.EMAIL, Channel.ESERVICE, Channel.PHONE, Channel.LETTER]
    ids: list[int] = []
    for start in range(0, n, 500):
        with collect_grouped_enqueues() as group, transaction.atomic():
            for i in range(start, min(n, start + 500)):
                channel = rng.choice(channels)
                case, _contact = case_create_with_contact(
                    actor=Actor.resident(channel),
                    subject=f"Bench {i}",
                    contact=ContactInput(channel=channel),
                    category=None if rng.random() < 0.1 else rng.choice(categories),
                )
                ids.append(case.pk)
            group.clear()  # the routing tasks: this benchmark routes the cases itself
    return ids


def _route(chunks: list[list[int]], queue: Any) -> None:
    from django.db import connection

    connection.close()  # a forked child must not share the parent's connection
    from cases.services.routing import case_route_batch

    decisions: dict[str, int] = {}
    for chunk in chunks:
        for outcome in case_route_batch(case_ids=chunk):
            decisions[outcome.decision] = decisions.get(outcome.decision, 0) + 1
    queue.put(decisions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=20000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--label", default="")
    parser.add_argument("--out")
    args = parser.parse_args()

    ensure_database()
    setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cases.services.routing import case_route_batch

    facts = env_facts()
    print(f"creating {args.cases} new cases", file=sys.stderr)
    warm = create_cases(args.batch * 2, args.seed + 1)
    case_route_batch(case_ids=warm[: args.batch])  # warm: imports, caches, plans
    with CaptureQueriesContext(connection) as ctx:
        case_route_batch(case_ids=warm[args.batch :])
    queries_per_case = len(ctx.captured_queries) / args.batch
    ids = create_cases(args.cases, args.seed)
    chunks = [ids[i : i + args.batch] for i in range(0, len(ids), args.batch)]
    shares = [chunks[p :: args.processes] for p in range(args.processes)]
    connection.close()

    ctx_mp = multiprocessing.get_context("fork")
    queue = ctx_mp.Queue()
    print(f"routing over {args.processes} processes", file=sys.stderr)
    started = time.perf_counter()
    workers = [ctx_mp.Process(target=_route, args=(share, queue)) for share in shares]
    for w in workers:
        w.start()
    results = [queue.get() for _ in workers]
    for w in workers:
        w.join()
    seconds = time.perf_counter() - started

    decisions: dict[str, int] = {}
    for result in results:
        for key, value in result.items():
            decisions[key] = decisions.get(key, 0) + value
    routed = sum(decisions.values())
    import redis

    redis.Redis.from_url(os.environ["CELERY_BROKER_URL"]).flushdb()
    emit(
        {
            **facts,
            "workload": "routing",
            "label": args.label,
            "n_cases": args.cases,
            "routed": routed,
            "processes": args.processes,
            "batch": args.batch,
            "decisions": decisions,
            "seconds_total": round(seconds, 3),
            "cases_per_s": round(routed / seconds, 1),
            "queries_per_case": round(queries_per_case, 2),
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
        args.out,
    )


if __name__ == "__main__":
    main()
