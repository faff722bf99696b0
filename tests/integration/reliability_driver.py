"""The other side of tests/integration/test_reliability.py, run as a subprocess:

    python -m tests.integration.reliability_driver create N CATEGORY_CODE
    python -m tests.integration.reliability_driver post N FORM_CODE API_CATEGORY AGENT_USERNAME
    python -m tests.integration.reliability_driver sweep

It runs with the environment the test gives it (test settings, the test database, the test's
private Redis as broker), so that everything it enqueues goes to the workers under test and
nothing to the session's shared worker. It prints one JSON line with what it did.
"""

from __future__ import annotations

import json
import os
import sys
import time


def create(n: int, category_code: str) -> dict[str, object]:
    """``n`` residents (each with an e-mail address, preferring e-mail) and one case each,
    created the way intake creates them: ten per transaction, routing enqueued after commit."""
    from django.db import transaction

    from cases.choices import Channel
    from cases.models import Category, Resident, ResidentEmail
    from cases.services.actors import Actor
    from cases.services.cases import ContactInput, case_create_with_contact

    category = Category.objects.get(code=category_code)
    run = str(time.time_ns())
    ids: list[int] = []
    for start in range(0, n, 10):
        with transaction.atomic():
            for i in range(start, min(n, start + 10)):
                resident = Resident.objects.create(
                    name=f"Boende {i}", preferred_language="sv", preferred_channel="email"
                )
                ResidentEmail.objects.create(resident=resident, address=f"r{i}-{run}@example.se")
                case, _contact = case_create_with_contact(
                    actor=Actor.resident(Channel.EMAIL),
                    subject=f"Ärende {i}",
                    contact=ContactInput(channel=Channel.EMAIL),
                    resident=resident,
                    category=category,
                )
                ids.append(case.pk)
    return {"created": len(ids)}


def post(n: int, form_code: str, api_category: str, agent: str) -> dict[str, object]:
    """``n`` cases through real request handling: half e-service forms (anonymous residents
    with an e-mail address), half API creates by an agent. Returns the status codes."""
    from django.test import Client
    from django.test.utils import setup_test_environment
    from rest_framework.test import APIClient

    from accounts.models import User

    setup_test_environment()  # ALLOWED_HOSTS gets "testserver", as under pytest

    codes: list[int] = []
    started = time.monotonic()
    form = Client()
    api = APIClient()
    api.force_authenticate(User.objects.get(username=agent))
    for i in range(n):
        if i % 2 == 0:
            response = form.post(
                f"/e/{form_code}/?lang=sv",
                {
                    "token": f"tok_reliability_{i:06d}_{time.time_ns()}",
                    "description": f"Soptunnan tömdes inte, nummer {i}.",
                    "name": f"Boende {i}",
                    "email": f"form{i}@example.se",
                    "contact_preference": "email",
                    "website": "",
                },
                REMOTE_ADDR=f"198.51.100.{i % 250 + 1}",
            )
        else:
            response = api.post(
                "/api/v1/cases/",
                {
                    "subject": f"Samtal {i}",
                    "category": api_category,
                    "contact": {"channel": "phone", "nature": "information"},
                },
                format="json",
            )
        codes.append(response.status_code)
    return {"codes": codes, "seconds": round(time.monotonic() - started, 2)}


def sweep() -> dict[str, object]:
    """What Celery beat's sweeps do, now and without their waiting time: re-enqueue routing,
    inbound processing and outbound sends that a lost task left behind."""
    from cases.services.routing import cases_unrouted
    from cases.tasks import case_route_batch_task
    from channels_app.notices.tasks import outbound_sweep_task

    ids = cases_unrouted(older_than_seconds=5)
    for start in range(0, len(ids), 200):
        case_route_batch_task.delay(ids[start : start + 200])
    resent = outbound_sweep_task(older_than_seconds=5)
    return {"unrouted": len(ids), "resent": resent}


def main() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactcenter.settings.test")
    django.setup()
    command, args = sys.argv[1], sys.argv[2:]
    if command == "create":
        result = create(int(args[0]), args[1])
    elif command == "post":
        result = post(int(args[0]), args[1], args[2], args[3])
    elif command == "sweep":
        result = sweep()
    else:
        raise SystemExit(f"unknown command {command!r}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
