"""Did our own mail server fail to verify the sender? (``Authentication-Results``, RFC 8601.)

A From address is trivially forged. Where the processor trusts an address (a case reference in
the subject, an answer to the resident's own earlier mail: only the case's parties thread by
them), a mail that our receiving server found forged must not be trusted: it opens a new case
instead, and gets no receipt (the address it names did not write it).

Only headers added by our own receiving servers count: their authserv-id (the first word of the
header) is one of ``settings.EMAIL_TRUSTED_AUTHSERV_IDS``. Anybody can write an
``Authentication-Results`` header into a mail; RFC 8601 section 5 has the receiving server
remove those that carry its own id, and in case it does not, only the *topmost* header of each
trusted id counts (our server adds its header above everything the sender wrote). A sender can
then only add results that we never look at.

The verdict, in this order:

* ``dmarc=fail``: the From domain's owner says this mail is not theirs;
* ``spf=fail`` and no DKIM signature that passed for the From domain (or a subdomain of it, or
  a parent of it, DMARC's relaxed alignment): the sending host may not send for that domain,
  and no signature vouches for the mail either. A DKIM pass for an unrelated domain (anyone
  can sign their own mail) does not count.

``softfail``, ``none``, ``temperror`` and ``permerror`` are not failures: forwarding and
misconfiguration make them common in genuine mail. With no trusted ids configured (the
default), nothing is ever judged.

Pure functions on a ``ParsedMail``; no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings

from channels_app.email.parse import ParsedMail

_RESULT_RE = re.compile(r"^\s*([a-z0-9_-]+)\s*(?:/\s*\d+\s*)?=\s*([a-z]+)", re.IGNORECASE)
_PROPERTY_RE = re.compile(r"([a-z0-9_-]+)\.([a-z0-9_-]+)\s*=\s*([^\s;]+)", re.IGNORECASE)


@dataclass(frozen=True)
class MethodResult:
    """One ``method=result`` of an Authentication-Results header, with its properties
    (``{"header.d": "example.se", "smtp.mailfrom": "..."}``)."""

    method: str
    result: str
    properties: dict[str, str] = field(default_factory=dict)


def trusted_authserv_ids() -> frozenset[str]:
    """``EMAIL_TRUSTED_AUTHSERV_IDS``: a list, or one string of ids separated by commas or
    spaces. Lower-cased."""
    value = getattr(settings, "EMAIL_TRUSTED_AUTHSERV_IDS", [])
    if isinstance(value, str):
        value = re.split(r"[\s,]+", value)
    return frozenset(str(v).strip().lower() for v in value if str(v).strip())


def _without_comments(value: str) -> str:
    """The header value with (comments) removed, quoted strings kept as they are."""
    out: list[str] = []
    depth = 0
    quoted = escaped = False
    for ch in value:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(ch)
            continue
        if ch == "\\":
            escaped = True
            if depth == 0:
                out.append(ch)
            continue
        if quoted:
            out.append(ch)
            quoted = ch != '"'
            continue
        if ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif depth == 0:
            out.append(ch)
            quoted = ch == '"'
    return "".join(out)


def _split_semicolons(value: str) -> list[str]:
    """Split on ``;`` outside quoted strings (a ``reason="a; b"`` stays one piece)."""
    pieces: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for ch in value:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            pieces.append("".join(current))
            current = []
            continue
        current.append(ch)
    pieces.append("".join(current))
    return pieces


def parse_authentication_results(value: str) -> tuple[str, list[MethodResult]]:
    """``(authserv-id, results)`` of one header value; ``("", [])`` if it has no id."""
    pieces = _split_semicolons(_without_comments(value))
    words = pieces[0].split()
    if not words:
        return "", []
    authserv_id = words[0].lower()
    results = []
    for piece in pieces[1:]:
        match = _RESULT_RE.match(piece)
        if match is None:
            continue  # "none", or something we cannot read
        properties = {
            f"{ptype.lower()}.{name.lower()}": prop.strip('"').lower()
            for ptype, name, prop in _PROPERTY_RE.findall(piece[match.end() :])
        }
        results.append(MethodResult(match.group(1).lower(), match.group(2).lower(), properties))
    return authserv_id, results


def trusted_results(mail: ParsedMail, trusted: Iterable[str]) -> list[MethodResult]:
    """The results of the topmost Authentication-Results header of each trusted authserv-id."""
    trusted = frozenset(trusted)
    seen: set[str] = set()
    results: list[MethodResult] = []
    for value in mail.headers.get("authentication-results", []):
        authserv_id, found = parse_authentication_results(value)
        if authserv_id in trusted and authserv_id not in seen:
            seen.add(authserv_id)
            results += found
    return results


def _aligned(signing_domain: str, from_domain: str) -> bool:
    """DMARC's relaxed alignment, without a public-suffix list: the same domain, or one a
    subdomain of the other."""
    d, f = signing_domain.strip(".").lower(), from_domain.strip(".").lower()
    return bool(d) and (d == f or f.endswith("." + d) or d.endswith("." + f))


def _dkim_domain(result: MethodResult) -> str:
    domain = result.properties.get("header.d", "")
    if not domain:
        identity = result.properties.get("header.i", "")
        domain = identity.rsplit("@", 1)[-1] if identity else ""
    return domain


def sender_verification_failure(mail: ParsedMail) -> str:
    """Why our receiving server says the From address is forged (``"dmarc=fail"``, ...), or ""
    when it does not say so (or no trusted server said anything)."""
    trusted = trusted_authserv_ids()
    if not trusted or "authentication-results" not in mail.headers:
        return ""
    results = trusted_results(mail, trusted)
    if any(r.method == "dmarc" and r.result == "fail" for r in results):
        return "dmarc=fail"
    if any(r.method == "spf" and r.result == "fail" for r in results):
        from_domain = mail.from_address.rsplit("@", 1)[-1] if "@" in mail.from_address else ""
        for r in results:
            if r.method != "dkim" or r.result != "pass":
                continue
            domain = _dkim_domain(r)
            # A pass without a domain: our server vouches for it, we cannot check alignment.
            if not domain or _aligned(domain, from_domain):
                return ""
        return f"spf=fail and no DKIM signature of {from_domain or 'the sender domain'} passed"
    return ""
