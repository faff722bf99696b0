"""Demo residents: persons with valid personnummer, businesses and associations with valid
organisation numbers, their e-mail addresses and mobile numbers, exemptions and proxies.

Identity numbers are stored the way ``cases.identity`` normalises them: personnummer as 12
digits ``YYYYMMDDNNNC``, organisation numbers as 10 digits; both end in a Luhn check digit.
E-mail addresses use the reserved ``example.*`` domains; mobile numbers are random +467x
numbers and must never be dialled or texted.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field

from cases.demo.rand import below, between, pick
from cases.demo.texts import AREAS, ASSOCIATIONS, BUSINESS_SUFFIXES, FIRST_NAMES, LAST_NAMES

LANGUAGES = ["sv", "en", "ar", "fi", "so", "fa", "uk"]
LANGUAGE_WEIGHTS = [90, 3, 2.5, 1.5, 1, 1, 1]
EXEMPTION_REASONS = [
    "Synnedsättning; vill ha brev eller telefon.",
    "Saknar dator och smartphone.",
    "Kognitiv funktionsnedsättning; god man har begärt brev.",
    "Ingen e-legitimation.",
]
POA_SCOPES = [
    "Alla ärenden",
    "Ekonomiska ärenden",
    "Ärenden hos vård och omsorg",
    "Bostadsanpassning",
]
_ASCII = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "ü": "u"})


def luhn_digit(digits: str) -> str:
    """The Luhn check digit for ``digits`` (as used in personnummer and organisation numbers)."""
    total = 0
    for i, ch in enumerate(digits):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return str((10 - total % 10) % 10)


@dataclass
class Residents:
    """Rows for the resident tables plus what the case generator needs to know per resident."""

    rows: list[tuple] = field(default_factory=list)
    emails: list[tuple] = field(default_factory=list)
    phones: list[tuple] = field(default_factory=list)
    proxies: list[tuple] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    exempt: list[bool] = field(default_factory=list)


def make_residents(
    rng: random.Random,
    count: int,
    *,
    first_id: int,
    created_at: str,
    today: datetime.date,
    email_id: int = 1,
    phone_id: int = 1,
    poa_id: int = 1,
) -> Residents:
    """``count`` residents with ids from ``first_id`` (about 93 % persons)."""
    out = Residents()
    pnrs: set[str] = set()
    orgs: set[str] = set()
    phones: set[str] = set()
    persons: list[int] = []
    for i in range(count):
        rid = first_id + i
        first, last = pick(rng, FIRST_NAMES), pick(rng, LAST_NAMES)
        r = rng.random()
        pnr = org = None
        country = ""
        if r < 0.93:
            kind, name = "person", f"{first} {last}"
            while pnr is None or pnr in pnrs:
                birth = datetime.date(1935, 1, 1) + datetime.timedelta(days=below(rng, 26000))
                body = f"{birth:%y%m%d}{below(rng, 1000):03d}"
                pnr = f"{birth:%Y%m%d}{body[6:]}{luhn_digit(body)}"
            pnrs.add(pnr)
            country = "SE"
            persons.append(rid)
        else:
            if r < 0.98:
                kind, name, prefix = "business", f"{last} {pick(rng, BUSINESS_SUFFIXES)}", "556"
            else:
                kind, prefix = "association", pick(rng, ["802", "716", "769"])
                name = f"{pick(rng, AREAS)} {pick(rng, ASSOCIATIONS)}"
            while org is None or org in orgs:
                body = f"{prefix}{below(rng, 1000000):06d}"
                org = body + luhn_digit(body)
            orgs.add(org)
        lang = rng.choices(LANGUAGES, LANGUAGE_WEIGHTS)[0] if kind == "person" else "sv"
        exempt = kind == "person" and rng.random() < 0.03
        reason = pick(rng, EXEMPTION_REASONS) if exempt else ""
        until = (
            (today + datetime.timedelta(days=between(rng, 30, 900))).isoformat()
            if exempt and r < 0.5
            else None
        )
        preferred = "letter" if exempt else pick(rng, ["", "email", "sms", "phone", "email"])
        out.rows.append(
            (rid, kind, name, pnr, country, org, lang, preferred, reason, until, created_at)
        )
        out.ids.append(rid)
        out.languages.append(lang)
        out.exempt.append(exempt)
        if not exempt and rng.random() < 0.72:
            local = (
                (f"{first}.{last}" if kind == "person" else name.split()[0])
                .lower()
                .translate(_ASCII)
            )
            domain = pick(rng, ["example.com", "example.net", "example.org"])
            out.emails.append((email_id, rid, f"{local}{rid}@{domain}"))
            email_id += 1
        if rng.random() < 0.85:
            number = None
            while number is None or number in phones:
                number = f"+467{pick(rng, '0236')}{below(rng, 10_000_000):07d}"
            phones.add(number)
            out.phones.append((phone_id, rid, number))
            phone_id += 1
    # A few residents act through a representative (a relative, a guardian, a god man).
    for _ in range(max(1, len(persons) // 500) if len(persons) > 1 else 0):
        resident, representative = rng.sample(persons, 2)
        valid_from = today - datetime.timedelta(days=between(rng, 30, 1500))
        valid_until = (
            (valid_from + datetime.timedelta(days=between(rng, 365, 2000))).isoformat()
            if rng.random() < 0.4
            else None
        )
        out.proxies.append(
            (
                poa_id,
                resident,
                representative,
                pick(rng, POA_SCOPES),
                valid_from.isoformat(),
                valid_until,
                rng.random() < 0.8,
            )
        )
        poa_id += 1
    return out
