"""Every message of the corpus (tests/fixtures/email/) gives exactly the outcome its manifest
entry says; the whole corpus ingested twice creates each case once."""

from __future__ import annotations

import json

import pytest

from cases.models import Case, CaseEvent, Contact, EventKind
from channels_app.models import InboundAttachment, InboundMessage, OutboundMessage, OutboundStatus
from tests.channels.email.conftest import CORPUS, SEED_REF, Ingest, Seed

pytestmark = pytest.mark.django_db

MANIFEST: dict[str, dict] = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
FILES = sorted(MANIFEST)


def test_the_corpus_is_large_and_every_file_has_an_entry() -> None:
    on_disk = sorted(p.name for p in CORPUS.glob("*.eml"))
    assert on_disk == FILES
    assert len(FILES) >= 60


def _check(
    name: str,
    expected: dict,
    message: InboundMessage,
    created: bool,
    seed: Seed,
    messages: dict[str, InboundMessage],
) -> None:
    outcome = expected["outcome"]
    if outcome == "duplicate":
        assert not created
        assert message.pk == messages[expected["duplicate_of"] + ".eml"].pk
        return
    assert created
    status = {
        "new": "processed",
        "threaded": "processed",
        "bounce": "processed",
        "ignored": "ignored",
        "quarantined": "quarantined",
    }[outcome]
    assert message.status == status, message.reason
    if "reason_contains" in expected:
        assert expected["reason_contains"].lower() in message.reason.lower()
    receipts = OutboundMessage.objects.filter(
        kind="receipt", in_reply_to__contains=message.external_id
    )
    if message.external_id.startswith("sha256:"):
        receipts = (
            OutboundMessage.objects.filter(kind="receipt", case=message.case)
            if message.case
            else receipts.none()
        )
        assert expected.get("key_is_hash")
    assert receipts.exists() == expected["receipt"]
    attachments = InboundAttachment.objects.filter(message=message)
    assert attachments.count() == expected["attachments"]
    if "inline" in expected:
        assert attachments.filter(inline=True).count() == expected["inline"]
    if "filenames" in expected:
        names = set(attachments.values_list("filename", flat=True))
        assert set(expected["filenames"]) <= names
    if "types" in expected:
        assert sorted(attachments.values_list("content_type", flat=True)) == sorted(
            expected["types"]
        )
    if outcome in ("ignored", "quarantined"):
        assert message.case_id is None and message.contact_id is None
        return
    case = message.case
    if outcome == "new":
        assert case.pk != seed.case.pk
        assert message.contact.case_id == case.pk
        assert Contact.objects.filter(case=case).count() == 1
        if "subject" in expected:
            assert case.subject == expected["subject"][:200]
        if "snippet" in expected:
            assert expected["snippet"] in case.description
        if "language" in expected:
            assert case.language == expected["language"]
        if "resident_name" in expected:
            assert case.resident.name == expected["resident_name"]
        assert case.category_id == seed.mailbox.default_category_id
    elif outcome == "threaded":
        target = (
            messages[expected["thread_of"] + ".eml"].case if "thread_of" in expected else seed.case
        )
        assert case.pk == target.pk
        assert message.contact.case_id == target.pk
        if "snippet" in expected:
            assert expected["snippet"] in message.contact.summary
    elif outcome == "bounce":
        assert case.pk == seed.case.pk and message.contact_id is None
    if "possible_duplicate_of" in expected:
        assert CaseEvent.objects.filter(
            case=case, kind=EventKind.NOTE, reason__contains=f"Possible duplicate of {SEED_REF}"
        ).exists()
        assert not Contact.objects.filter(case=seed.case, summary__contains="Falskgatan").exists()
    if "html_must_not_contain" in expected or "html_must_contain" in expected:
        html = message.payload["email"]["html"]
        for bad in expected.get("html_must_not_contain", []):
            assert bad not in html
        for good in expected.get("html_must_contain", []):
            assert good in html


def test_every_message_gives_the_outcome_in_the_manifest(seed: Seed, ingest: Ingest) -> None:
    messages: dict[str, InboundMessage] = {}
    failures = []
    for name in FILES:
        message, created = ingest(name)
        messages.setdefault(name, message)
        try:
            _check(name, MANIFEST[name], message, created, seed, messages)
        except AssertionError as exc:
            failures.append(f"{name}: {exc!r} (status {message.status}: {message.reason})")
    assert not failures, "\n".join(failures)
    # Nothing crashed: no quarantine except where the manifest expects one.
    internal = InboundMessage.objects.filter(reason__startswith="Internal error")
    assert not internal.exists(), list(internal.values_list("external_id", "reason"))
    # The bounce marked our reply failed; the delayed notice left our receipt alone.
    seed.reply.refresh_from_db()
    seed.receipt.refresh_from_db()
    assert seed.reply.status == OutboundStatus.FAILED
    assert seed.receipt.status == OutboundStatus.SENT


def test_ingesting_the_corpus_twice_creates_each_case_once(seed: Seed, ingest: Ingest) -> None:
    for name in FILES:
        ingest(name)
    counts = (
        Case.objects.count(),
        Contact.objects.count(),
        InboundMessage.objects.count(),
        InboundAttachment.objects.count(),
        OutboundMessage.objects.count(),
        CaseEvent.objects.count(),
    )
    for name in FILES:
        _message, created = ingest(name)
        assert not created
    assert (
        Case.objects.count(),
        Contact.objects.count(),
        InboundMessage.objects.count(),
        InboundAttachment.objects.count(),
        OutboundMessage.objects.count(),
        CaseEvent.objects.count(),
    ) == counts
    expected_new = sum(1 for e in MANIFEST.values() if e["outcome"] == "new")
    assert Case.objects.count() == expected_new + 1  # + the seeded case
