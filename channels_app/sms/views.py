"""Twilio's SMS webhooks: signed, fast, idempotent.

- ``sms_status``: delivery callbacks of the SMS we send (see ``status``).
- ``sms_inbound``: a resident's SMS to one of our numbers. It is recorded raw first, keyed by
  Twilio's ``MessageSid`` (a webhook Twilio delivers twice is one record), and answered at once
  with an empty TwiML ``<Response/>``; the processing task (``processor``) makes the contact.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.twiml.messaging_response import MessagingResponse

from cases.choices import Channel
from channels_app import intake
from channels_app.sms.status import sms_status_apply
from channels_app.sms.webhooks import twilio_webhook

# What of Twilio's parameters the processor reads; the raw body keeps all of them.
INBOUND_FIELDS = ("MessageSid", "From", "To", "Body", "NumMedia", "NumSegments")


@csrf_exempt
@require_POST
@twilio_webhook
def sms_status(request: HttpRequest) -> HttpResponse:
    outbound = request.GET.get("outbound", "")
    sms_status_apply(
        message_sid=request.POST.get("MessageSid", ""),
        twilio_status=request.POST.get("MessageStatus", "") or request.POST.get("SmsStatus", ""),
        error_code=request.POST.get("ErrorCode", ""),
        outbound_id=int(outbound) if outbound.isdigit() else None,
    )
    # 204 whatever we did with it: a non-2xx would only make Twilio retry.
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
@twilio_webhook
def sms_inbound(request: HttpRequest) -> HttpResponse:
    post = request.POST
    sid = post.get("MessageSid", "") or post.get("SmsSid", "")
    if not sid:
        return HttpResponseBadRequest("MessageSid is missing.")
    payload = {name: post.get(name, "") for name in INBOUND_FIELDS}
    payload["MessageSid"] = sid
    media = post.get("NumMedia", "0")
    for i in range(min(int(media), 10) if media.isdigit() else 0):
        payload[f"MediaUrl{i}"] = post.get(f"MediaUrl{i}", "")
        payload[f"MediaContentType{i}"] = post.get(f"MediaContentType{i}", "")
    intake.inbound_record(
        channel=Channel.SMS,
        source=f"sms:{post.get('To', '')}"[:100],
        external_id=sid,
        raw=urlencode(list(post.lists()), doseq=True).encode("utf-8"),
        payload=payload,
    )
    # No automatic answer: the "received" notice (with the case reference) comes from routing,
    # and an SMS to a STOP must not be answered at all.
    return HttpResponse(str(MessagingResponse()), content_type="text/xml; charset=utf-8")
