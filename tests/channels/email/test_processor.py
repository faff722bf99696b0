"""The e-mail processor: threading (and the stranger rule), receipts and the 24-hour rule,
attachments over the limits, languages, merged cases, query budget."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from django.core import mail as django_mail
from django.test import override_settings
from django.utils import timezone

from cases.choices import Channel
from cases.models import Case, CaseEvent, CaseState, Category, Contact, EventKind
from cases.services.residents import resident_find_or_create_by_contact
from channels_app.models import (
    InboundAttachment,
    InboundMessage,
    InboundStatus,
    Mailbox,
    OutboundMessage,
)
from tests.channels.email.conftest import SEED_RECEIPT, SEED_REF, Ingest, Seed
from tests.municipality import Org

pytestmark = pytest.mark.django_db


def _mail(
    sender: str = "Eva Ek <eva.ek@example.se>",
    subject: str = "Fråga om sophämtning",
    body: str = "När hämtas soporna?",
    *headers: str,
    message_id: str = "<m1@example.se>",
) -> bytes:
    lines = [
        f"From: {sender}",
        "To: kontakt@kommun.example",
        f"Subject: {subject}",
        f"Message-ID: {message_id}",
        "Content-Type: text/plain; charset=utf-8",
        *headers,
    ]
    return ("\n".join(lines) + "\n\n" + body + "\n").encode()


def _notes(case: Case) -> list[str]:
    return list(
        CaseEvent.objects.filter(case=case, kind=EventKind.NOTE).values_list("reason", flat=True)
    )


def test_a_new_mail_opens_a_case_with_its_resident_contact_and_receipt(
    org: Org, ingest: Ingest, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        message, created = ingest(_mail())
    case = message.case
    assert created and message.status == InboundStatus.PROCESSED
    assert (case.subject, case.description, case.category, case.origin_channel) == (
        "Fråga om sophämtning",
        "När hämtas soporna?",
        org.bins,
        Channel.EMAIL,
    )
    assert case.resident.name == "Eva Ek"
    assert list(case.resident.emails.values_list("address", flat=True)) == ["eva.ek@example.se"]
    contact = Contact.objects.get(case=case)
    assert (contact.channel, contact.direction, contact.summary) == (
        "email",
        "in",
        "När hämtas soporna?",
    )
    receipt = OutboundMessage.objects.get(case=case)
    assert (receipt.kind, receipt.auto_generated, receipt.to, receipt.in_reply_to) == (
        "receipt",
        True,
        "eva.ek@example.se",
        "<m1@example.se>",
    )
    assert case.reference in receipt.subject and case.reference in receipt.body
    (sent,) = django_mail.outbox
    assert sent.extra_headers["Auto-Submitted"] == "auto-generated"


def test_the_summary_is_the_first_500_characters(org: Org, ingest: Ingest) -> None:
    message, _ = ingest(_mail(body="x" * 2000))
    assert len(message.contact.summary) == 500
    assert len(message.case.description) == 2000


@pytest.mark.parametrize(
    ("content_language", "language", "subject_start"),
    [
        ("sv-SE", "sv", "Vi har tagit emot ditt ärende"),
        ("da-DK", "da", "Vi har modtaget din henvendelse"),
        ("en-GB", "en", "We have received your case"),
    ],
)
def test_the_receipt_is_in_the_residents_language(
    org: Org, ingest: Ingest, content_language: str, language: str, subject_start: str
) -> None:
    message, _ = ingest(_mail("x@example.se", "s", "b", f"Content-Language: {content_language}"))
    assert message.case.language == language
    receipt = OutboundMessage.objects.get(case=message.case)
    assert receipt.subject == f"{subject_start} {message.case.reference}"


def test_a_known_residents_language_is_used_when_the_mail_has_none(
    org: Org, seed: Seed, ingest: Ingest
) -> None:
    resident = seed.case.resident
    resident.preferred_language = "da"
    resident.save()
    message, _ = ingest(_mail("anna.andersson@example.se", "Ny fråga", "Hej"))
    assert message.case.language == "da"


def test_a_reply_to_our_message_id_threads_onto_its_case(seed: Seed, ingest: Ingest) -> None:
    message, _ = ingest(
        _mail("Someone Else <else@example.se>", "Re: x", "svar", f"In-Reply-To: {SEED_RECEIPT}")
    )
    assert message.case == seed.case
    assert Contact.objects.filter(case=seed.case).count() == 2
    assert not OutboundMessage.objects.filter(kind="receipt", case=seed.case).exclude(
        pk=seed.receipt.pk
    )


def test_the_reference_threads_only_for_the_cases_own_resident(seed: Seed, ingest: Ingest) -> None:
    own, _ = ingest(_mail("ANNA.ANDERSSON@example.se", f"Ang. {SEED_REF.lower()}", "mer info"))
    assert own.case == seed.case

    stranger, _ = ingest(
        _mail("mallory@example.net", f"{SEED_REF}", "ändra adressen", message_id="<m2@x>")
    )
    assert stranger.case != seed.case
    assert stranger.case.resident.emails.get().address == "mallory@example.net"
    assert any(f"Possible duplicate of {SEED_REF}" in n for n in _notes(stranger.case))
    # Nothing of the stranger's reached Anna's case.
    assert not Contact.objects.filter(case=seed.case, summary__contains="ändra").exists()


def test_a_reply_to_a_merged_case_lands_on_the_case_it_was_merged_into(
    org: Org, seed: Seed, ingest: Ingest
) -> None:
    target = org.new_case()
    Case.objects.filter(pk=seed.case.pk).update(state=CaseState.MERGED, merged_into=target)
    message, _ = ingest(
        _mail("anna.andersson@example.se", "Re", "x", f"In-Reply-To: {SEED_RECEIPT}")
    )
    assert message.case == target


def test_at_most_one_receipt_per_sender_within_the_window(
    org: Org, ingest: Ingest, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.AUTO_REPLY_WINDOW_HOURS = 24
    first, _ = ingest(_mail(message_id="<a@x>"))
    second, _ = ingest(_mail(message_id="<b@x>"))
    assert first.case != second.case
    assert OutboundMessage.objects.filter(to="eva.ek@example.se").count() == 1
    assert "within 24 h" in second.reason
    # 25 hours later the next new case is acknowledged again.
    OutboundMessage.objects.update(created_at=timezone.now() - datetime.timedelta(hours=25))
    third, _ = ingest(_mail(message_id="<c@x>"))
    assert OutboundMessage.objects.filter(case=third.case, kind="receipt").exists()


def test_a_manual_reply_does_not_count_against_the_window(org: Org, ingest: Ingest) -> None:
    OutboundMessage.objects.create(
        channel="email", to="eva.ek@example.se", auto_generated=False, kind="reply"
    )
    message, _ = ingest(_mail())
    assert OutboundMessage.objects.filter(case=message.case, kind="receipt").exists()


def _with_attachments(*parts: tuple[str, bytes]) -> bytes:
    import base64

    chunks = []
    for name, content in parts:
        chunks.append(
            f'--b\nContent-Type: application/pdf\nContent-Disposition: attachment; filename="{name}"\n'
            f"Content-Transfer-Encoding: base64\n\n{base64.encodebytes(content).decode()}\n"
        )
    return (
        "From: eva.ek@example.se\nSubject: Bilagor\nMessage-ID: <att@x>\n"
        'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nSe bilagor.\n'
        + "".join(chunks)
        + "--b--\n"
    ).encode()


def test_an_oversized_attachment_is_quarantined_with_a_note_never_cut(
    org: Org, ingest: Ingest, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.INBOUND_ATTACHMENT_MAX_BYTES = 1024 * 1024
    big = b"%PDF-1.4\n" + b"0" * (3 * 1024 * 1024)
    message, _ = ingest(_with_attachments(("small.pdf", b"%PDF-1.4 small"), ("stor.pdf", big)))
    small, stor = InboundAttachment.objects.filter(message=message).order_by("pk")
    assert (small.quarantined, bool(small.file), small.content_type) == (
        False,
        True,
        "application/pdf",
    )
    assert small.file.read() == b"%PDF-1.4 small"
    assert (stor.quarantined, bool(stor.file), stor.size) == (True, False, len(big))
    assert "limit" in stor.reason
    assert _notes(message.case) == [
        "Attachment stor.pdf (3.0 MB) exceeded the limit and was quarantined."
    ]


def test_attachments_beyond_the_maximum_count_are_quarantined(
    org: Org, ingest: Ingest, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.INBOUND_MAX_ATTACHMENTS = 2
    message, _ = ingest(
        _with_attachments(*[(f"f{i}.pdf", b"%PDF-1.4 " + bytes([i])) for i in range(4)])
    )
    rows = list(InboundAttachment.objects.filter(message=message).order_by("pk"))
    assert [r.quarantined for r in rows] == [False, False, True, True]
    assert "more than 2 attachments" in _notes(message.case)[0]


def test_bounce_of_our_reply_marks_it_failed_and_notes_the_case(seed: Seed, ingest: Ingest) -> None:
    message, _ = ingest("54-bounce-dsn-ours.eml")
    seed.reply.refresh_from_db()
    assert seed.reply.status == "failed" and "550 5.1.1" in seed.reply.error
    assert message.case == seed.case and message.contact is None
    assert _notes(seed.case) == ["Delivery failed to gone@example.se: 550 5.1.1 User unknown"]
    assert Contact.objects.filter(case=seed.case).count() == 1  # no contact for a bounce


def test_an_unknown_mailbox_is_quarantined(org: Org, ingest: Ingest) -> None:
    message, _ = ingest(_mail(), source="email:nowhere")
    assert message.status == InboundStatus.QUARANTINED
    assert "Unknown mailbox 'nowhere'" in message.reason


def _statements(queries: list[dict]) -> list[str]:
    return [q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]


@pytest.mark.parametrize(("sender", "budget"), [("eva.ek@example.se", 9), ("new@example.se", 13)])
def test_processing_a_plain_new_mail_stays_within_the_query_budget(
    org: Org, mailbox, sender: str, budget: int
) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from channels_app import intake

    resident_find_or_create_by_contact(email="eva.ek@example.se")
    org.new_case()  # the contact center row and content types are warm
    message, _ = intake.inbound_record(
        channel="email", source="email:kontakt", external_id="q@x", raw=_mail(sender), process=False
    )
    with CaptureQueriesContext(connection) as ctx:
        intake.inbound_process(message_id=message.pk)
    # Claim (UPDATE ... RETURNING), the mailbox (cold here, then cached per process), the
    # resident lookup, the case, its contact, both events in one insert, the receipt (its 24 h
    # check is part of the insert), the final save: 8, plus either the reference UPDATE
    # (SQLite) or, once per 50 cases, a block of case ids (PostgreSQL). A new sender adds the
    # advisory lock (PostgreSQL), a second lookup under it, and two inserts.
    assert len(_statements(ctx.captured_queries)) <= budget, "\n".join(
        _statements(ctx.captured_queries)
    )


def test_the_receipt_is_written_with_the_case_and_rolls_back_with_it(
    org: Org, ingest: Ingest, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    def storage_down(message, parts):  # type: ignore[no-untyped-def]
        raise OSError("storage down")

    monkeypatch.setattr("channels_app.email.processor._store_attachments", storage_down)
    message, _ = ingest(_with_attachments(("a.pdf", b"%PDF-1.4 a")))
    assert message.status == InboundStatus.QUARANTINED
    assert "storage down" in message.reason
    assert not Case.objects.exists()
    assert not OutboundMessage.objects.exists()


def test_a_reply_to_a_case_marked_as_spam_is_ignored(seed: Seed, ingest: Ingest) -> None:
    Case.objects.filter(pk=seed.case.pk).update(state=CaseState.SPAM)
    message, _ = ingest(
        _mail("anna.andersson@example.se", "Re", "x", f"In-Reply-To: {SEED_RECEIPT}")
    )
    assert message.status == InboundStatus.IGNORED and "spam" in message.reason
    assert Contact.objects.filter(case=seed.case).count() == 1


@pytest.mark.parametrize("sender", ["kontakt@kommun.example", "Kontaktcenter <noc@cc.example>"])
def test_mail_from_our_own_addresses_is_ignored(
    org: Org, ingest: Ingest, settings, sender: str
) -> None:  # type: ignore[no-untyped-def]
    settings.DEFAULT_FROM_EMAIL = "Kontaktcenter <noc@cc.example>"
    message, _ = ingest(_mail(sender))
    assert message.status == InboundStatus.IGNORED and "our own address" in message.reason
    assert not Case.objects.exists() and not OutboundMessage.objects.exists()


def test_a_polled_batch_becomes_cases_with_one_receipt_per_sender(
    org: Org, mailbox, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from channels_app import intake

    # Given one fetch: a new sender writes twice, another once, and one mail is unreadable
    raws = [
        _mail("Eva Ek <eva.ek@example.se>", "Soptunnan", message_id="<b1@example.se>"),
        _mail("Eva Ek <eva.ek@example.se>", "Glömde bilden", message_id="<b2@example.se>"),
        _mail("Olle <olle@example.se>", "Gatlampan", message_id="<b3@example.se>"),
        _mail("", "Ingen avsändare", message_id="<b4@example.se>"),
    ]
    ids, _known = intake.inbound_record_many(
        channel="email",
        source="email:kontakt",
        items=[(f"b{i}@example.se", raw) for i, raw in enumerate(raws, 1)],
        process=False,
    )
    # When the batch task processes it
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        intake.inbound_process_batch(message_ids=ids)

    # Then three cases, one resident for Eva, one receipt per sender (the 24 h rule holds
    # inside the batch), and only the unreadable mail quarantined
    messages = [InboundMessage.objects.get(pk=pk) for pk in ids]
    assert [m.status for m in messages] == ["processed"] * 3 + ["quarantined"]
    assert Case.objects.count() == 3
    assert messages[0].case.resident_id == messages[1].case.resident_id
    assert sorted(OutboundMessage.objects.values_list("to", flat=True)) == [
        "eva.ek@example.se",
        "olle@example.se",
    ]
    assert "within 24 h" in messages[1].reason
    assert len(django_mail.outbox) == 2  # sent after the batch committed,
    # by one task for the whole batch, and one routing task for its three cases
    assert sorted(c.__qualname__.rpartition(".")[2] for c in callbacks) == [
        "case_route_batch_task",
        "email_send_batch_task",
    ]


def test_a_mailbox_created_after_a_quarantine_is_found_on_requeue(
    org: Org, ingest: Ingest, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from channels_app import intake
    from channels_app.models import Mailbox

    message, _ = ingest(_mail(), source="email:nowhere")
    assert message.status == InboundStatus.QUARANTINED
    Mailbox.objects.create(name="nowhere", address="nowhere@kommun.example")
    with django_capture_on_commit_callbacks(execute=True):
        intake.inbound_requeue(message_ids=[message.pk])
    message.refresh_from_db()
    assert message.status == InboundStatus.PROCESSED


def test_a_batch_keeps_the_sanitised_html_with_the_status(org: Org, mailbox) -> None:  # type: ignore[no-untyped-def]
    from channels_app import intake

    html = (
        b"From: Eva Ek <eva.ek@example.se>\nTo: kontakt@kommun.example\nSubject: Bild\n"
        b"Message-ID: <h1@example.se>\nContent-Type: text/html; charset=utf-8\n\n"
        b"<p>Hej</p><script>alert(1)</script>\n"
    )
    ids, _ = intake.inbound_record_many(
        channel="email",
        source="email:kontakt",
        items=[("h1@example.se", html), ("m1@example.se", _mail())],
        process=False,
    )

    intake.inbound_process_batch(message_ids=ids)

    with_html, plain = (InboundMessage.objects.get(pk=pk) for pk in ids)
    assert with_html.status == plain.status == InboundStatus.PROCESSED
    assert "<p>Hej</p>" in with_html.payload["email"]["html"]
    assert "script" not in with_html.payload["email"]["html"]
    assert plain.payload == {}


def test_a_batch_finds_all_known_senders_in_one_query_and_picks_the_oldest_resident(
    org: Org, mailbox
) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cases.models import Resident, ResidentEmail
    from channels_app import intake

    # Given a family address shared by two residents (the older one wins), and a known sender
    older = resident_find_or_create_by_contact(email="familj@example.se", name="Äldre")
    younger = Resident.objects.create(name="Yngre")
    ResidentEmail.objects.create(resident=younger, address="familj@example.se")
    olle = resident_find_or_create_by_contact(email="olle@example.se")
    org.new_case()  # warm: contact center
    raws = [
        _mail("familj@example.se", "A", message_id="<p1@example.se>"),
        _mail("olle@example.se", "B", message_id="<p2@example.se>"),
        _mail("Familj <FAMILJ@example.se>", "C", message_id="<p3@example.se>"),
    ]
    ids, _ = intake.inbound_record_many(
        channel="email",
        source="email:kontakt",
        items=[(f"p{i}@example.se", raw) for i, raw in enumerate(raws, 1)],
        process=False,
    )

    with CaptureQueriesContext(connection) as ctx:
        intake.inbound_process_batch(message_ids=ids)

    residents = [InboundMessage.objects.get(pk=pk).case.resident for pk in ids]
    assert residents == [older, olle, older]
    lookups = [q["sql"] for q in ctx.captured_queries if "cases_residentemail" in q["sql"]]
    assert len(lookups) == 1, lookups


@pytest.mark.parametrize(
    ("content_language", "subject_label"), [("sv", "Ämne"), ("da", "Emne"), ("en", "Subject")]
)
def test_a_sensitive_categorys_receipt_repeats_neither_subject_nor_text(
    org: Org, ingest: Ingest, content_language: str, subject_label: str
) -> None:
    # Given a mailbox whose default category is sensitive
    Category.objects.filter(pk=org.bins.pk).update(sensitive=True)
    org.bins.refresh_from_db()
    Mailbox.objects.create(name="skydd", address="skydd@kommun.example", default_category=org.bins)
    # When a resident writes to it
    message, _ = ingest(
        _mail(
            "Eva Ek <eva.ek@example.se>",
            "Orosanmälan om grannens barn",
            "Barnet på Storgatan 5 far illa.",
            f"Content-Language: {content_language}",
        ),
        source="email:skydd",
    )
    # Then the case keeps the subject, but the receipt carries neither it nor the text
    case = message.case
    assert (case.subject, case.category) == ("Orosanmälan om grannens barn", org.bins)
    receipt = OutboundMessage.objects.get(case=case)
    assert case.reference in receipt.body
    assert "Orosanmälan" not in receipt.body + receipt.subject
    assert "Storgatan" not in receipt.body
    assert f"{subject_label}:" not in receipt.body


def test_a_non_sensitive_categorys_receipt_repeats_the_subject(org: Org, ingest: Ingest) -> None:
    # Given the ordinary mailbox; When a resident writes; Then the receipt names the subject
    message, _ = ingest(_mail())
    receipt = OutboundMessage.objects.get(case=message.case)
    assert "Subject: Fråga om sophämtning\n" in receipt.body


def test_a_reused_message_id_on_different_mail_is_a_second_record_and_case(
    org: Org, ingest: Ingest
) -> None:
    # Given a mail recorded and processed
    first_raw = _mail("Eva Ek <eva.ek@example.se>", "Soptunnan", "Trasig", message_id="<x@kund>")
    first, created_first = ingest(first_raw)
    # When a different mail arrives under the same Message-ID (a broken client), and the
    # first mail is delivered again
    second_raw = _mail("Per Persson <per@example.se>", "Parkering", "Bil", message_id="<x@kund>")
    second, created_second = ingest(second_raw)
    again, created_again = ingest(first_raw)
    # Then the different mail has its own record and case; the same mail is still one record
    second_body = second_raw.replace(b"\r\n", b"\n").partition(b"\n\n")[2]
    variant = "x@kund#" + hashlib.sha256(second_body).hexdigest()[:16]
    assert (created_first, created_second, created_again) == (True, True, False)
    assert (first.external_id, second.external_id, again.pk) == ("x@kund", variant, first.pk)
    assert InboundMessage.objects.count() == 2
    assert sorted(Case.objects.values_list("subject", flat=True)) == ["Parkering", "Soptunnan"]
    assert (first.case.subject, second.case.subject) == ("Soptunnan", "Parkering")


def test_a_redelivery_with_one_more_received_header_is_the_same_mail(
    org: Org, ingest: Ingest
) -> None:
    # Given a mail recorded and processed
    raw = _mail("Eva Ek <eva.ek@example.se>", "Soptunnan", "Trasig", message_id="<y@kund>")
    first, _ = ingest(raw)
    # When the mail server delivers it again with one more Received: header
    again, created = ingest(
        b"Received: from relay.example.se by mx.kommun.se; Mon, 23 Nov 2026\r\n" + raw
    )
    # Then it is the same record and there is one case
    assert (created, again.pk) == (False, first.pk)
    assert (InboundMessage.objects.count(), Case.objects.count()) == (1, 1)


def test_the_same_mail_without_a_message_id_twice_is_one_record(org: Org, ingest: Ingest) -> None:
    # Given a mail without Message-ID (its key is its hash); When it arrives twice
    raw = b"From: eva.ek@example.se\nSubject: Hej\n\nText\n"
    _first, created = ingest(raw)
    _again, created_again = ingest(raw)
    # Then one record and one case
    assert (created, created_again) == (True, False)
    assert (InboundMessage.objects.count(), Case.objects.count()) == (1, 1)


@pytest.mark.parametrize(
    "finished", [CaseState.RESOLVED, CaseState.RESOLVED_FIRST_CONTACT, CaseState.CLOSED]
)
def test_a_reply_to_a_finished_case_adds_the_contact_and_reopens_it(
    org: Org, seed: Seed, ingest: Ingest, finished: str
) -> None:
    # Given Anna's case is finished (resolved, or closed)
    Case.objects.filter(pk=seed.case.pk).update(state=finished)
    # When she answers our receipt
    message, _ = ingest(
        _mail(
            "anna.andersson@example.se", "Re", "Det är inte lagat", f"In-Reply-To: {SEED_RECEIPT}"
        )
    )
    # Then her mail is a contact on that case, which is open at the contact center again
    assert message.case == seed.case
    assert Contact.objects.filter(case=seed.case).count() == 2
    seed.case.refresh_from_db()
    assert seed.case.state == CaseState.OPEN
    assert seed.case.department_id == org.cc.pk
    reopen = CaseEvent.objects.get(case=seed.case, transition="reopen")
    assert (reopen.from_state, reopen.to_state, reopen.reason) == (
        finished,
        CaseState.OPEN,
        "The resident replied by e-mail.",
    )
    assert Case.objects.count() == 1


def test_a_reply_to_a_withdrawn_case_opens_a_new_case_noting_the_old_one(
    seed: Seed, ingest: Ingest
) -> None:
    # Given Anna withdrew her case
    Case.objects.filter(pk=seed.case.pk).update(state=CaseState.WITHDRAWN)
    # When she answers our receipt
    message, _ = ingest(
        _mail("anna.andersson@example.se", "Re", "Ett nytt problem", f"In-Reply-To: {SEED_RECEIPT}")
    )
    # Then a new case is opened with a note pointing at the withdrawn one, which is untouched
    assert message.status == InboundStatus.PROCESSED
    assert message.case != seed.case
    assert message.case.resident_id == seed.case.resident_id
    assert _notes(message.case) == [f"Follow-up of withdrawn case {SEED_REF}"]
    assert Contact.objects.filter(case=seed.case).count() == 1
    seed.case.refresh_from_db()
    assert seed.case.state == CaseState.WITHDRAWN
    assert not CaseEvent.objects.filter(case=seed.case, transition="reopen").exists()


def test_the_possible_duplicate_note_is_written_in_the_site_language(
    seed: Seed, ingest: Ingest
) -> None:
    # Given the site speaks Swedish
    with override_settings(LANGUAGE_CODE="sv"):
        # When a stranger uses Anna's reference
        stranger, _ = ingest(_mail("mallory@example.net", f"{SEED_REF}", "ändra adressen"))
    # Then the stored note on the stranger's new case is in Swedish
    assert _notes(stranger.case) == [
        f"Möjlig dubblett av {SEED_REF}: avsändaren mallory@example.net använde dess "
        "referens men är inte ärendets invånare, så ett nytt ärende öppnades."
    ]


# --- who may thread by address: the case's parties, verified by our mail server -------------
def _representative(seed: Seed, *, valid_from=None, valid_until=None):  # type: ignore[no-untyped-def]
    """Olle, holding Anna's power of attorney (valid from today, no end, unless told)."""
    from cases.models import PowerOfAttorney

    olle = resident_find_or_create_by_contact(email="olle.ombud@example.se", name="Olle Ombud")
    return PowerOfAttorney.objects.create(
        resident=seed.case.resident,
        representative=olle,
        valid_from=valid_from or timezone.localdate(),
        valid_until=valid_until,
    )


def test_a_representative_with_a_valid_power_of_attorney_threads_by_reference(
    seed: Seed, ingest: Ingest
) -> None:
    # Given Olle represents Anna
    _representative(seed)

    # When he writes with her case's reference in the subject
    message, _ = ingest(_mail("Olle Ombud <olle.ombud@example.se>", f"Ang. {SEED_REF}", "Fullmakt"))

    # Then his mail is a contact on her case, not a new case
    assert message.case == seed.case
    assert Contact.objects.filter(case=seed.case).count() == 2
    assert "case reference in the subject" in message.reason


@pytest.mark.parametrize(
    ("valid_from_days", "valid_until_days"),
    [(-30, -1), (1, None)],
    ids=["expired", "not-yet-valid"],
)
def test_a_power_of_attorney_outside_its_validity_does_not_thread(
    seed: Seed, ingest: Ingest, valid_from_days: int, valid_until_days: int | None
) -> None:
    today = timezone.localdate()
    _representative(
        seed,
        valid_from=today + datetime.timedelta(days=valid_from_days),
        valid_until=(
            today + datetime.timedelta(days=valid_until_days)
            if valid_until_days is not None
            else None
        ),
    )
    message, _ = ingest(_mail("olle.ombud@example.se", f"Ang. {SEED_REF}", "Fullmakt"))
    assert message.case != seed.case
    assert any(f"Possible duplicate of {SEED_REF}" in n for n in _notes(message.case))


def test_a_representative_answering_the_residents_earlier_mail_threads(
    seed: Seed, ingest: Ingest
) -> None:
    # Given Anna's own mail opened a case, and Olle represents her
    first, _ = ingest(
        _mail(
            "anna.andersson@example.se", "Bygglov", "Ritning kommer", message_id="<a1@example.se>"
        )
    )
    _representative(seed)

    # When Olle answers that mail
    reply, _ = ingest(
        _mail(
            "olle.ombud@example.se",
            "Re: Bygglov",
            "Här är ritningen",
            "In-Reply-To: <a1@example.se>",
            message_id="<o1@example.se>",
        )
    )

    # Then it is a contact on Anna's case
    assert reply.case == first.case


FORGED = "Authentication-Results: mx.kommun.example; spf=fail smtp.mailfrom=example.se; dkim=none; dmarc=fail header.from=example.se"


def test_a_forged_residents_address_does_not_thread_by_reference(
    seed: Seed, ingest: Ingest
) -> None:
    # When a mail claiming to be from Anna, which our MX found forged, uses her reference
    message, _ = ingest(
        _mail("anna.andersson@example.se", f"Re: {SEED_REF}", "Nytt konto: 1234", FORGED)
    )

    # Then it opens a new case, marked as a possible duplicate, and nobody gets a receipt
    assert message.case != seed.case
    assert Contact.objects.filter(case=seed.case).count() == 1
    [note] = _notes(message.case)
    assert note.startswith(f"Possible duplicate of {SEED_REF}: the mail says it is from")
    assert "(dmarc=fail)" in note
    assert not OutboundMessage.objects.filter(case=message.case).exists()
    assert "sender not verified (dmarc=fail)" in message.reason


def test_a_forged_answer_to_the_residents_earlier_mail_does_not_thread(
    seed: Seed, ingest: Ingest
) -> None:
    first, _ = ingest(
        _mail("anna.andersson@example.se", "Bygglov", "x", message_id="<a1@example.se>")
    )
    forged, _ = ingest(
        _mail(
            "anna.andersson@example.se",
            "Re: Bygglov",
            "Skicka beslutet till mig",
            "In-Reply-To: <a1@example.se>",
            FORGED,
            message_id="<f1@bulk.example>",
        )
    )
    assert forged.case != first.case
    assert any(f"Possible duplicate of {first.case.reference}" in n for n in _notes(forged.case))


def test_a_genuine_residents_mail_still_threads_when_our_mx_vouches_for_it(
    seed: Seed, ingest: Ingest
) -> None:
    verified = "Authentication-Results: mx.kommun.example; spf=pass; dkim=pass header.d=example.se; dmarc=pass"
    message, _ = ingest(_mail("anna.andersson@example.se", f"Re: {SEED_REF}", "Tack", verified))
    assert message.case == seed.case


def test_a_results_header_of_another_server_is_not_trusted(seed: Seed, ingest: Ingest) -> None:
    other = "Authentication-Results: mx.attacker.example; dmarc=fail"
    message, _ = ingest(_mail("anna.andersson@example.se", f"Re: {SEED_REF}", "Tack", other))
    assert message.case == seed.case


# --- postmaster@ is not always a bounce -----------------------------------------------------
@pytest.mark.parametrize("sender", ["postmaster@grannby.example", "MAILER-DAEMON@grannby.example"])
def test_a_daemon_address_without_a_dsn_opens_a_case_without_a_receipt(
    org: Org, ingest: Ingest, sender: str
) -> None:
    message, _ = ingest(_mail(sender, "Er post fastnar i vårt filter", "Kan ni titta på SPF?"))
    assert message.status == InboundStatus.PROCESSED
    assert message.case is not None and message.contact is not None
    assert not OutboundMessage.objects.exists()
    assert f"no receipt (automatic sender {sender})" in message.reason


# --- attachment names are data, never markup -------------------------------------------------
def test_a_hostile_attachment_name_is_kept_as_text_and_escaped_on_the_case_page(
    org: Org, ingest: Ingest, settings, client
) -> None:  # type: ignore[no-untyped-def]
    settings.INBOUND_ATTACHMENT_MAX_BYTES = 1024
    name = "<script>alert(1)</script>.pdf"
    message, _ = ingest(
        _with_attachments((name, b"%PDF-1.4 small"), (name, b"%PDF-1.4\n" + b"0" * 4096))
    )
    stored, quarantined = InboundAttachment.objects.filter(message=message).order_by("pk")
    # The name is kept as the sender wrote it; the file is stored under a harmless name.
    assert stored.filename == quarantined.filename == name
    assert not set("<>/()") & set(stored.file.name.rsplit("/", 1)[-1])
    # and the note that names it is shown as text, not run as script
    client.force_login(org.agent)
    page = client.get(f"/cases/{message.case.reference}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.pdf" in page
    assert "<script>alert(1)" not in page
