"""Status notices to residents: which transitions send one, through which channel, in which
language, to whom; the office's letter queue and phone tasks; nothing on a rollback.

SMS go through the real ``twilio`` client with Twilio's cloud replayed (see test_sms.py).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client
from django.utils import timezone

from cases.choices import Channel, Direction
from cases.models import Case, Contact, Resident
from cases.services.actors import Actor
from cases.services.cases import ContactInput, case_create
from cases.services.residents import resident_add_representative, resident_create
from cases.services.transitions import (
    case_accept,
    case_forward,
    case_open,
    case_resolve,
    case_resolve_at_first_contact,
    case_wait_for_resident,
)
from channels_app.models import OutboundMessage, OutboundStatus
from channels_app.notices.services import notice_received
from channels_app.notices.tasks import outbound_sweep_task
from tests.channels.test_sms import PUBLIC, SENDER, RecordedTwilio, recorded, recorded_twilio
from tests.municipality import Org

pytestmark = pytest.mark.django_db


@pytest.fixture
def twilio(settings) -> Iterator[type[RecordedTwilio]]:  # type: ignore[no-untyped-def]
    with recorded_twilio(settings) as client:
        yield client


def make_resident(org: Org, **fields: Any) -> Resident:
    values: dict[str, Any] = {"name": "Anna Andersson"}
    values.update(fields)
    return resident_create(actor=Actor.staff(org.agent), **values)


def make_case(
    org: Org, resident: Resident | None, *, category=None, subject: str = "Soptunnan tömdes inte"
) -> Case:  # type: ignore[no-untyped-def]
    return case_create(
        actor=Actor.staff(org.agent),
        subject=subject,
        category=category if category is not None else org.bins,
        resident=resident,
        contact=ContactInput(channel=Channel.PHONE),
    )


def notices(case: Case) -> list[OutboundMessage]:
    return list(OutboundMessage.objects.filter(case=case).order_by("pk"))


def forward(org: Org, case: Case) -> Case:
    return case_forward(actor=Actor.staff(org.agent), case_id=case.pk)


# --- e-mail ----------------------------------------------------------------------------------
def test_a_forward_sends_the_resident_an_email_in_swedish(
    org: Org, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    settings.PUBLIC_BASE_URL = PUBLIC
    resident = make_resident(org, emails=["anna@example.se"], preferred_channel="email")
    case = make_case(org, resident)

    with django_capture_on_commit_callbacks(execute=True):
        forward(org, case)

    [row] = notices(case)
    ref = case.reference
    assert (row.channel, row.kind, row.to, row.recipient_role, row.because_exempt) == (
        Channel.EMAIL,
        "notice:forwarded",
        "anna@example.se",
        "resident",
        False,
    )
    assert row.subject == f"Ditt ärende {ref} har skickats vidare"
    assert row.body == (
        "Hej Anna Andersson,\n\n"
        f"Ditt ärende {ref} har skickats vidare till Avfall, som nu handlägger det.\n\n"
        "Ämne: Soptunnan tömdes inte\n\n"
        "Har du frågor eller vill du lägga till något? Svara på det här mejlet och behåll\n"
        f"ärendenumret {ref} i ämnesraden.\n\n"
        f"Du kan följa ärendet här: {PUBLIC}/cases/{ref}/\n\n"
        "Med vänliga hälsningar\nKontaktcenter\n\n"
    )
    # sent after commit, as an automatic message
    row.refresh_from_db()
    assert row.status == OutboundStatus.SENT
    [sent] = [m for m in mail.outbox if m.to == ["anna@example.se"]]
    assert sent.subject == row.subject
    assert sent.extra_headers["Auto-Submitted"] == "auto-generated"
    assert sent.extra_headers["Message-ID"] == row.message_id
    # and recorded as an outbound e-mail contact on the case
    contact = Contact.objects.get(pk=row.contact_id)
    assert (contact.case_id, contact.channel, contact.direction) == (
        case.pk,
        Channel.EMAIL,
        Direction.OUTBOUND,
    )
    assert contact.summary == "Status notice “forwarded” by E-mail."


def test_asking_the_resident_puts_the_question_in_the_notice(
    org: Org, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    resident = make_resident(org, emails=["anna@example.se"], preferred_language="en")
    case = make_case(org, resident)
    case_open(actor=Actor.staff(org.agent), case_id=case.pk)

    with django_capture_on_commit_callbacks(execute=True):
        case_wait_for_resident(
            actor=Actor.staff(org.agent), case_id=case.pk, reason="A photo of the bin, please."
        )

    [row] = notices(case)
    assert row.kind == "notice:waiting"
    assert row.subject == f"We need more information in case {case.reference}"
    assert (
        f"We need more information from you before we can continue with case {case.reference}.\n\n"
        "Subject: Soptunnan tömdes inte\n\n"
        "This is what we need:\nA photo of the bin, please.\n"
    ) in row.body
    assert len(mail.outbox) == 1


def test_resolving_sends_a_danish_notice(org: Org) -> None:
    resident = make_resident(org, emails=["bo@example.dk"], preferred_language="da")
    case = make_case(org, resident)
    forward(org, case)
    case_accept(actor=Actor.staff(org.waste_handler), case_id=case.pk)

    case_resolve(actor=Actor.staff(org.waste_handler), case_id=case.pk, reason="Tömd.")

    kinds = [(r.kind, r.subject) for r in notices(case)]
    assert kinds == [
        ("notice:forwarded", f"Din sag {case.reference} er sendt videre"),
        ("notice:resolved", f"Din sag {case.reference} er færdigbehandlet"),
    ]
    resolved = notices(case)[1]
    assert f"Din sag {case.reference} er færdigbehandlet." in resolved.body
    assert "Tömd" not in resolved.body  # the resolution note is internal


def test_a_forwarded_notice_names_the_department_in_the_residents_language(org: Org) -> None:
    resident = make_resident(org, emails=["anna@example.se"], preferred_language="en")
    case = make_case(org, resident)

    forward(org, case)

    assert "passed on to Waste, who are now handling it." in notices(case)[0].body


def test_transitions_residents_do_not_care_about_send_nothing(org: Org) -> None:
    resident = make_resident(org, emails=["anna@example.se"])
    case = make_case(org, resident)

    case_open(actor=Actor.staff(org.agent), case_id=case.pk)

    assert notices(case) == []


def test_a_case_without_a_resident_sends_nothing(org: Org) -> None:
    case = make_case(org, None)

    forward(org, case)

    assert notices(case) == []


def test_a_sensitive_case_never_carries_its_content_by_email(org: Org, settings) -> None:  # type: ignore[no-untyped-def]
    settings.PUBLIC_BASE_URL = PUBLIC
    org.bins.sensitive = True
    org.bins.save()
    resident = make_resident(org, emails=["anna@example.se"])
    case = make_case(org, resident, subject="Orosanmälan granne")
    case_open(actor=Actor.staff(org.agent), case_id=case.pk)

    case_wait_for_resident(
        actor=Actor.staff(org.agent), case_id=case.pk, reason="Namnet på barnets skola."
    )

    [row] = notices(case)
    ref = case.reference
    assert row.subject == f"Det finns nyheter i ditt ärende {ref}"
    assert row.body == (
        "Hej,\n\n"
        f"Det finns nyheter i ditt ärende {ref}. Av sekretesskäl skriver vi inte vad det gäller\n"
        "i mejl eller sms. Läs mer här:\n\n"
        f"{PUBLIC}/cases/{ref}/\n\n"
        "Med vänliga hälsningar\nKontaktcenter\n\n"
    )


# --- SMS -------------------------------------------------------------------------------------
def test_a_resident_who_prefers_sms_gets_one_through_twilio(
    org: Org, twilio, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    resident = make_resident(
        org, emails=["anna@example.se"], phones=["+46701234567"], preferred_channel="sms"
    )
    case = make_case(org, resident)
    case_open(actor=Actor.staff(org.agent), case_id=case.pk)
    twilio.answers.append(recorded("messages_create_queued.json"))

    with django_capture_on_commit_callbacks(execute=True):
        case_wait_for_resident(
            actor=Actor.staff(org.agent), case_id=case.pk, reason="Ett foto av tunnan."
        )

    [row] = notices(case)
    ref = case.reference
    text = (
        f"Vi behöver mer information från dig i ärende {ref}. Det här behöver vi: "
        f"Ett foto av tunnan. Läs mer: {PUBLIC}/cases/{ref}/ /Kontaktcenter"
    )
    assert (row.channel, row.to, row.body) == (Channel.SMS, "+46701234567", text)
    [request] = twilio.requests
    assert request["data"] == {
        "To": "+46701234567",
        "From": SENDER,
        "Body": text,
        "StatusCallback": f"{PUBLIC}/intake/sms/status/?outbound={row.pk}",
    }
    row.refresh_from_db()
    assert (row.status, row.provider_id) == (
        OutboundStatus.SENT,
        "SM1f0e8ae6ade43cb3c0ce4525424e404f",
    )
    assert Contact.objects.get(pk=row.contact_id).channel == Channel.SMS
    assert mail.outbox == []


def test_a_sensitive_case_by_sms_says_only_that_there_is_news(org: Org, twilio) -> None:  # type: ignore[no-untyped-def]
    org.bins.sensitive = True
    org.bins.save()
    resident = make_resident(org, phones=["+46701234567"], preferred_channel="sms")
    case = make_case(org, resident)

    forward(org, case)

    [row] = notices(case)
    assert row.body == (
        f"Det finns nyheter i ditt ärende {case.reference}. "
        f"Läs mer: {PUBLIC}/cases/{case.reference}/ /Kontaktcenter"
    )
    assert "Avfall" not in row.body


def test_an_invalid_number_is_marked_failed_not_retried(
    org: Org, twilio, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    resident = make_resident(org, phones=["+46701234567"], preferred_channel="sms")
    case = make_case(org, resident)
    twilio.answers.append(recorded("messages_create_error_21211.json"))

    with django_capture_on_commit_callbacks(execute=True):
        forward(org, case)
    OutboundMessage.objects.filter(case=case).update(
        created_at=timezone.now() - datetime.timedelta(hours=1)
    )

    assert outbound_sweep_task.delay().get() == 0
    [row] = notices(case)
    assert (row.status, row.attempts) == (OutboundStatus.FAILED, 1)
    assert len(twilio.requests) == 1


# --- channel choice --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fields", "channel", "to"),
    [
        # the preferred channel when we can use it
        (
            {"emails": ["a@example.se"], "phones": ["+46701234567"], "preferred_channel": "sms"},
            "sms",
            "+46701234567",
        ),
        (
            {"emails": ["a@example.se"], "phones": ["+46701234567"], "preferred_channel": "email"},
            "email",
            "a@example.se",
        ),
        # else the other digital one
        ({"emails": ["a@example.se"], "preferred_channel": "sms"}, "email", "a@example.se"),
        ({"phones": ["+46701234567"], "preferred_channel": "email"}, "sms", "+46701234567"),
        ({"emails": ["a@example.se"], "phones": ["+46701234567"]}, "email", "a@example.se"),
        ({"emails": ["a@example.se"], "preferred_channel": "letter"}, "email", "a@example.se"),
        # offline preferences we can honour
        (
            {
                "emails": ["a@example.se"],
                "postal_address": "Storgatan 1\n123 45 Ort",
                "preferred_channel": "letter",
            },
            "letter",
            "Storgatan 1\n123 45 Ort",
        ),
        (
            {"emails": ["a@example.se"], "phones": ["+46701234567"], "preferred_channel": "phone"},
            "phone",
            "+46701234567",
        ),
        # nothing digital: a letter if we have an address, else a call
        ({"postal_address": "Storgatan 1\n123 45 Ort"}, "letter", "Storgatan 1\n123 45 Ort"),
        ({}, "phone", ""),
    ],
)
def test_the_channel_is_the_preferred_one_else_the_next_that_reaches_the_resident(
    org: Org, twilio, fields: dict, channel: str, to: str
) -> None:  # type: ignore[no-untyped-def]
    case = make_case(org, make_resident(org, **fields))

    forward(org, case)

    [row] = notices(case)
    assert (row.channel, row.to, row.because_exempt) == (channel, to, False)
    assert Contact.objects.get(pk=row.contact_id).channel == channel


def test_an_exempt_resident_gets_a_letter_even_with_an_email_address(org: Org) -> None:
    resident = make_resident(
        org,
        emails=["a@example.se"],
        postal_address="Storgatan 1\n123 45 Ort",
        digital_exemption_reason="Synnedsättning",
    )
    case = make_case(org, resident)

    forward(org, case)

    [row] = notices(case)
    assert (row.channel, row.to, row.because_exempt, row.status) == (
        Channel.LETTER,
        "Storgatan 1\n123 45 Ort",
        True,
        OutboundStatus.PENDING,
    )
    assert row.subject == f"Ditt ärende {case.reference} har skickats vidare"
    assert "Kontakta oss och uppge ärendenumret" in row.body  # a letter is not answered by reply
    contact = Contact.objects.get(pk=row.contact_id)
    assert contact.channel == Channel.LETTER
    assert contact.summary == ("Status notice “forwarded” by Letter; exempt from digital channels.")
    assert mail.outbox == []


def test_an_exempt_resident_without_an_address_gets_a_phone_task(org: Org) -> None:
    resident = make_resident(
        org,
        emails=["a@example.se"],
        phones=["+46701234567"],
        digital_exemption_reason="Demens",
    )
    case = make_case(org, resident)

    forward(org, case)

    [row] = notices(case)
    assert (row.channel, row.to, row.because_exempt) == (Channel.PHONE, "+46701234567", True)


def test_an_expired_exemption_no_longer_counts(org: Org) -> None:
    resident = make_resident(
        org,
        emails=["a@example.se"],
        postal_address="Storgatan 1",
        digital_exemption_reason="Tillfälligt",
        digital_exemption_until=timezone.localdate() - datetime.timedelta(days=1),
    )
    case = make_case(org, resident)

    forward(org, case)

    assert [(r.channel, r.because_exempt) for r in notices(case)] == [(Channel.EMAIL, False)]


def test_resolved_at_first_contact_sends_no_notice(org: Org) -> None:
    """The resident was answered in the contact itself: a notice would only repeat it."""
    by_letter = make_case(org, make_resident(org, postal_address="Storgatan 1"))
    by_mail = make_case(org, make_resident(org, name="Bo", emails=["bo@example.se"]))

    for case in (by_letter, by_mail):
        case_resolve_at_first_contact(actor=Actor.staff(org.agent), case_id=case.pk)

    assert notices(by_letter) == []
    assert notices(by_mail) == []


def test_routing_a_phone_case_to_the_contact_center_sends_received_an_email_case_not(
    org: Org,
) -> None:
    from cases.services.routing import case_route

    resident = make_resident(org, emails=["eva@example.se"])
    by_phone = make_case(org, resident)  # phone: no receipt of its own
    by_mail = case_create(
        actor=Actor.resident(Channel.EMAIL),
        subject="Hej",
        contact=ContactInput(channel=Channel.EMAIL),
        resident=resident,
        category=org.bins,
    )

    case_route(case_id=by_phone.pk)
    case_route(case_id=by_mail.pk)

    assert [r.kind for r in notices(by_phone)] == ["notice:received"]
    assert notices(by_mail) == []


# --- representatives --------------------------------------------------------------------------
def test_a_representative_with_a_valid_power_of_attorney_gets_a_copy(org: Org) -> None:
    resident = make_resident(org, emails=["anna@example.se"])
    lawyer = make_resident(org, name="Bo Ombud", phones=["+46709999999"], preferred_language="sv")
    expired = make_resident(org, name="Gammalt Ombud", emails=["old@example.se"])
    silent = make_resident(org, name="Tyst Ombud", emails=["silent@example.se"])
    agent = Actor.staff(org.agent)
    resident_add_representative(actor=agent, resident=resident, representative=lawyer)
    old = resident_add_representative(actor=agent, resident=resident, representative=expired)
    old.valid_until = timezone.localdate() - datetime.timedelta(days=1)
    old.save()
    quiet = resident_add_representative(actor=agent, resident=resident, representative=silent)
    quiet.receives_copies = False
    quiet.save()
    case = make_case(org, resident)

    forward(org, case)

    rows = notices(case)
    assert [(r.recipient_role, r.channel, r.to, r.resident_id) for r in rows] == [
        ("resident", Channel.EMAIL, "anna@example.se", resident.pk),
        ("representative", Channel.SMS, "+46709999999", lawyer.pk),
    ]
    assert rows[1].body.startswith("Kopia till dig som ombud för Anna Andersson. Ditt ärende")
    assert Contact.objects.get(pk=rows[1].contact_id).summary == (
        "Status notice “forwarded” by SMS; copy to the representative Bo Ombud."
    )


# --- received --------------------------------------------------------------------------------
def test_notice_received_is_sent_once_per_case(org: Org) -> None:
    resident = make_resident(org, emails=["anna@example.se"])
    case = make_case(org, resident)

    first = notice_received(case=case)
    again = notice_received(case=case)

    assert [r.kind for r in first] == ["notice:received"]
    assert again == []
    assert first[0].subject == f"Vi har tagit emot ditt ärende {case.reference}"
    assert (
        f"Vi har tagit emot ditt ärende och registrerat det som ärende {case.reference}."
        in first[0].body
    )


# --- transactions ----------------------------------------------------------------------------
def test_a_transition_that_rolls_back_sends_and_leaves_nothing(
    org: Org, twilio, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    resident = make_resident(
        org, emails=["anna@example.se"], phones=["+46701234567"], preferred_channel="sms"
    )
    case = make_case(org, resident)
    contacts = Contact.objects.filter(case=case).count()

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        forward(org, case)
        assert len(notices(case)) == 1  # written inside the transaction...
        raise RuntimeError("something after the transition failed")

    assert notices(case) == []  # ...and gone with it
    assert Contact.objects.filter(case=case).count() == contacts
    assert callbacks == []
    assert twilio.requests == []
    assert mail.outbox == []


def test_the_sweep_sends_a_notice_whose_task_was_lost(org: Org) -> None:
    resident = make_resident(org, emails=["anna@example.se"])
    case = make_case(org, resident)
    forward(org, case)  # no commit in this test: the on-commit send never ran
    OutboundMessage.objects.filter(case=case).update(
        created_at=timezone.now() - datetime.timedelta(minutes=5)
    )

    assert outbound_sweep_task.delay().get() == 1

    [row] = notices(case)
    assert row.status == OutboundStatus.SENT
    assert len(mail.outbox) == 1


# --- the office: letters and calls ------------------------------------------------------------
def as_user(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def letter(org: Org) -> OutboundMessage:
    resident = make_resident(
        org, postal_address="Storgatan 1\n123 45 Ort", digital_exemption_reason="Synnedsättning"
    )
    case = make_case(org, resident)
    forward(org, case)
    return notices(case)[0]


@pytest.fixture
def call(org: Org) -> OutboundMessage:
    resident = make_resident(
        org, name="Cecilia", phones=["+46705555555"], preferred_channel="phone"
    )
    case = make_case(org, resident)
    forward(org, case)
    return notices(case)[0]


def test_the_letter_queue_lists_pending_letters_for_the_contact_center(
    org: Org, letter: OutboundMessage, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    client = as_user(org.agent)
    with django_assert_max_num_queries(6):
        response = client.get("/intake/notices/letters/")
    html = response.content.decode()
    assert response.status_code == 200
    assert letter.case.reference in html
    assert "Storgatan 1" in html
    assert "Exempt from digital channels" in html
    assert f'action="/intake/notices/letters/{letter.pk}/printed/"' in html
    assert "csrfmiddlewaretoken" in html


def test_the_print_view_shows_the_letter_in_the_residents_language(
    org: Org, letter: OutboundMessage
) -> None:
    response = as_user(org.agent).get(f"/intake/notices/letters/{letter.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<article class="letter" lang="sv"' in html
    assert "Anna Andersson\nStorgatan 1\n123 45 Ort" in html
    assert f"Ditt ärende {letter.case.reference} har skickats vidare" in html
    assert as_user(org.agent).get("/intake/notices/letters/print/").status_code == 200


def test_marking_a_letter_printed_records_who_and_counts_once(
    org: Org, letter: OutboundMessage
) -> None:
    client = as_user(org.agent)

    response = client.post(f"/intake/notices/letters/{letter.pk}/printed/")
    assert response.status_code == 302
    letter.refresh_from_db()
    handled_at = letter.handled_at
    assert (letter.status, letter.handled_by_id) == (OutboundStatus.SENT, org.agent.pk)
    assert letter.sent_at is not None

    as_user(org.cc_supervisor).post(f"/intake/notices/letters/{letter.pk}/printed/")
    letter.refresh_from_db()
    assert (letter.handled_by_id, letter.handled_at) == (org.agent.pk, handled_at)
    assert letter.case.reference not in client.get("/intake/notices/letters/").content.decode()


def test_marking_a_call_made(org: Org, call: OutboundMessage) -> None:
    client = as_user(org.agent)
    html = client.get("/intake/notices/calls/").content.decode()
    assert 'href="tel:+46705555555"' in html
    assert '<td lang="sv"><details><summary>Ditt ärende' in html
    assert call.case.reference in html

    client.post(f"/intake/notices/calls/{call.pk}/called/")

    call.refresh_from_db()
    assert (call.status, call.handled_by_id) == (OutboundStatus.DELIVERED, org.agent.pk)
    assert call.delivered_at is not None


def test_a_letter_cannot_be_marked_through_the_call_url(org: Org, letter: OutboundMessage) -> None:
    assert as_user(org.agent).post(f"/intake/notices/calls/{letter.pk}/called/").status_code == 404
    letter.refresh_from_db()
    assert letter.status == OutboundStatus.PENDING


def test_marking_needs_csrf(org: Org, letter: OutboundMessage) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.agent)

    assert client.post(f"/intake/notices/letters/{letter.pk}/printed/").status_code == 403

    letter.refresh_from_db()
    assert letter.status == OutboundStatus.PENDING


@pytest.mark.parametrize("who", ["waste_handler", "waste_supervisor", "comms"])
def test_others_do_not_know_the_office_pages(
    org: Org, who: str, letter: OutboundMessage, call: OutboundMessage
) -> None:
    client = as_user(getattr(org, who))
    for url in (
        "/intake/notices/letters/",
        "/intake/notices/letters/print/",
        f"/intake/notices/letters/{letter.pk}/",
        "/intake/notices/calls/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/intake/notices/letters/{letter.pk}/printed/").status_code == 404
    assert client.post(f"/intake/notices/calls/{call.pk}/called/").status_code == 404
    letter.refresh_from_db()
    call.refresh_from_db()
    assert (letter.status, call.status) == (OutboundStatus.PENDING, OutboundStatus.PENDING)


def test_anonymous_visitors_are_sent_to_the_login(letter: OutboundMessage) -> None:
    response = Client().get("/intake/notices/letters/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_admin_lists_outbound_messages_and_can_hand_pending_ones_to_the_task(
    org: Org, letter: OutboundMessage
) -> None:
    resident = make_resident(org, name="Bo", emails=["bo@example.se"])
    case = make_case(org, resident)
    forward(org, case)  # not committed: its e-mail waits
    [pending_mail] = notices(case)
    client = as_user(org.admin)

    response = client.get("/admin/channels_app/outboundmessage/")
    assert response.status_code == 200
    assert "bo@example.se" in response.content.decode()
    response = client.post(
        "/admin/channels_app/outboundmessage/",
        {"action": "send_again", "_selected_action": [pending_mail.pk, letter.pk]},
    )

    assert response.status_code == 302
    pending_mail.refresh_from_db()
    letter.refresh_from_db()
    assert (pending_mail.status, letter.status) == (OutboundStatus.SENT, OutboundStatus.PENDING)
    assert client.get(f"/admin/channels_app/outboundmessage/{letter.pk}/change/").status_code == 200
