#!/usr/bin/env python
"""Workspace benchmark: the work-queue page and the case view on a city-sized database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cc_bench .venv/bin/python bench/workspace.py \\
        --out bench/results/workspace.jsonl

Run it on the seeded ``cc_bench`` database (``bench/seed.py --contacts 1250000`` gives about
a million cases). Workloads, one JSON line each, named like the peer's
(``../shared/bench/peer_helpdesk/bench.py``):

- ``agent_queue``: ``/cases/queue/`` for each queue of a contact-center agent (the contact
  center's queue, triage, waiting, close to deadline, their own cases) and of a department
  handler (the department desk): the whole page, tabs with counts, filters and 25 rows. The
  line's ``total`` is the contact center's queue; ``queues`` has every queue's figures.
- ``case_view``: ``/cases/<reference>/`` of a case with 50 timeline entries (its contact,
  notes, transitions), as its agent sees it: resident panel, other cases, reply form.

Like the peer: ``django.test.Client`` in-process with a logged-in user (no network, no static
files), latency = the wall time of ``client.get()``, ``--warmup`` unmeasured requests first,
then ``--reps`` measured ones; queries counted on one extra request.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cc_bench")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactcenter.settings.dev")
os.environ["DJANGO_DEBUG"] = "0"

from _common import emit, env_facts, latency  # noqa: E402


def measure(client: Any, url: str, warmup: int, reps: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        assert client.get(url).status_code == 200, url
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, url
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    return {
        **latency(times),
        "queries": len(ctx.captured_queries),
        "bytes": len(response.content),
        "rows": response.content.decode().count("data-ref="),
        "url": url,
    }


def case_with_timeline(agent: Any, entries: int = 50) -> Any:
    """An open case at the contact center with ``entries`` timeline entries and a resident
    with history (made once; found again on the next run by its subject)."""
    from cases.models import Case, CaseEvent, Resident
    from cases.services.actors import Actor
    from cases.services.cases import ContactInput, case_add_note, case_create
    from cases.services.transitions import case_open

    subject = f"Benchmark: a case with {entries} timeline entries"
    case = Case.objects.filter(subject=subject).first()
    if case is not None:
        return case
    resident = Resident.objects.filter(cases__isnull=False).order_by("pk").first()
    case = case_create(
        actor=Actor.staff(agent),
        subject=subject,
        contact=ContactInput(channel="phone"),
        resident=resident,
    )
    case_open(actor=Actor.staff(agent), case_id=case.pk)
    while CaseEvent.objects.filter(case=case).count() < entries:
        case_add_note(actor=Actor.staff(agent), case_id=case.pk, text="Ringde upp, inget svar.")
    return case


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--label", default="")
    parser.add_argument("--out")
    args = parser.parse_args()

    import django

    django.setup()
    from django.test import Client
    from django.test.utils import setup_test_environment

    from accounts.models import Role, User
    from cases.models import Case, CaseEvent
    from cases.selectors import queues_for

    setup_test_environment()  # "testserver" in ALLOWED_HOSTS for the in-process client
    facts = env_facts()
    n_cases = Case.objects.count()
    agent = User.objects.filter(role=Role.AGENT, department__is_contact_center=True).first()
    handler = User.objects.filter(role=Role.HANDLER).order_by("pk").first()
    if agent is None or handler is None:
        sys.exit("no agent or handler: seed the database first (bench/seed.py)")

    queues: dict[str, Any] = {}
    for user in (agent, handler):
        client = Client()
        client.force_login(user)
        for name in queues_for(user):
            key = f"{user.role}:{name}"
            queues[key] = measure(client, f"/cases/queue/?queue={name}", args.warmup, args.reps)
            print(
                key, queues[key]["p95_ms"], "ms p95", queues[key]["queries"], "q", file=sys.stderr
            )
    main_queue = queues["agent:contact_center"]
    emit(
        {
            **facts,
            "label": args.label,
            "workload": "agent_queue",
            "n_cases": n_cases,
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "total": {
                k: main_queue[k]
                for k in ("p50_ms", "p95_ms", "mean_ms", "min_ms", "max_ms", "samples")
            },
            "queries_total": main_queue["queries"],
            "rows_returned": main_queue["rows"],
            "page_size": 25,
            "queues": queues,
            "method": "django.test.Client in-process, logged-in agent/handler; the whole page",
        },
        args.out,
    )

    case = case_with_timeline(agent)
    client = Client()
    client.force_login(agent)
    view = measure(client, f"/cases/{case.reference}/", args.warmup, args.reps)
    emit(
        {
            **facts,
            "label": args.label,
            "workload": "case_view",
            "n_cases": n_cases,
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "reference": case.reference,
            "timeline_entries": CaseEvent.objects.filter(case=case).count(),
            **{k: view[k] for k in ("p50_ms", "p95_ms", "mean_ms", "min_ms", "max_ms", "samples")},
            "queries": view["queries"],
            "bytes": view["bytes"],
            "method": "django.test.Client in-process, logged-in agent",
        },
        args.out,
    )


if __name__ == "__main__":
    main()
