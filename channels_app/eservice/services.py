"""E-service intake: find the form's category, keep bots out, record a submission and process it.

A submission is recorded (keyed by the form's submission token) and processed in the same
request, so the receipt can show the case reference at once. When processing fails the record stays (quarantined) and the resident still gets a
receipt: their text is never lost.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from cases.choices import Channel
from cases.models import Category, CategoryField
from channels_app import intake
from channels_app.eservice.fields import CheckedFile, storage_name
from channels_app.models import InboundAttachment, InboundMessage
from common.http import rate_limit_key

SOURCE_PREFIX = "eservice:"
# Categories change a few times a year; a form under load must not read them on every request.
# An edit shows on the form within this many seconds (per process).
CATEGORY_CACHE_SECONDS = 60.0

_category_cache: dict[tuple[str, object], tuple[float, Category | None]] = {}
_category_lock = threading.Lock()


def source_for(code: str) -> str:
    return f"{SOURCE_PREFIX}{code}"


def _with_fields(qs: Any) -> Any:
    return qs.select_related("department").prefetch_related(
        Prefetch("fields", queryset=CategoryField.objects.order_by("position", "id"))
    )


def _cached(key: tuple[str, object], load: Any) -> Category | None:
    if getattr(settings, "PROCESS_CACHES_DISABLED", False):
        return load()
    now = time.monotonic()
    hit = _category_cache.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    value = load()
    with _category_lock:
        _category_cache[key] = (now + CATEGORY_CACHE_SECONDS, value)
    return value


def category_cache_clear() -> None:
    with _category_lock:
        _category_cache.clear()


def category_for_code(code: str) -> Category | None:
    """The version of category ``code`` valid today (with its department and fields), or None."""
    today = timezone.localdate()

    def load() -> Category | None:
        found = (
            _with_fields(Category.objects.valid_on(today).filter(code=code))
            .order_by("-valid_from")
            .first()
        )
        if found is not None:
            # The processor looks the same row up by id moments later, in the same request.
            with _category_lock:
                _category_cache[("id", found.pk)] = (
                    time.monotonic() + CATEGORY_CACHE_SECONDS,
                    found,
                )
        return found

    return _cached(("code", (code, today)), load)


def category_by_id(pk: int) -> Category | None:
    """A category version by id, whatever its validity (the processor's lookup)."""
    return _cached(("id", pk), lambda: _with_fields(Category.objects.filter(pk=pk)).first())


def categories_valid_today() -> list[Category]:
    """Every category valid today, with its department (the public list; one query)."""
    today = timezone.localdate()
    return list(Category.objects.valid_on(today).select_related("department"))


# --- Bots ----------------------------------------------------------------------------------
def client_hash(ip: str) -> str:
    """A keyed hash of the client address: enough to see that posts came from one client,
    not enough to recover the address (a plain hash of an IPv4 address is trivially reversed)."""
    return hmac.new(settings.SECRET_KEY.encode(), ip.encode(), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class RateLimit:
    allowed: bool
    retry_at: float  # epoch seconds when the current window ends


def rate_limit_hit(*, ip: str) -> RateLimit:
    """Count one form post from ``ip`` in the current clock hour; refuse above the limit.

    A fixed window in the cache: one ``add`` and one ``incr``. With the default LocMemCache
    each server process counts on its own (the limit is then per process); production should
    use a shared cache (Redis) for an exact limit.
    """
    limit = settings.ESERVICE_RATE_LIMIT_PER_HOUR
    now = time.time()
    window = int(now // 3600)
    retry_at = (window + 1) * 3600.0
    if limit <= 0:
        return RateLimit(allowed=True, retry_at=retry_at)
    # IPv6 addresses count per /64 (what one household or phone gets), IPv4 alone.
    key = f"eservice:rate:{client_hash(rate_limit_key(ip))}:{window}"
    cache.add(key, 0, timeout=3600 + 60)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600 + 60)
        count = 1
    return RateLimit(allowed=count <= limit, retry_at=retry_at)


# --- Recording ----------------------------------------------------------------------------------
def submission_record(
    *,
    code: str,
    token: str,
    payload: dict[str, Any],
    files: list[CheckedFile] = (),  # type: ignore[assignment]
) -> tuple[InboundMessage, bool]:
    """Record a submission with its files (once per token) and process it now.

    Returns ``(message, created)``; a second post with the same token returns the first record
    untouched. Processing errors never escape: the message is then quarantined (with its
    reason) and a supervisor requeues it later.

    Without files, recording and processing are one transaction (``intake.inbound_receive``).
    With files the record and its files commit first, then it is processed: the files are
    written to storage once, and must belong to a record that exists whatever processing does.
    """
    if not files:
        return intake.inbound_receive(
            channel=Channel.ESERVICE, source=source_for(code), external_id=token, payload=payload
        )
    # The record and its files together: a record whose files are missing would look
    # complete to the agent.
    with transaction.atomic():
        message, created = intake.inbound_record(
            channel=Channel.ESERVICE,
            source=source_for(code),
            external_id=token,
            payload=payload,
            process=False,  # processed right here, in the request, for the receipt
        )
        if created:
            _attach(message, files)
    if created:
        processed = intake.inbound_process(message_id=message.pk)
        if processed is not None:
            message = processed
    return message, created


def _attach(message: InboundMessage, files: list[CheckedFile]) -> None:
    rows = []
    for checked in files:
        row = InboundAttachment(
            message=message,
            filename=checked.filename,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
        )
        checked.upload.seek(0)
        row.file.save(storage_name(checked.filename, checked.extension), checked.upload, save=False)
        rows.append(row)
    InboundAttachment.objects.bulk_create(rows)


def submission_get(*, code: str, token: str) -> InboundMessage | None:
    """The recorded submission for a receipt page, with its case (one query)."""
    return (
        InboundMessage.objects.select_related("case")
        .filter(channel=Channel.ESERVICE, source=source_for(code), external_id=token)
        .first()
    )
