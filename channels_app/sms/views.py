"""Twilio's SMS status callback: signed, fast, idempotent (see ``status``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from channels_app.sms.status import sms_status_apply
from channels_app.sms.webhooks import twilio_webhook


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
