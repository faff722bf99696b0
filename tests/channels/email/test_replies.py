"""Answering a case by e-mail: threaded, recorded, and never the content of a sensitive case."""

from __future__ import annotations

import pytest

from cases.models import Contact
from cases.services.actors import Actor
from channels_app.email.replies import case_reply_email
from common.exceptions import ApplicationError, NotFoundError
from tests.channels.email.conftest import Ingest, Seed
from tests.municipality import Org

pytestmark = pytest.mark.django_db

RESIDENT_MAIL = """From: Eva Ek <eva.ek@example.se>
To: kontakt@kommun.example
Subject: Soptunnan
Message-ID: <second@example.se>
In-Reply-To: <first@example.se>
References: <zero@example.se> <first@example.se>
Content-Type: text/plain; charset=utf-8

Tunnan tömdes inte.
""".encode()


def test_a_reply_threads_onto_the_last_inbound_mail_and_records_an_outbound_contact(
    org: Org, ingest: Ingest
) -> None:
    message, _ = ingest(RESIDENT_MAIL)
    case = message.case
    row = case_reply_email(
        actor=Actor.staff(org.agent), case_id=case.pk, body="Vi kommer i morgon."
    )
    assert row.to == "eva.ek@example.se"
    assert row.in_reply_to == "<second@example.se>"
    assert row.references == "<zero@example.se> <first@example.se> <second@example.se>"
    assert row.body == "Vi kommer i morgon." and row.kind == "reply" and not row.auto_generated
    assert case.reference in row.subject
    out = Contact.objects.get(case=case, direction="out")
    assert (out.channel, out.summary, out.agent) == ("email", "Vi kommer i morgon.", org.agent)


def test_a_sensitive_case_gets_a_link_not_the_content(org: Org, ingest: Ingest, settings) -> None:  # type: ignore[no-untyped-def]
    settings.PUBLIC_BASE_URL = "https://kommun.example"
    org.bins.sensitive = True
    org.bins.save()
    message, _ = ingest(RESIDENT_MAIL)
    case = message.case
    row = case_reply_email(
        actor=Actor.staff(org.agent), case_id=case.pk, body="Ditt barns diagnos är X."
    )
    assert "diagnos" not in row.body and "diagnos" not in row.subject
    assert f"https://kommun.example/cases/{case.reference}/" in row.body


def test_a_resident_without_an_address_cannot_be_answered_by_mail(org: Org) -> None:
    case = org.new_case()
    with pytest.raises(ApplicationError):
        case_reply_email(actor=Actor.staff(org.agent), case_id=case.pk, body="Hej")


def test_staff_who_may_not_see_the_case_cannot_reply(org: Org, seed: Seed) -> None:
    with pytest.raises(NotFoundError):
        case_reply_email(actor=Actor.staff(org.building_handler), case_id=seed.case.pk, body="x")
    assert not Contact.objects.filter(case=seed.case, direction="out").exists()
