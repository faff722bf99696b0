"""Writes of the Open311 server: API clients, and turning a POSTed service request into a case.

A POST is recorded raw (unique per client and request content) and processed at once in the
same request and transaction by the shared intake path (``inbound_receive``), so the client gets
its case reference in the answer. A request that cannot be processed is kept (quarantined) and the
client gets a ``token`` to ask about it later, as the spec allows.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db import transaction
from django.http import QueryDict

from cases.choices import Channel
from channels_app import intake
from channels_app.models import InboundMessage, InboundStatus, Open311Client
from channels_app.open311.inputs import RequestInput
from channels_app.open311.processor import category_hint


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@transaction.atomic
def open311_client_create(
    *, name: str, description: str = "", active: bool = True
) -> tuple[Open311Client, str]:
    """Register a system that may POST requests; ``(client, key)``.

    The key is returned once and never stored: only its SHA-256 is kept, so a leaked database
    does not leak usable keys. 32 random bytes make guessing hopeless, which is also why a
    plain hash (no salt, no slow KDF) is enough.
    """
    key = secrets.token_urlsafe(32)
    client = Open311Client.objects.create(
        name=name.strip(), description=description.strip(), key_sha256=_key_hash(key), active=active
    )
    return client, key


@transaction.atomic
def open311_client_rotate_key(*, client: Open311Client) -> str:
    """Issue a new key to ``client`` (the old one stops working at once); the new key."""
    key = secrets.token_urlsafe(32)
    client.key_sha256 = _key_hash(key)
    client.save(update_fields=["key_sha256"])
    return key


def open311_client_for_key(*, key: str) -> Open311Client | None:
    """The active client holding ``key``, or None.

    The lookup is by the key's SHA-256 through a unique index, not a comparison of secrets in
    Python: timing reveals at most something about a hash of the guess, never the stored key,
    so no constant-time compare is needed.
    """
    if not key:
        return None
    # Raw: asked on every POST, and the ORM building this query cost twice its round trip.
    found = list(
        Open311Client.objects.raw(
            "SELECT * FROM channels_app_open311client WHERE key_sha256 = %s AND active LIMIT 1",
            [_key_hash(key)],
        )
    )
    return found[0] if found else None


def open311_request_key(*, client: Open311Client, params: QueryDict) -> str:
    """The idempotency key of a POST: SHA-256 of the client and its parameters, sorted, without
    ``api_key``. A client that retries the identical request (a timeout, a lost answer) gets
    the service request it already made instead of a second case."""
    canonical = sorted((name, sorted(params.getlist(name))) for name in params if name != "api_key")
    text = json.dumps([client.pk, canonical], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SubmitResult:
    """A case reference when the request became a case, else only the token (inbound id)."""

    message: InboundMessage
    reference: str | None

    @property
    def token(self) -> str:
        return str(self.message.pk)


def open311_request_submit(
    *, client: Open311Client, data: RequestInput, params: QueryDict
) -> SubmitResult:
    """Record the request, process it now, and say what became of it.

    One transaction when all goes well (``intake.inbound_receive``); a request that cannot be
    processed is still kept (quarantined), and the client gets its token.
    """
    raw = urlencode(
        [(name, value) for name in params if name != "api_key" for value in params.getlist(name)]
    ).encode("utf-8")
    with category_hint(data.category):
        message, _created = intake.inbound_receive(
            channel=Channel.ESERVICE,
            source=f"open311:{client.pk}",
            external_id=open311_request_key(client=client, params=params),
            raw=raw,
            payload=data.as_payload(client=client),
        )
    if message.status == InboundStatus.PROCESSED and message.case_id is not None:
        return SubmitResult(message=message, reference=message.case.reference)
    return SubmitResult(message=message, reference=None)
