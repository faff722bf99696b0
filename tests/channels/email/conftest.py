"""Shared setup for the e-mail tests: a mailbox, a seeded case with our outbound messages,
and ``ingest`` (record a raw message, then process it, as ``ingest_email`` does)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.utils import timezone

from cases.choices import Channel
from cases.models import Case
from cases.services.actors import Actor
from cases.services.cases import ContactInput, case_create
from cases.services.residents import resident_find_or_create_by_contact
from channels_app import intake
from channels_app.email.parse import external_id_for
from channels_app.models import InboundMessage, Mailbox, OutboundMessage, OutboundStatus
from tests.municipality import Org

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "email"
SEED_REF = "KC-2019-000042"
SEED_RECEIPT = "<seed-receipt-0001@contactcenter.invalid>"
SEED_REPLY = "<seed-reply-0002@contactcenter.invalid>"
TRUSTED_AUTHSERV_ID = "mx.kommun.example"


@dataclass
class Seed:
    mailbox: Mailbox
    case: Case
    receipt: OutboundMessage
    reply: OutboundMessage


@pytest.fixture
def mailbox(org: Org, settings) -> Mailbox:  # type: ignore[no-untyped-def]
    settings.MESSAGE_ID_DOMAIN = "contactcenter.invalid"
    settings.CASE_REFERENCE_PREFIX = "KC"
    # Our receiving MX, whose Authentication-Results headers the processor trusts.
    settings.EMAIL_TRUSTED_AUTHSERV_IDS = [TRUSTED_AUTHSERV_ID]
    return Mailbox.objects.create(
        name="kontakt", address="kontakt@kommun.example", default_category=org.bins
    )


@pytest.fixture
def seed(org: Org, mailbox: Mailbox) -> Seed:
    """Anna's case KC-2019-000042 with our receipt to her and a reply to a dead address."""
    anna = resident_find_or_create_by_contact(
        email="anna.andersson@example.se", name="Anna Andersson"
    )
    case = case_create(
        actor=Actor.resident(Channel.EMAIL),
        subject="Soptunnan",
        contact=ContactInput(channel=Channel.EMAIL),
        resident=anna,
        category=org.bins,
    )
    Case.objects.filter(pk=case.pk).update(reference=SEED_REF)
    case.refresh_from_db()
    old = timezone.now() - datetime.timedelta(days=3)
    receipt = OutboundMessage.objects.create(
        channel=Channel.EMAIL,
        case=case,
        resident=anna,
        to="anna.andersson@example.se",
        subject=f"Vi har tagit emot ditt ärende {SEED_REF}",
        message_id=SEED_RECEIPT,
        auto_generated=True,
        kind="receipt",
        status=OutboundStatus.SENT,
        created_at=old,
    )
    reply = OutboundMessage.objects.create(
        channel=Channel.EMAIL,
        case=case,
        to="gone@example.se",
        subject=f"Re: Soptunnan [{SEED_REF}]",
        message_id=SEED_REPLY,
        kind="reply",
        status=OutboundStatus.SENT,
        created_at=old,
    )
    return Seed(mailbox=mailbox, case=case, receipt=receipt, reply=reply)


Ingest = Callable[..., tuple[InboundMessage, bool]]


@pytest.fixture
def ingest(mailbox: Mailbox) -> Ingest:
    """Record raw bytes (or a corpus file name) and process them synchronously."""

    def ingest(raw: bytes | str, *, source: str = "email:kontakt") -> tuple[InboundMessage, bool]:
        if isinstance(raw, str):
            raw = (CORPUS / raw).read_bytes()
        message, created = intake.inbound_record(
            channel=Channel.EMAIL,
            source=source,
            external_id=external_id_for(raw),
            raw=raw,
            process=False,
        )
        if created:
            intake.inbound_process(message_id=message.pk)
        message.refresh_from_db()
        return message, created

    return ingest
