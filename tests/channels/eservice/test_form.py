"""The public form: submission to case, double submission, honeypot, rate limit, receipts."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.core import mail  # noqa: F401  (the outbound row is what we check; nothing is sent here)
from django.test import Client
from django.utils import timezone

from cases.choices import Channel, Nature
from cases.models import Case, CaseEvent, Category, Contact, Resident
from channels_app.eservice import services
from channels_app.models import (
    InboundAttachment,
    InboundMessage,
    InboundStatus,
    OutboundMessage,
)
from tests.channels.eservice.conftest import EXE_BYTES, JPEG_BYTES, PDF_BYTES, upload
from tests.municipality import Org

pytestmark = pytest.mark.django_db

TOKEN = "tok_" + "a" * 28


@pytest.fixture(autouse=True)
def _fresh_categories() -> None:
    services.category_cache_clear()


def form_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "token": TOKEN,
        "description": "Containern för plast är full och det ligger säckar på marken.",
        "name": "Anna Andersson",
        "email": "Anna@Example.org",
        "phone": "",
        "contact_preference": "email",
        "f-station": "Storgatan 5",
        "f-bags": "4",
        "f-material": "plastic",
        "f-blocked": "yes",
        "f-where": "59.3293,18.0686",
        "website": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def post(client: Client, data: dict[str, Any], lang: str = "sv", code: str = "recycling"):  # type: ignore[no-untyped-def]
    return client.post(f"/e/{code}/?lang={lang}", data, REMOTE_ADDR="203.0.113.7")


# --- Submitting ---------------------------------------------------------------------------------
def test_a_valid_form_becomes_a_case_and_shows_its_receipt(
    client: Client, category: Category
) -> None:
    response = post(client, form_data(**{"f-photos": [upload("IMG_1", JPEG_BYTES)]}))

    assert response.status_code == 303
    assert response["Location"] == f"/e/recycling/receipt/{TOKEN}/?lang=sv"
    message = InboundMessage.objects.get()
    assert (message.channel, message.source, message.external_id) == (
        Channel.ESERVICE,
        "eservice:recycling",
        TOKEN,
    )
    assert message.status == InboundStatus.PROCESSED
    case = Case.objects.get()
    assert message.case == case
    assert case.category == category
    assert case.language == "sv"
    assert case.origin_channel == Channel.ESERVICE
    assert case.subject.startswith("Full återvinningsstation: Containern för plast är full")
    assert case.description.startswith("Containern för plast är full och det ligger")
    assert "Station: Storgatan 5" in case.description
    assert "Antal säckar: 4" in case.description
    assert "Material: Plast" in case.description
    assert "Blockerar vägen: Ja" in case.description
    assert "59.3293,18.0686" in case.description
    assert "Bilder: IMG_1" in case.description
    contact = Contact.objects.get(case=case)
    assert (contact.channel, contact.nature) == (Channel.ESERVICE, Nature.TRANSACTION)
    assert contact.resident == case.resident
    assert message.contact == contact  # the record points at the contact it became
    resident = case.resident
    assert resident.name == "Anna Andersson"
    assert resident.preferred_language == "sv"
    assert list(resident.emails.values_list("address", flat=True)) == ["anna@example.org"]
    assert "ip" not in str(message.payload.get("client", {})).lower().replace("ip_hash", "")
    assert "203.0.113.7" not in str(message.payload)

    attachment = InboundAttachment.objects.get(message=message)
    assert (attachment.filename, attachment.content_type) == ("IMG_1", "image/jpeg")
    assert attachment.file.name.endswith(".jpg")
    assert attachment.file.read() == JPEG_BYTES

    receipt = client.get(response["Location"])
    assert receipt.status_code == 200
    assert case.reference in receipt.content.decode()
    assert "Full återvinningsstation" in receipt.content.decode()


def test_the_receipt_reveals_nothing_the_resident_wrote(client: Client, category: Category) -> None:
    location = post(client, form_data())["Location"]
    body = Client().get(location).content.decode()
    assert "Containern" not in body and "Anna" not in body and "anna@example.org" not in body


def test_an_unknown_receipt_token_is_a_404(client: Client, category: Category) -> None:
    post(client, form_data())
    assert client.get(f"/e/recycling/receipt/{'b' * 32}/").status_code == 404
    assert client.get(f"/e/other/receipt/{TOKEN}/").status_code == 404


def test_a_double_submission_makes_one_case(client: Client, category: Category) -> None:
    first = post(client, form_data())
    second = post(client, form_data())

    assert first["Location"] == second["Location"]
    assert InboundMessage.objects.count() == 1
    assert Case.objects.count() == 1
    assert OutboundMessage.objects.count() == 1


def test_a_token_we_never_issued_still_works_and_deduplicates(
    client: Client, category: Category
) -> None:
    own = "made-up-by-a-script-1234"
    post(client, form_data(token=own))
    post(client, form_data(token=own))
    assert InboundMessage.objects.get().external_id == own
    assert Case.objects.count() == 1


def test_a_post_without_a_token_is_still_accepted(client: Client, category: Category) -> None:
    response = post(client, form_data(token=None))
    assert response.status_code == 303
    assert Case.objects.count() == 1


def test_a_changed_repost_with_the_same_token_is_a_new_submission(
    client: Client, category: Category
) -> None:
    """Back in the browser, change the text, send again: not a double click; keep both."""
    post(client, form_data())
    response = post(client, form_data(description="Nu ligger det ännu fler säckar på marken."))
    assert InboundMessage.objects.count() == 2
    assert Case.objects.count() == 2
    assert (
        TOKEN in response["Location"]
        and response["Location"] != f"/e/recycling/receipt/{TOKEN}/?lang=sv"
    )


# --- Receipts ------------------------------------------------------------------------------------
def test_an_email_address_gets_a_receipt_in_the_residents_language(
    client: Client, category: Category
) -> None:
    post(client, form_data(), lang="da")
    case = Case.objects.get()
    row = OutboundMessage.objects.get()
    assert (row.channel, row.kind, row.status, row.to) == (
        "email",
        "receipt",
        "pending",
        "anna@example.org",
    )
    assert row.auto_generated is True
    assert row.case == case and row.resident == case.resident
    assert case.reference in row.subject and case.reference in row.body
    assert "Vi har modtaget" in row.subject
    assert "Containern" not in row.body  # the resident's own text is not mailed back


def test_a_mobile_number_alone_gets_an_sms_receipt_row(client: Client, category: Category) -> None:
    post(client, form_data(email="", phone="070-123 45 67", contact_preference="sms"))
    row = OutboundMessage.objects.get()
    assert (row.channel, row.kind, row.status, row.to) == (
        "sms",
        "receipt",
        "pending",
        "+46701234567",
    )
    assert Case.objects.get().reference in row.body


def test_an_anonymous_report_gets_a_case_but_no_receipt_message(
    client: Client, category: Category
) -> None:
    post(client, form_data(email="", name="", contact_preference=""))
    case = Case.objects.get()
    assert case.resident is None
    assert not OutboundMessage.objects.exists()


def test_a_sensitive_categorys_name_is_not_mailed(client: Client, category: Category) -> None:
    Category.objects.filter(pk=category.pk).update(sensitive=True)
    post(client, form_data())
    row = OutboundMessage.objects.get()
    assert "återvinningsstation" not in row.body.lower()


# --- When processing fails -----------------------------------------------------------------------
def test_a_failed_processing_keeps_the_submission_and_still_gives_a_receipt(
    client: Client, category: Category, monkeypatch: pytest.MonkeyPatch
) -> None:
    from channels_app.eservice import processor

    def broken(**kwargs: Any) -> tuple[Case, Contact]:
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(processor, "case_create_with_contact", broken)
    response = post(client, form_data())

    message = InboundMessage.objects.get()
    assert message.status == InboundStatus.QUARANTINED
    assert "database hiccup" in message.reason
    assert message.payload["description"].startswith("Containern")
    assert not Case.objects.exists() and not OutboundMessage.objects.exists()
    receipt = client.get(response["Location"])
    assert receipt.status_code == 200
    assert f"E-{message.pk}" in receipt.content.decode()


def test_reprocessing_a_quarantined_submission_gives_the_same_case(
    client: Client,
    category: Category,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    from channels_app import intake
    from channels_app.eservice import processor

    original = processor.case_create_with_contact
    monkeypatch.setattr(
        processor, "case_create_with_contact", lambda **kw: (_ for _ in ()).throw(RuntimeError("x"))
    )
    post(client, form_data())
    message = InboundMessage.objects.get()
    monkeypatch.setattr(processor, "case_create_with_contact", original)

    with django_capture_on_commit_callbacks(execute=True):  # the requeued task runs eagerly
        intake.inbound_requeue(message_ids=[message.pk])
    message.refresh_from_db()
    assert message.status == InboundStatus.PROCESSED
    case = message.case
    assert case.subject.startswith("Full återvinningsstation: Containern")
    assert "Station: Storgatan 5" in case.description
    assert case.language == "sv"


# --- Bots ---------------------------------------------------------------------------------------
def test_a_filled_honeypot_is_recorded_as_ignored_and_makes_no_case(
    client: Client, category: Category
) -> None:
    response = post(client, form_data(website="http://spam.example"))

    assert response.status_code == 303
    message = InboundMessage.objects.get()
    assert message.status == InboundStatus.IGNORED
    assert message.reason == "honeypot"
    assert message.payload["honeypot"] is True
    assert message.payload["post"]["website"] == ["http://spam.example"]
    assert not Case.objects.exists() and not Resident.objects.exists()
    assert not OutboundMessage.objects.exists()
    receipt = client.get(response["Location"])
    assert receipt.status_code == 200  # a neutral page: the bot learns nothing
    assert f"E-{message.pk}" not in receipt.content.decode()


def test_too_many_posts_from_one_address_get_a_polite_429_and_nothing_is_recorded(
    client: Client, category: Category, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.ESERVICE_RATE_LIMIT_PER_HOUR = 2
    post(client, form_data(token="a" * 20))
    post(client, form_data(token="b" * 20))
    before = InboundMessage.objects.count()

    response = post(client, form_data(token="c" * 20), lang="da")

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    body = response.content.decode()
    assert 'lang="da"' in body and "Prøv igen efter" in body
    assert InboundMessage.objects.count() == before == 2
    assert Case.objects.count() == 2
    other = client.post(
        "/e/recycling/?lang=sv", form_data(token="d" * 20), REMOTE_ADDR="198.51.100.1"
    )
    assert other.status_code == 303  # another address is not limited


def test_behind_our_proxy_residents_are_counted_apart_and_spoofing_does_not_help(
    client: Client, category: Category, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.ESERVICE_RATE_LIMIT_PER_HOUR = 1
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    via_proxy = {"REMOTE_ADDR": "10.0.0.2"}
    # Two residents behind the municipality's proxy: each has their own allowance.
    first = client.post(
        "/e/recycling/?lang=sv",
        form_data(token="p" * 20),
        HTTP_X_FORWARDED_FOR="198.51.100.7",
        **via_proxy,
    )
    second = client.post(
        "/e/recycling/?lang=sv",
        form_data(token="q" * 20),
        HTTP_X_FORWARDED_FOR="198.51.100.8",
        **via_proxy,
    )
    assert (first.status_code, second.status_code) == (303, 303)
    # A bot reaching us directly cannot reset its count with a made-up X-Forwarded-For.
    bot = {"REMOTE_ADDR": "203.0.113.5"}
    assert client.post("/e/recycling/?lang=sv", form_data(token="r" * 20), **bot).status_code == 303
    before = InboundMessage.objects.count()
    spoofed = client.post(
        "/e/recycling/?lang=sv", form_data(token="s" * 20), HTTP_X_FORWARDED_FOR="192.0.2.99", **bot
    )
    assert spoofed.status_code == 429
    assert InboundMessage.objects.count() == before


# --- Validation ---------------------------------------------------------------------------------
def test_errors_are_shown_next_to_each_field_and_in_a_summary(
    client: Client, category: Category
) -> None:
    response = post(
        client,
        form_data(
            description="", **{"f-station": "", "f-bags": "många", "email": "inte en adress"}
        ),
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert not InboundMessage.objects.exists()
    assert body.count('aria-invalid="true"') >= 4
    summary = re.search(
        r'<div class="error-summary" role="alert" tabindex="-1"[^>]*>(.*?)</div>', body, re.S
    )
    assert summary, body
    for anchor in ("#id_description", "#id_f-station", "#id_f-bags", "#id_email"):
        assert f'href="{anchor}"' in summary.group(1)
    assert "Beskriv ditt ärende." in body
    assert (
        'aria-describedby="id_f-bags-error"' in body
        or 'aria-describedby="id_f-bags-hint id_f-bags-error"' in body
    )
    assert '<p class="error-message" id="id_f-bags-error">' in body
    assert "<title>Fel: Full återvinningsstation" in body
    # What the resident wrote is kept, and the same token goes back into the form.
    assert "många" in body and f'value="{TOKEN}"' in body


def test_a_refused_attachment_is_named_and_files_must_be_chosen_again(
    client: Client, category: Category
) -> None:
    response = post(
        client,
        form_data(**{"f-photos": [upload("faktura.pdf", EXE_BYTES), upload("ok.pdf", PDF_BYTES)]}),
    )
    body = response.content.decode()
    assert "faktura.pdf" in body and "program" in body
    assert "välj dem igen" in body
    assert not InboundMessage.objects.exists() and not InboundAttachment.objects.exists()


def test_contact_preference_needs_the_matching_detail(client: Client, category: Category) -> None:
    response = post(client, form_data(email="", contact_preference="email"))
    assert "Ange din e-postadress eller välj ett annat sätt." in response.content.decode()
    response = post(client, form_data(contact_preference="letter", address="", name=""), lang="en")
    body = response.content.decode()
    assert "Give your postal address, or choose another way." in body
    assert "Give your name, so that a letter reaches you." in body
    assert not InboundMessage.objects.exists()


def test_the_payload_is_json_with_the_cleaned_values(client: Client, category: Category) -> None:
    post(client, form_data(**{"f-others": ["paper", "glass"], "phone": "+45 32 12 34 56"}))
    payload = InboundMessage.objects.get().payload
    assert payload["fields"]["others"] == ["paper", "glass"]
    assert payload["fields"]["where"] == {"lat": 59.3293, "long": 18.0686}
    assert payload["fields"]["blocked"] is True
    assert payload["phone"] == "+4532123456"
    assert payload["email"] == "anna@example.org"
    assert len(payload["client"]["ip_hash"]) == 32


def test_the_same_address_finds_the_same_resident(
    client: Client, category: Category, org: Org
) -> None:
    post(client, form_data(token="x" * 20))
    post(client, form_data(token="y" * 20, description="En annan sak helt och hållet."))
    assert Resident.objects.count() == 1
    assert Case.objects.filter(resident__isnull=False).count() == 2
    assert CaseEvent.objects.filter(kind="created").count() == 2


def test_the_receipt_greeting_leaves_out_the_free_text_name(
    client: Client, category: Category
) -> None:
    # Given a submission whose "name" is an advertisement
    # When it is posted in Swedish and in Danish
    post(client, form_data(name="Buy pills at evil.example"), lang="sv")
    post(
        client,
        form_data(token="tok_" + "d" * 28, name="Buy pills at evil.example", email="b@example.org"),
        lang="da",
    )
    # Then each receipt greets without the name, and the name is nowhere in it
    sv, da = OutboundMessage.objects.order_by("pk")
    assert sv.body.splitlines()[0] == "Hej,"
    assert da.body.splitlines()[0] == "Hej,"
    assert "evil.example" not in sv.body + sv.subject + da.body + da.subject


def test_a_second_receipt_to_the_same_address_within_the_window_is_not_written(
    client: Client, category: Category, settings: Any
) -> None:
    # Given an automatic message already went to the address within AUTO_REPLY_WINDOW_HOURS
    settings.AUTO_REPLY_WINDOW_HOURS = 24
    post(client, form_data())
    first = OutboundMessage.objects.get()
    # When another form names the same address (as typed, in another case)
    post(client, form_data(token="tok_" + "c" * 28, email="ANNA@example.org", description="Nytt"))
    # Then the second case exists, but no second receipt was written
    assert Case.objects.count() == 2
    assert list(OutboundMessage.objects.values_list("pk", "to")) == [(first.pk, "anna@example.org")]


def test_a_receipt_is_written_again_once_the_window_has_passed(
    client: Client, category: Category, settings: Any
) -> None:
    # Given the only automatic message to the address is older than the window
    settings.AUTO_REPLY_WINDOW_HOURS = 24
    post(client, form_data())
    OutboundMessage.objects.update(created_at=timezone.now() - datetime.timedelta(hours=25))
    # When another form names the address
    post(client, form_data(token="tok_" + "c" * 28, description="Nytt"))
    # Then it gets its receipt
    assert OutboundMessage.objects.filter(to="anna@example.org").count() == 2


def test_the_place_of_the_fault_is_kept_for_finding_duplicates(
    client: Client, category: Category
) -> None:
    post(client, form_data(**{"f-where": "59.329312,18.068581"}))
    post(client, form_data(token="tok_" + "b" * 28, **{"f-where": "Storgatan 5,  Exempelstad"}))

    keys = sorted(Case.objects.values_list("location_key", flat=True))
    assert keys == ["addr:storgatan 5 exempelstad", "geo:59.3293,18.0686"]
