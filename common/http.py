"""Who is at the other end of a request."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or, when that is one of ``TRUSTED_PROXIES``, the
    nearest address in X-Forwarded-For that is not a trusted proxy.

    Only proxies we run may speak for the client: X-Forwarded-For from anyone else is ignored,
    since a bot would otherwise pick a fresh address for every request.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = set(settings.TRUSTED_PROXIES)
    if remote not in trusted:
        return remote
    forwarded = [
        a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()
    ]
    for address in reversed(forwarded):
        if address not in trusted:
            return address
    return remote


def rate_limit_key(address: str) -> str:
    """IPv4 addresses count alone; IPv6 addresses by their /64, which one household gets."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
