"""Phone through Twilio Voice: the spoken menu in three languages, queues with the expected
wait, callback requests that keep the caller's place, and call facts that are right whatever
order and however often Twilio sends its webhooks.

Every TwiML answer is built by the real ``twilio`` library and parsed here as XML; every
request is one of Twilio's recorded webhooks (tests/fixtures/twilio/voice_*.form), signed with
twilio's ``RequestValidator``.
"""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET

import pytest
from django.utils import timezone

from cases.services.residents import resident_find_or_create_by_contact
from channels_app.models import Call, CallbackRequest, PhoneQueue
from channels_app.phone.views import expected_wait_minutes
from tests.channels.test_sms import callback_form, post_callback, recorded_twilio

pytestmark = pytest.mark.django_db

SID = "CA0f1e2d3c4b5a69788796a5b4c3d2e1f0"
CALLER = "+46701234567"


@pytest.fixture(autouse=True)
def cloud(settings):  # type: ignore[no-untyped-def]
    with recorded_twilio(settings) as replayed:
        settings.VOICE_CALLBACK_FROM_POSITION = 3
        settings.VOICE_SECONDS_PER_CALLER = 180
        settings.VOICE_CALLBACK_RETRY_MINUTES = 30
        settings.VOICE_CALLBACK_MAX_ATTEMPTS = 3
        yield replayed


@pytest.fixture
def queues(db: None) -> list[PhoneQueue]:
    return [
        PhoneQueue.objects.create(
            code="avfall", digit=1, name_sv="avfall", name_da="affald", name_en="waste"
        ),
        PhoneQueue.objects.create(
            code="bygglov",
            digit=2,
            name_sv="bygglov",
            name_da="byggetilladelse",
            name_en="building permits",
        ),
    ]


def voice(path: str, fixture: str, **changes: str) -> ET.Element:
    response = post_callback({**callback_form(fixture), **changes}, path=path)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    return ET.fromstring(response.content)  # noqa: S314 - our own TwiML


def says(twiml: ET.Element) -> list[tuple[str, str]]:
    return [(e.get("language", ""), e.text or "") for e in twiml.iter("Say")]


def test_an_incoming_call_is_recorded_and_asked_for_its_language(queues) -> None:  # type: ignore[no-untyped-def]
    resident = resident_find_or_create_by_contact(phone=CALLER)

    twiml = voice("/intake/voice/incoming/", "voice_incoming.form")

    gather = twiml.find("Gather")
    assert gather is not None
    assert (gather.get("input"), gather.get("numDigits"), gather.get("action")) == (
        "dtmf speech",
        "1",
        "/intake/voice/menu/",
    )
    assert says(twiml) == [
        ("sv-SE", "Välkommen till kommunen. För svenska, tryck 1."),
        ("da-DK", "Velkommen til kommunen. For dansk, tryk 2."),
        ("en-GB", "Welcome to the municipality. For English, press 3."),
    ]
    assert twiml.find("Redirect").text == "/intake/voice/menu/?lang=en"  # tests: en
    call = Call.objects.get()
    assert (call.call_sid, call.from_number, call.resident) == (SID, CALLER, resident)
    assert call.outcome == Call.Outcome.IN_MENU


def test_twilio_sending_the_incoming_webhook_twice_records_one_call(queues) -> None:  # type: ignore[no-untyped-def]
    voice("/intake/voice/incoming/", "voice_incoming.form")
    voice("/intake/voice/incoming/", "voice_incoming.form")
    assert Call.objects.count() == 1


def test_the_menu_reads_the_topics_in_the_chosen_language(queues) -> None:  # type: ignore[no-untyped-def]
    voice("/intake/voice/incoming/", "voice_incoming.form")

    twiml = voice("/intake/voice/menu/", "voice_gather_digits.form", Digits="2")

    assert says(twiml) == [
        ("da-DK", "For affald, tryk 1."),
        ("da-DK", "For byggetilladelse, tryk 2."),
        ("da-DK", "Vi hørte ikke noget valg."),
    ]
    assert twiml.find("Gather").get("action") == "/intake/voice/choose/?lang=da"
    assert Call.objects.get().language == "da"


def test_a_spoken_language_works_like_its_key(queues) -> None:  # type: ignore[no-untyped-def]
    voice("/intake/voice/incoming/", "voice_incoming.form")
    voice("/intake/voice/menu/", "voice_gather_digits.form", Digits="", SpeechResult="Svenska.")
    assert Call.objects.get().language == "sv"


def test_choosing_a_topic_puts_the_caller_in_its_queue(queues) -> None:  # type: ignore[no-untyped-def]
    voice("/intake/voice/incoming/", "voice_incoming.form")

    twiml = voice("/intake/voice/choose/?lang=sv", "voice_gather_digits.form", Digits="1")

    assert says(twiml) == [("sv-SE", "Du står nu i kö för avfall.")]
    enqueue = twiml.find("Enqueue")
    assert (enqueue.text, enqueue.get("waitUrl"), enqueue.get("action")) == (
        "avfall",
        "/intake/voice/wait/?lang=sv",
        "/intake/voice/left-queue/?lang=sv",
    )
    call = Call.objects.get()
    assert call.queue == queues[0] and call.enqueued_at is not None
    assert call.outcome == Call.Outcome.IN_QUEUE


def test_a_topic_said_aloud_is_understood(queues) -> None:  # type: ignore[no-untyped-def]
    voice("/intake/voice/incoming/", "voice_incoming.form")
    voice(
        "/intake/voice/choose/?lang=sv",
        "voice_gather_digits.form",
        Digits="",
        SpeechResult="Bygglov",
    )
    assert Call.objects.get().queue == queues[1]


def test_a_key_that_is_no_choice_reads_the_menu_again(queues) -> None:  # type: ignore[no-untyped-def]
    voice("/intake/voice/incoming/", "voice_incoming.form")
    twiml = voice("/intake/voice/choose/?lang=en", "voice_gather_digits.form", Digits="9")
    assert says(twiml) == [("en-GB", "That is not one of the choices.")]
    assert twiml.find("Redirect").text == "/intake/voice/menu/?lang=en"
    assert Call.objects.get().queue is None


def test_the_wait_announces_the_place_and_offers_a_callback_in_a_long_queue(queues) -> None:  # type: ignore[no-untyped-def]
    twiml = voice("/intake/voice/wait/?lang=sv", "voice_wait.form")  # place 4, average 240 s

    assert says(twiml) == [
        ("sv-SE", "Du är nummer 4 i kön. Den beräknade väntetiden är 12 minuter."),
        ("sv-SE", "Tryck 1 för att bli uppringd i stället. Du behåller din plats i kön."),
    ]
    assert twiml.find("Gather").get("action") == "/intake/voice/callback/?lang=sv"


def test_a_short_queue_offers_no_callback(queues) -> None:  # type: ignore[no-untyped-def]
    twiml = voice(
        "/intake/voice/wait/?lang=en", "voice_wait.form", QueuePosition="1", AvgQueueTime="30"
    )
    assert says(twiml) == [
        ("en-GB", "You are number 1 in the queue. The expected wait is 3 minutes.")
    ]
    assert twiml.find("Gather") is None


@pytest.mark.parametrize(
    ("position", "average", "minutes"), [(1, None, 3), (4, 240, 12), (2, 900, 15), (1, 0, 3)]
)
def test_the_expected_wait(position: int, average: int | None, minutes: int, settings) -> None:  # type: ignore[no-untyped-def]
    settings.VOICE_SECONDS_PER_CALLER = 180
    assert expected_wait_minutes(position=position, average_seconds=average) == minutes


def test_pressing_1_asks_for_a_callback_keeps_the_place_and_leaves_the_queue(queues) -> None:  # type: ignore[no-untyped-def]
    voice("/intake/voice/incoming/", "voice_incoming.form")
    voice("/intake/voice/menu/", "voice_gather_digits.form", Digits="1")
    voice("/intake/voice/choose/?lang=sv", "voice_gather_digits.form", Digits="1")

    twiml = voice("/intake/voice/callback/?lang=sv", "voice_wait.form", Digits="1")
    twice = voice("/intake/voice/callback/?lang=sv", "voice_wait.form", Digits="1")

    assert twiml.find("Leave") is not None and twice.find("Leave") is not None
    assert says(twiml) == [("sv-SE", "Tack. Vi ringer upp dig på numret du ringer från. Hej då.")]
    request = CallbackRequest.objects.get()  # one request for one call
    assert (request.number, request.queue, request.language, request.queue_position) == (
        CALLER,
        queues[0],
        "sv",
        4,
    )
    voice("/intake/voice/left-queue/?lang=sv", "voice_left_queue_bridged.form", QueueResult="leave")
    assert Call.objects.get().outcome == Call.Outcome.CALLBACK


def test_another_key_during_the_wait_keeps_waiting(queues) -> None:  # type: ignore[no-untyped-def]
    voice("/intake/voice/incoming/", "voice_incoming.form")
    voice("/intake/voice/choose/?lang=sv", "voice_gather_digits.form", Digits="1")
    twiml = voice("/intake/voice/callback/?lang=sv", "voice_wait.form", Digits="5")
    assert twiml.find("Redirect").text == "/intake/voice/wait/?lang=sv"
    assert not CallbackRequest.objects.exists()


def _answered_call(queues: list[PhoneQueue]) -> None:
    voice("/intake/voice/incoming/", "voice_incoming.form")
    voice("/intake/voice/choose/?lang=sv", "voice_gather_digits.form", Digits="1")


def test_an_answered_call_keeps_its_time_in_queue_and_duration(queues) -> None:  # type: ignore[no-untyped-def]
    _answered_call(queues)
    voice("/intake/voice/left-queue/?lang=sv", "voice_left_queue_bridged.form")
    assert (
        post_callback(
            callback_form("voice_status_completed.form"), path="/intake/voice/status/"
        ).status_code
        == 204
    )

    call = Call.objects.get()
    assert (call.queue_result, call.queue_seconds, call.duration_seconds, call.end_status) == (
        "bridged",
        132,
        412,
        "completed",
    )
    assert call.outcome == Call.Outcome.ANSWERED


def test_late_repeated_and_reordered_callbacks_change_nothing_known(queues) -> None:  # type: ignore[no-untyped-def]
    _answered_call(queues)
    # The end arrives first, then the queue's action, then both again with other values
    post_callback(callback_form("voice_status_completed.form"), path="/intake/voice/status/")
    voice("/intake/voice/left-queue/?lang=sv", "voice_left_queue_bridged.form")
    post_callback(
        {**callback_form("voice_status_completed.form"), "CallDuration": "1"},
        path="/intake/voice/status/",
    )
    voice(
        "/intake/voice/left-queue/?lang=sv",
        "voice_left_queue_bridged.form",
        QueueResult="hangup",
        QueueTime="5",
    )

    call = Call.objects.get()
    assert (call.queue_result, call.queue_seconds, call.duration_seconds) == ("bridged", 132, 412)
    assert call.outcome == Call.Outcome.ANSWERED


def test_a_caller_who_hangs_up_in_the_queue_is_an_abandoned_call(queues) -> None:  # type: ignore[no-untyped-def]
    _answered_call(queues)
    voice(
        "/intake/voice/left-queue/?lang=sv",
        "voice_left_queue_bridged.form",
        QueueResult="hangup",
        QueueTime="47",
    )
    post_callback(
        {**callback_form("voice_status_completed.form"), "CallDuration": "61"},
        path="/intake/voice/status/",
    )

    call = Call.objects.get()
    assert (call.outcome, call.queue_seconds, call.answered_at) == (
        Call.Outcome.ABANDONED,
        47,
        None,
    )


@pytest.mark.parametrize(
    "path",
    [
        "/intake/voice/incoming/",
        "/intake/voice/menu/",
        "/intake/voice/choose/?lang=sv",
        "/intake/voice/wait/?lang=sv",
        "/intake/voice/callback/?lang=sv",
        "/intake/voice/left-queue/?lang=sv",
        "/intake/voice/status/",
    ],
)
def test_every_voice_webhook_refuses_a_wrong_signature_and_writes_nothing(
    queues, path: str
) -> None:  # type: ignore[no-untyped-def]
    response = post_callback(
        {**callback_form("voice_incoming.form"), "Digits": "1", "QueueResult": "hangup"},
        path=path,
        token="not-our-token",
    )
    assert response.status_code == 403
    assert not Call.objects.exists() and not CallbackRequest.objects.exists()


def test_without_topics_the_caller_is_told_to_call_later(db: None) -> None:
    voice("/intake/voice/incoming/", "voice_incoming.form")
    twiml = voice("/intake/voice/menu/", "voice_gather_digits.form", Digits="3")
    assert says(twiml) == [
        ("en-GB", "We cannot take your call right now. Please call again later.")
    ]
    assert twiml.find("Hangup") is not None


# --- The agents' callback list ----------------------------------------------------------------
@pytest.fixture
def waiting_callback(queues) -> CallbackRequest:  # type: ignore[no-untyped-def]
    voice("/intake/voice/incoming/", "voice_incoming.form")
    voice("/intake/voice/choose/?lang=sv", "voice_gather_digits.form", Digits="1")
    voice("/intake/voice/callback/?lang=sv", "voice_wait.form", Digits="1")
    return CallbackRequest.objects.get()


def test_agents_see_the_callbacks_to_make_first_come_first(org, waiting_callback, client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(org.agent)
    page = client.get("/intake/voice/callbacks/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'href="tel:{CALLER}"' in html and "waste" in html and "0 of 3" in html


def test_a_department_handler_does_not_see_the_callbacks(org, waiting_callback, client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(org.waste_handler)
    assert client.get("/intake/voice/callbacks/").status_code == 404
    assert (
        client.post(
            f"/intake/voice/callbacks/{waiting_callback.pk}/",
            {"result": "answered", "attempts": "0"},
        ).status_code
        == 404
    )
    waiting_callback.refresh_from_db()
    assert waiting_callback.completed_at is None and waiting_callback.attempts == 0


def test_a_callback_reached_is_done_once(org, waiting_callback, client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(org.agent)
    url = f"/intake/voice/callbacks/{waiting_callback.pk}/"
    client.post(url, {"result": "answered", "attempts": "0"})
    client.post(url, {"result": "answered", "attempts": "0"})  # a double click

    waiting_callback.refresh_from_db()
    assert waiting_callback.completed_by == org.agent and waiting_callback.attempts == 1
    assert waiting_callback.completed_at is not None
    assert "No callbacks are waiting." in client.get("/intake/voice/callbacks/").content.decode()


def test_an_unanswered_callback_comes_back_later_then_is_given_up(
    org, waiting_callback, client, time_machine
) -> None:  # type: ignore[no-untyped-def]
    time_machine.move_to(timezone.now(), tick=False)
    client.force_login(org.agent)
    url = f"/intake/voice/callbacks/{waiting_callback.pk}/"
    # First attempt: nobody answers; a double click counts once
    client.post(url, {"result": "no_answer", "attempts": "0"})
    client.post(url, {"result": "no_answer", "attempts": "0"})
    waiting_callback.refresh_from_db()
    assert waiting_callback.attempts == 1 and waiting_callback.given_up_at is None
    assert "No callbacks are waiting." in client.get("/intake/voice/callbacks/").content.decode()
    # 30 minutes later it is back; two more unanswered attempts give it up
    time_machine.shift(datetime.timedelta(minutes=31))
    assert CALLER in client.get("/intake/voice/callbacks/").content.decode()
    client.post(url, {"result": "no_answer", "attempts": "1"})
    time_machine.shift(datetime.timedelta(minutes=31))
    client.post(url, {"result": "no_answer", "attempts": "2"})

    waiting_callback.refresh_from_db()
    assert waiting_callback.attempts == 3 and waiting_callback.given_up_at is not None
    assert waiting_callback.completed_at is None
    time_machine.shift(datetime.timedelta(hours=2))
    assert "No callbacks are waiting." in client.get("/intake/voice/callbacks/").content.decode()
