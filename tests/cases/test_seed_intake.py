"""The demo municipality's intake channels work out of the box."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.test import Client

from cases.demo.intake import OPEN311_DEMO_KEY
from cases.models import Case
from channels_app.models import Mailbox

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_mailbox_form_fields_and_a_working_open311_key() -> None:
    call_command("seed_demo", contacts=50, years=1, seed=3, end_date="2026-11-20", verbosity=0)
    assert Mailbox.objects.get(name="kontakt").default_category.code == "general-question"
    form = Client().get("/e/street-light-out/?lang=sv").content.decode()
    assert "Var står lyktstolpen?" in form
    before = Case.objects.count()
    response = Client().post(
        "/open311/v2/requests.json",
        urlencode(
            {
                "api_key": OPEN311_DEMO_KEY,
                "service_code": "street-light-out",
                "lat": "59.33",
                "long": "18.06",
                "attribute[location]": "59.33,18.06",
                "attribute[dangerous]": "false",
                "description": "Lampan blinkar",
            }
        ),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200, response.content
    reference = response.json()[0]["service_request_id"]
    assert Case.objects.count() == before + 1
    assert Case.objects.get(reference=reference).category.code == "street-light-out"
