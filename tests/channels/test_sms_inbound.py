"""Residents' SMS to our numbers: the signed webhook, recorded once per MessageSid, processed
into a contact on the resident's case; STOP and START respected everywhere we send SMS.

The payloads are Twilio's incoming-message webhooks under tests/fixtures/twilio/, signed with
the real ``twilio.request_validator.RequestValidator``.
"""

from __future__ import annotations

import pytest
from django.utils import timezone
from twilio.request_validator import RequestValidator

from cases.choices import Channel, ContactPreference
from cases.models import Case, CaseState, Contact, Resident
from cases.services.actors import Actor
from cases.services.cases import ContactInput, case_create
from cases.services.residents import resident_find_or_create_by_contact
from cases.services.transitions import case_open, case_resolve_at_first_contact
from channels_app.models import (
    InboundMessage,
    InboundStatus,
    OutboundMessage,
    OutboundStatus,
    SmsOptOut,
)
from channels_app.notices.services import notice_route
from channels_app.sms.outbound import sms_send
from channels_app.sms.replies import case_reply_sms
from common.exceptions import ApplicationError
from tests.channels.test_sms import (
    AUTH_TOKEN,
    PUBLIC,
    callback_form,
    post_callback,
    recorded,
    recorded_twilio,
)
from tests.municipality import Org

pytestmark = pytest.mark.django_db

INBOUND_PATH = "/intake/sms/inbound/"


@pytest.fixture
def cloud(settings):  # type: ignore[no-untyped-def]
    """Twilio configured, its cloud replayed (``tests.channels.test_sms.RecordedTwilio``)."""
    with recorded_twilio(settings) as replayed:
        yield replayed


EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'
ANNA = "+46701234567"


@pytest.fixture
def inbound(cloud, django_capture_on_commit_callbacks, routing_deferred):  # type: ignore[no-untyped-def]
    """Post a recorded webhook, signed, and run the processing task it enqueues (eagerly).
    Routing is recorded, not run (``test_the_new_case_is_routed_and_its_receipt_goes_by_sms``
    runs the whole chain)."""

    def post(name: str, **changes: str):  # type: ignore[no-untyped-def]
        params = {**callback_form(name), **changes}
        with django_capture_on_commit_callbacks(execute=True):
            return post_callback(params, path=INBOUND_PATH)

    return post


def test_an_sms_from_a_new_number_opens_a_case_for_a_new_resident(org: Org, inbound) -> None:  # type: ignore[no-untyped-def]
    response = inbound("inbound_sms_sv.form")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.decode() == EMPTY_TWIML
    message = InboundMessage.objects.get()
    assert (message.channel, message.source, message.external_id) == (
        Channel.SMS,
        "sms:+46766920000",
        "SM5a1c0e2b7d3f4e8a9b0c1d2e3f4a5b6c",
    )
    assert (message.status, message.reason) == (InboundStatus.PROCESSED, "New case.")
    case = message.case
    text = "Hej! Soptunnan på Storgatan 12 har inte tömts på två veckor."
    assert (case.subject, case.description, case.origin_channel) == (text, text, Channel.SMS)
    assert list(case.resident.phones.values_list("number", flat=True)) == [ANNA]
    assert case.resident.preferred_channel == ContactPreference.SMS
    contact = Contact.objects.get(case=case)
    assert (contact.channel, contact.direction, contact.summary) == (Channel.SMS, "in", text)
    assert message.contact == contact
    assert b"Body=Hej%21+Soptunnan" in bytes(message.raw)  # every parameter kept raw


def test_twilio_delivering_the_webhook_twice_gives_one_record_and_one_contact(
    org: Org, inbound
) -> None:  # type: ignore[no-untyped-def]
    first = inbound("inbound_sms_sv.form")
    second = inbound("inbound_sms_sv.form")

    assert (first.status_code, second.status_code) == (200, 200)
    assert InboundMessage.objects.count() == 1
    assert Case.objects.count() == 1 and Contact.objects.count() == 1


@pytest.mark.parametrize("signature", ["wrong token", "other url", "none"])
def test_an_unsigned_or_wrongly_signed_sms_is_refused_and_writes_nothing(
    org: Org, cloud, signature: str
) -> None:  # type: ignore[no-untyped-def]
    params = callback_form("inbound_sms_sv.form")
    if signature == "wrong token":
        response = post_callback(params, path=INBOUND_PATH, token="not-our-token")
    elif signature == "other url":
        response = post_callback(
            params, path=INBOUND_PATH, signed_url="https://evil.example" + INBOUND_PATH
        )
    else:
        response = post_callback(params, path=INBOUND_PATH, signature="")

    assert response.status_code == 403
    assert not InboundMessage.objects.exists()
    assert not Case.objects.exists() and not Resident.objects.exists()


def test_a_webhook_without_a_message_sid_is_refused(org: Org, inbound) -> None:  # type: ignore[no-untyped-def]
    response = inbound("inbound_sms_sv.form", MessageSid="", SmsSid="")
    assert response.status_code == 400
    assert not InboundMessage.objects.exists()


def test_the_next_sms_continues_the_residents_active_case(org: Org, inbound) -> None:  # type: ignore[no-untyped-def]
    inbound("inbound_sms_sv.form")
    case = Case.objects.get()

    inbound(
        "inbound_sms_sv.form",
        MessageSid="SM00000000000000000000000000000002",
        Body="Det gäller den gröna tunnan.",
    )

    assert Case.objects.count() == 1
    assert list(case.contacts.order_by("pk").values_list("summary", flat=True))[1] == (
        "Det gäller den gröna tunnan."
    )
    second = InboundMessage.objects.get(external_id="SM00000000000000000000000000000002")
    assert second.case == case and second.reason == f"Continues {case.reference}."


def test_an_sms_after_a_resolved_case_reopens_it(org: Org, inbound) -> None:  # type: ignore[no-untyped-def]
    resident = resident_find_or_create_by_contact(phone=ANNA)
    case = case_create(
        actor=Actor.staff(org.agent),
        subject="Tunnan",
        resident=resident,
        contact=ContactInput(channel=Channel.PHONE),
    )
    case_open(actor=Actor.staff(org.agent), case_id=case.pk)
    case_resolve_at_first_contact(actor=Actor.staff(org.agent), case_id=case.pk, reason="Svar")

    inbound("inbound_sms_sv.form", Body="Den är fortfarande inte tömd!")

    case.refresh_from_db()
    assert case.state == CaseState.OPEN
    assert Case.objects.count() == 1
    assert (
        case.contacts.filter(channel=Channel.SMS).get().summary == "Den är fortfarande inte tömd!"
    )
    assert InboundMessage.objects.get().reason == f"Continues {case.reference}. Case reopened."


def test_a_picture_message_keeps_its_media_address_in_the_contact(org: Org, inbound) -> None:  # type: ignore[no-untyped-def]
    inbound("inbound_mms_da.form")

    case = Case.objects.get()
    assert case.subject == "Här är hålet i gatan"
    summary = case.contacts.get().summary
    assert summary.startswith("Här är hålet i gatan\nimage/jpeg https://api.twilio.com/")
    assert summary.endswith("/Media/ME0f1e2d3c4b5a69788796a5b4c3d2e1f0")
    assert list(case.resident.phones.values_list("number", flat=True)) == ["+4532123456"]


def test_a_sender_that_is_not_a_phone_number_is_quarantined(org: Org, inbound) -> None:  # type: ignore[no-untyped-def]
    inbound("inbound_sms_sv.form", From="Kommunen")

    message = InboundMessage.objects.get()
    assert message.status == InboundStatus.QUARANTINED
    assert message.reason == "The sender's number 'Kommunen' is not a usable phone number."
    assert not Case.objects.exists()


# --- STOP and START -------------------------------------------------------------------------
def test_stop_opts_the_number_out_and_makes_no_case(org: Org, inbound) -> None:  # type: ignore[no-untyped-def]
    inbound("inbound_sms_stop.form")

    opt_out = SmsOptOut.objects.get()
    assert (opt_out.number, opt_out.keyword) == (ANNA, "STOP")
    message = InboundMessage.objects.get()
    assert message.status == InboundStatus.IGNORED
    assert message.reason == f"Opt-out (STOP): no more SMS to {ANNA}."
    assert not Case.objects.exists()


@pytest.mark.parametrize("body", ["stopp", "AVSLUTA!", " Afmeld. "])
def test_the_swedish_and_danish_words_opt_out_too(org: Org, inbound, body: str) -> None:  # type: ignore[no-untyped-def]
    inbound("inbound_sms_stop.form", Body=body)
    assert SmsOptOut.objects.filter(number=ANNA).exists()


def test_stop_inside_a_sentence_is_a_message(org: Org, inbound) -> None:  # type: ignore[no-untyped-def]
    inbound("inbound_sms_stop.form", Body="Stoppa inte vattnet i morgon")
    assert not SmsOptOut.objects.exists()
    assert Case.objects.get().subject == "Stoppa inte vattnet i morgon"


def test_start_opts_the_number_in_again(org: Org, inbound) -> None:  # type: ignore[no-untyped-def]
    inbound("inbound_sms_stop.form")
    inbound("inbound_sms_start.form")
    assert not SmsOptOut.objects.exists()
    assert InboundMessage.objects.filter(status=InboundStatus.IGNORED).count() == 2


def test_notices_skip_sms_to_a_number_that_answered_stop(org: Org, inbound) -> None:  # type: ignore[no-untyped-def]
    resident = resident_find_or_create_by_contact(phone=ANNA)
    resident.emails.create(address="anna@example.org")
    assert notice_route(resident, today=timezone.localdate()).channel == Channel.SMS  # preferred

    inbound("inbound_sms_stop.form")

    route = notice_route(resident, today=timezone.localdate())
    assert (route.channel, route.to) == (Channel.EMAIL, "anna@example.org")


def test_a_reply_by_sms_to_an_opted_out_number_is_refused_and_writes_nothing(
    org: Org, inbound
) -> None:  # type: ignore[no-untyped-def]
    inbound("inbound_sms_sv.form")
    case = Case.objects.get()
    case_open(actor=Actor.staff(org.agent), case_id=case.pk)
    inbound("inbound_sms_stop.form")
    contacts = case.contacts.count()

    with pytest.raises(ApplicationError) as refused:
        case_reply_sms(actor=Actor.staff(org.agent), case_id=case.pk, body="Vi tömmer i dag.")

    assert refused.value.code == "sms_opted_out"
    assert not OutboundMessage.objects.filter(channel=Channel.SMS, kind="reply").exists()
    assert case.contacts.count() == contacts


def test_an_sms_queued_before_the_stop_is_not_sent(org: Org, cloud, inbound) -> None:  # type: ignore[no-untyped-def]
    row = OutboundMessage.objects.create(channel=Channel.SMS, to=ANNA, body="Hej", kind="notice")
    inbound("inbound_sms_stop.form")

    assert sms_send(outbound_id=row.pk) is False

    row.refresh_from_db()
    assert (row.status, row.error) == (
        OutboundStatus.FAILED,
        "The recipient answered STOP (opted out).",
    )
    assert cloud.requests == []  # nothing reached Twilio


def test_the_signature_is_over_our_public_url(org: Org, cloud, inbound) -> None:  # type: ignore[no-untyped-def]
    # Behind a proxy the request arrives as http://127.0.0.1/...; Twilio signed the public URL.
    params = callback_form("inbound_sms_sv.form")
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + INBOUND_PATH, params)
    response = post_callback(params, path=INBOUND_PATH, signature=signature)
    assert response.status_code == 200


def test_the_new_case_is_routed_and_its_receipt_goes_by_sms(
    org: Org, cloud, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    # Given Twilio accepts the SMS we send
    cloud.answers.append(recorded("messages_create_queued.json"))
    # When a resident texts us (routing and the notice run as their tasks would)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_callback(callback_form("inbound_sms_sv.form"), path=INBOUND_PATH)
    # Then the case is routed once and the resident gets the reference by SMS, in Swedish
    assert response.status_code == 200
    case = Case.objects.get()
    assert case.state != CaseState.NEW
    receipt = OutboundMessage.objects.get(channel=Channel.SMS)
    assert (receipt.to, receipt.kind, receipt.status) == (
        ANNA,
        "notice:received",
        OutboundStatus.SENT,
    )
    assert case.reference in receipt.body
    [sent] = cloud.requests
    assert sent["data"]["To"] == ANNA and case.reference in sent["data"]["Body"]
