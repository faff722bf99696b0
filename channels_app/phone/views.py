"""Twilio Voice webhooks. Each answers TwiML built with the real ``twilio`` library, checks
``X-Twilio-Signature`` (``twilio_webhook``) and writes only call facts (``services``), so it
answers in milliseconds.

The flow: ``incoming`` asks for the language (1 svenska, 2 dansk, 3 English; by key or by
voice); ``menu`` reads the topics (``PhoneQueue``, "press 1 for ..."); ``choose`` puts the
caller in the topic's Twilio queue, whose ``wait`` URL Twilio calls over and over while the
caller waits: it announces the place and the expected wait and, in a long queue, offers a
callback (``callback``: the request keeps the caller's place and the call leaves the queue).
``left_queue`` is the queue's action (answered, hung up, left for a callback) and ``status``
the call's end.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from twilio.twiml.voice_response import Gather, VoiceResponse

from cases.permissions import is_contact_center_staff
from channels_app.models import CallbackRequest, PhoneQueue
from channels_app.phone import services
from channels_app.sms.webhooks import twilio_webhook

# Twilio <Say> languages of the shipped languages.
VOICES = {"sv": "sv-SE", "da": "da-DK", "en": "en-GB"}
LANGUAGE_KEYS = {"1": "sv", "2": "da", "3": "en"}
# Each language offered in its own name, as a caller who speaks it hears it.
ENDONYMS = {"sv": "svenska", "da": "dansk", "en": "English"}
LANGUAGE_WORDS = {"svenska": "sv", "swedish": "sv", "dansk": "da", "danish": "da", "english": "en"}


def _twiml(response: VoiceResponse) -> HttpResponse:
    return HttpResponse(str(response), content_type="text/xml; charset=utf-8")


def _language(request: HttpRequest) -> str:
    lang = request.GET.get("lang", "")
    return lang if lang in VOICES else settings.LANGUAGE_CODE[:2]


def _url(name: str, lang: str) -> str:
    return f"{reverse(name)}?lang={lang}"


def _int(value: str) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


def voice_webhook(view: Callable[[HttpRequest], HttpResponse]) -> Callable[..., HttpResponse]:
    return csrf_exempt(require_POST(twilio_webhook(view)))


@voice_webhook
def incoming(request: HttpRequest) -> HttpResponse:
    services.call_started(
        call_sid=request.POST.get("CallSid", ""),
        from_number=request.POST.get("From", ""),
        to_number=request.POST.get("To", ""),
    )
    response = VoiceResponse()
    gather = Gather(
        input="dtmf speech",
        num_digits=1,
        timeout=5,
        action=reverse("intake:voice-menu"),
        hints="svenska, dansk, English",
    )
    for lang, key in (("sv", "1"), ("da", "2"), ("en", "3")):
        with translation.override(lang):
            text = _("Welcome to the municipality. For %(language)s, press %(key)s.") % {
                "language": ENDONYMS[lang],
                "key": key,
            }
        gather.say(text, language=VOICES[lang])
    response.append(gather)
    # No choice: the site's language.
    response.redirect(reverse("intake:voice-menu") + f"?lang={settings.LANGUAGE_CODE[:2]}")
    return _twiml(response)


@voice_webhook
def menu(request: HttpRequest) -> HttpResponse:
    said = request.POST.get("SpeechResult", "").strip().lower()
    lang = LANGUAGE_KEYS.get(request.POST.get("Digits", ""), "") or next(
        (code for word, code in LANGUAGE_WORDS.items() if word in said), ""
    )
    lang = lang or _language(request)
    services.call_language_chosen(call_sid=request.POST.get("CallSid", ""), language=lang)
    response = VoiceResponse()
    with translation.override(lang):
        queues = list(PhoneQueue.objects.filter(active=True))
        if not queues:
            response.say(
                _("We cannot take your call right now. Please call again later."),
                language=VOICES[lang],
            )
            response.hangup()
            return _twiml(response)
        gather = Gather(
            input="dtmf speech",
            num_digits=1,
            timeout=6,
            action=_url("intake:voice-choose", lang),
            language=VOICES[lang],
            hints=", ".join(q.name for q in queues),
        )
        for queue in queues:
            gather.say(
                _("For %(topic)s, press %(key)s.") % {"topic": queue.name, "key": queue.digit},
                language=VOICES[lang],
            )
        response.append(gather)
        response.say(_("We did not hear a choice."), language=VOICES[lang])
        response.redirect(_url("intake:voice-menu", lang))
    return _twiml(response)


@voice_webhook
def choose(request: HttpRequest) -> HttpResponse:
    lang = _language(request)
    queue = services.queue_for(
        digits=request.POST.get("Digits", ""), speech=request.POST.get("SpeechResult", "")
    )
    response = VoiceResponse()
    with translation.override(lang):
        if queue is None:
            response.say(_("That is not one of the choices."), language=VOICES[lang])
            response.redirect(_url("intake:voice-menu", lang))
            return _twiml(response)
        services.call_enqueued(call_sid=request.POST.get("CallSid", ""), queue=queue)
        response.say(
            _("You are now in the queue for %(topic)s.") % {"topic": queue.name},
            language=VOICES[lang],
        )
    response.enqueue(
        queue.code,
        wait_url=_url("intake:voice-wait", lang),
        wait_url_method="POST",
        action=_url("intake:voice-left-queue", lang),
        method="POST",
    )
    return _twiml(response)


def expected_wait_minutes(*, position: int, average_seconds: int | None) -> int:
    """Minutes the caller at ``position`` can expect to wait: the queue's average wait so far
    when Twilio has one, else ``VOICE_SECONDS_PER_CALLER`` for each caller ahead and this one."""
    per_caller = settings.VOICE_SECONDS_PER_CALLER
    estimate = max(average_seconds or 0, position * per_caller)
    return max(1, math.ceil(estimate / 60))


@voice_webhook
def wait(request: HttpRequest) -> HttpResponse:
    lang = _language(request)
    position = _int(request.POST.get("QueuePosition", "")) or 1
    minutes = expected_wait_minutes(
        position=position, average_seconds=_int(request.POST.get("AvgQueueTime", ""))
    )
    response = VoiceResponse()
    voice = VOICES[lang]
    with translation.override(lang):
        response.say(
            _("You are number %(position)s in the queue. The expected wait is %(minutes)s minutes.")
            % {"position": position, "minutes": minutes},
            language=voice,
        )
        if position >= settings.VOICE_CALLBACK_FROM_POSITION:
            gather = Gather(
                num_digits=1, timeout=4, action=_url("intake:voice-callback", lang), method="POST"
            )
            gather.say(
                _("Press 1 to be called back instead. You keep your place in the queue."),
                language=voice,
            )
            response.append(gather)
    response.pause(length=20)  # Twilio then asks this URL again
    return _twiml(response)


@voice_webhook
def callback(request: HttpRequest) -> HttpResponse:
    lang = _language(request)
    response = VoiceResponse()
    if request.POST.get("Digits", "") != "1":
        response.redirect(_url("intake:voice-wait", lang))  # another key: keep waiting
        return _twiml(response)
    services.callback_request(
        call_sid=request.POST.get("CallSid", ""),
        queue_position=_int(request.POST.get("QueuePosition", "")),
    )
    with translation.override(lang):
        response.say(
            _("Thank you. We will call you back on the number you are calling from. Goodbye."),
            language=VOICES[lang],
        )
    response.leave()
    return _twiml(response)


@voice_webhook
def left_queue(request: HttpRequest) -> HttpResponse:
    services.call_left_queue(
        call_sid=request.POST.get("CallSid", ""),
        result=request.POST.get("QueueResult", ""),
        queue_seconds=_int(request.POST.get("QueueTime", "")),
    )
    response = VoiceResponse()
    response.hangup()
    return _twiml(response)


@voice_webhook
def status(request: HttpRequest) -> HttpResponse:
    call_status = request.POST.get("CallStatus", "")
    if call_status in ("completed", "busy", "no-answer", "failed", "canceled"):
        services.call_ended(
            call_sid=request.POST.get("CallSid", ""),
            status=call_status,
            duration_seconds=_int(request.POST.get("CallDuration", "")),
        )
    return HttpResponse(status=204)


# --- The agents' side: callbacks to make ------------------------------------------------------
def _ensure_contact_center(request: HttpRequest) -> None:
    if not is_contact_center_staff(request.user):  # type: ignore[arg-type]
        raise Http404


@login_required
@require_GET
def callbacks(request: HttpRequest) -> HttpResponse:
    """Callers waiting to be called back, first come first, with the resident their number
    belongs to."""
    _ensure_contact_center(request)
    page = Paginator(services.callbacks_due(), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "phone/callbacks.html",
        {"page": page, "max_attempts": settings.VOICE_CALLBACK_MAX_ATTEMPTS},
    )


@login_required
@require_POST
def callback_done(request: HttpRequest, pk: int) -> HttpResponse:
    _ensure_contact_center(request)
    row = get_object_or_404(CallbackRequest, pk=pk)
    if request.POST.get("result") == "answered":
        if services.callback_completed(request_id=row.pk, user=request.user):
            messages.success(
                request, _("%(number)s is marked as called back.") % {"number": row.number}
            )
        else:
            messages.info(request, _("That callback was already done."))
    else:
        seen = _int(request.POST.get("attempts", "")) or 0
        outcome = services.callback_unanswered(request_id=row.pk, attempts_seen=seen)
        if outcome == "retry":
            messages.info(
                request,
                _("No answer from %(number)s: it comes back in %(minutes)s minutes.")
                % {"number": row.number, "minutes": settings.VOICE_CALLBACK_RETRY_MINUTES},
            )
        elif outcome == "given_up":
            messages.warning(
                request,
                _("No answer from %(number)s after the last attempt: the callback is given up.")
                % {"number": row.number},
            )
        else:
            messages.info(request, _("That callback was already updated by someone else."))
    return redirect("intake:voice-callbacks")
