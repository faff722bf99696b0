"""The Twilio REST client, built from settings.

``TWILIO_HTTP_CLIENT`` (optional, a dotted path to a ``twilio.http.HttpClient`` subclass) is how
the transport is chosen, like ``EMAIL_BACKEND`` for mail: production leaves it empty and gets
twilio's own ``TwilioHttpClient``; tests name a client that answers with recorded Twilio
responses. Nothing else about sending changes.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string
from twilio.rest import Client


def sms_configured() -> bool:
    return bool(settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN and settings.TWILIO_FROM)


def twilio_client() -> Client:
    path = getattr(settings, "TWILIO_HTTP_CLIENT", "")
    http_client = import_string(path)() if path else None
    return Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client)


def sender_kwargs() -> dict[str, str]:
    """``TWILIO_FROM`` is either our number or a Messaging Service SID (MG + 32 hex)."""
    sender = settings.TWILIO_FROM
    if sender.startswith("MG") and len(sender) == 34:
        return {"messaging_service_sid": sender}
    return {"from_": sender}
