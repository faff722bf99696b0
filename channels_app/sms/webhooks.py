"""Twilio webhook authentication, shared by every Twilio webhook (SMS status now, voice later).

Twilio signs each request with our auth token over the URL it called plus the POST parameters
(``X-Twilio-Signature``). We rebuild that URL from ``PUBLIC_BASE_URL``, never from the request's
Host header: behind a proxy or TLS terminator the request we see has another scheme, host or
port than the one Twilio signed, and a Host header is the caller's to choose.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from twilio.request_validator import RequestValidator

logger = logging.getLogger(__name__)


def public_url_for(path: str) -> str:
    """``path`` (with its query string) under the configured public base URL."""
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def public_url(request: HttpRequest) -> str:
    """The URL Twilio called: the configured public base plus the path and query string."""
    return public_url_for(request.get_full_path())


def twilio_signature_valid(request: HttpRequest) -> bool:
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    params = request.POST if request.method == "POST" else {}
    return RequestValidator(token).validate(public_url(request), params, signature)


def twilio_webhook(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer 403, having written nothing, unless Twilio signed the request. CSRF does not
    apply: Twilio has no session; the signature is the authentication."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not twilio_signature_valid(request):
            logger.warning("Twilio webhook %s: missing or wrong signature", request.path)
            return HttpResponseForbidden("Invalid Twilio signature")
        return view(request, *args, **kwargs)

    return csrf_exempt(wrapped)
