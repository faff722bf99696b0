"""Validation and normalisation of the ways a resident is identified.

Every identifier is stored in one canonical form so that lookups and the uniqueness
constraints on ``Resident`` work however the number was typed:

* Swedish personnummer and samordningsnummer: 12 digits ``YYYYMMDDNNNC``.
* Danish CPR: 10 digits ``DDMMYYSSSS``.
* Organisation numbers: digits only (Swedish 10, Danish CVR 8).
* Phone numbers: E.164 (``+46701234567``); e-mail addresses: stripped and lower-cased.

Each function raises ``django.core.exceptions.ValidationError`` with a translatable message and
a ``code`` that forms, serializers and services can branch on. Messages never repeat the value:
they end up in logs and API responses, and an identity number is personal data.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext_lazy as _
from stdnum import exceptions as stdnum_exc
from stdnum import luhn
from stdnum.dk import cpr, cvr
from stdnum.se import orgnr, personnummer

__all__ = [
    "normalize_email",
    "normalize_org_number",
    "normalize_personal_id",
    "normalize_phone",
    "personal_id_birth_date",
]

#: Samordningsnummer (co-ordination number, for people not registered in Sweden) carry the
#: birth day plus 60, so 63 means the 3rd.
_COORDINATION_OFFSET = 60

# Optional century, birth date, optional separator, serial and check digit. A "+" tells that
# the holder has turned (or turns this year) 100, which moves a 10-digit number back a century.
_SE_PERSONAL_ID = re.compile(r"^(?P<century>\d{2})?(?P<date>\d{6})(?P<sep>[-+]?)(?P<serial>\d{4})$")

_SE_MESSAGES = {
    "invalid_format": _("Enter a valid Swedish personal identity number (YYYYMMDD-NNNN)."),
    "invalid_date": _("The Swedish personal identity number does not contain a valid birth date."),
    "future_date": _("The birth date in the Swedish personal identity number is in the future."),
    "invalid_checksum": _(
        "The Swedish personal identity number is not valid: check the last four digits."
    ),
}
_DK_MESSAGES = {
    "invalid_format": _("Enter a valid Danish CPR number (DDMMYY-SSSS)."),
    "invalid_date": _("The Danish CPR number does not contain a valid birth date."),
}


def _error(messages: dict[str, str], code: str) -> ValidationError:
    return ValidationError(messages[code], code=code)


def _unsupported_country(country: str) -> ValidationError:
    return ValidationError(
        _("Identity numbers from %(country)s are not supported."),
        code="unsupported_country",
        params={"country": country},
    )


def normalize_personal_id(value: str, *, country: str) -> str:
    """Validate a personal identity number and return its canonical stored form.

    ``country`` "SE": a personnummer or samordningsnummer, 10 or 12 digits, with or without
    "-" or "+"; returns 12 digits. ``country`` "DK": a CPR number; returns 10 digits.
    """
    if country == "SE":
        return _normalize_swedish_personal_id(value)
    if country == "DK":
        return _normalize_danish_personal_id(value)
    raise _unsupported_country(country)


def _normalize_swedish_personal_id(value: str) -> str:
    """Personnummer and samordningsnummer share one shape; only the day differs (+60).

    ``stdnum.se.personnummer`` rejects samordningsnummer (day 61-91 is not a date), so the
    checks are done here with stdnum's parts: its century rule on the real birth date, and the
    Luhn check over the ten digits as written (the +60 is part of what the check digit covers).
    """
    match = _SE_PERSONAL_ID.match(re.sub(r"[\s:]", "", value or ""))
    if match is None:
        raise _error(_SE_MESSAGES, "invalid_format")
    yymmdd, serial = match["date"], match["serial"]
    day = int(yymmdd[4:])
    if day > _COORDINATION_OFFSET:
        real_yymmdd = f"{yymmdd[:4]}{day - _COORDINATION_OFFSET:02d}"
    else:
        real_yymmdd = yymmdd
    # stdnum picks the century of a 10-digit number relative to today: the most recent year
    # ending in YY that is not after this year, one century earlier again with "+".
    sep = match["sep"] or "-"
    try:
        birth = personnummer.get_birth_date(f"{match['century'] or ''}{real_yymmdd}{sep}{serial}")
    except stdnum_exc.ValidationError as exc:
        raise _error(_SE_MESSAGES, "invalid_date") from exc
    try:
        luhn.validate(yymmdd + serial)
    except stdnum_exc.ValidationError as exc:
        raise _error(_SE_MESSAGES, "invalid_checksum") from exc
    if birth > dt.date.today():  # the same "today" stdnum resolves the century against
        raise _error(_SE_MESSAGES, "future_date")
    return f"{birth.year:04d}{yymmdd[2:]}{serial}"


def _normalize_danish_personal_id(value: str) -> str:
    """CPR numbers stopped satisfying the modulus-11 check in 2007 when the serials ran out,
    so only the format and the birth date (not in the future) are checked, as stdnum does."""
    try:
        return cpr.validate(value or "")
    except (stdnum_exc.InvalidFormat, stdnum_exc.InvalidLength) as exc:
        raise _error(_DK_MESSAGES, "invalid_format") from exc
    except stdnum_exc.ValidationError as exc:
        raise _error(_DK_MESSAGES, "invalid_date") from exc


def personal_id_birth_date(normalised: str, country: str) -> dt.date:
    """The birth date in an already normalised number (samordningsnummer day minus 60)."""
    if country == "SE" and len(normalised) == 12 and normalised.isdigit():
        day = int(normalised[6:8])
        if day > _COORDINATION_OFFSET:
            day -= _COORDINATION_OFFSET
        return dt.date(int(normalised[:4]), int(normalised[4:6]), day)
    if country == "DK" and len(normalised) == 10 and normalised.isdigit():
        return cpr.get_birth_date(normalised)
    raise ValueError(f"Not a normalised {country} personal identity number")


_ORG_MESSAGES = {
    ("SE", "invalid_format"): _("Enter a valid Swedish organisation number (NNNNNN-NNNN)."),
    ("SE", "invalid_checksum"): _(
        "The Swedish organisation number is not valid: check the last digit."
    ),
    ("DK", "invalid_format"): _("Enter a valid Danish CVR number (8 digits)."),
    ("DK", "invalid_checksum"): _("The Danish CVR number is not valid: check the digits."),
}


def normalize_org_number(value: str, *, country: str) -> str:
    """Validate a Swedish organisation number or Danish CVR number; return its digits."""
    if country == "SE":
        module = orgnr
    elif country == "DK":
        module = cvr
    else:
        raise _unsupported_country(country)
    try:
        return module.validate(value or "")
    except stdnum_exc.InvalidChecksum as exc:
        code = "invalid_checksum"
        raise ValidationError(_ORG_MESSAGES[country, code], code=code) from exc
    except stdnum_exc.ValidationError as exc:
        code = "invalid_format"
        raise ValidationError(_ORG_MESSAGES[country, code], code=code) from exc


def normalize_phone(value: str, *, region: str | None = None) -> str:
    """Validate a phone number and return it in E.164 form.

    Numbers without a country code are read as numbers of ``region`` (default
    ``settings.DEFAULT_PHONE_REGION``). The number must be both possible (right length) and
    valid (an allocated range), so that SMS and call-backs are not sent to typos.
    """
    message = _("Enter a valid phone number, e.g. 070-123 45 67 or +45 32 12 34 56.")
    try:
        number = phonenumbers.parse(value or "", region or settings.DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(message, code="invalid_phone") from exc
    if not (phonenumbers.is_possible_number(number) and phonenumbers.is_valid_number(number)):
        raise ValidationError(message, code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(value: str) -> str:
    """Strip, validate and lower-case an e-mail address.

    The whole address is lower-cased, local part included: strictly the local part is case
    sensitive, but no mail system residents use treats it so, and one spelling per address is
    what makes a resident findable by e-mail.
    """
    address = (value or "").strip()
    try:
        EmailValidator()(address)
    except ValidationError as exc:
        raise ValidationError(_("Enter a valid e-mail address."), code="invalid_email") from exc
    return address.lower()


def collect_errors(errors: dict[str, list[str]], field: str, func: Callable[[], str]) -> str | None:
    """``func()``, or None with its messages added to ``errors[field]``: for validating several
    values and reporting every error at once."""
    try:
        return func()
    except ValidationError as exc:
        errors.setdefault(field, []).extend(str(m) for m in exc.messages)
        return None


def location_key(*, lat: float | None = None, long: float | None = None, address: str = "") -> str:
    """A comparable key for where a reported fault is, for finding duplicates: coordinates
    rounded to four decimals (about ten metres) as ``geo:lat,long``, else the address in lower
    case with single spaces as ``addr:...``; empty when neither is given."""
    if lat is not None and long is not None:
        return f"geo:{float(lat):.4f},{float(long):.4f}"
    text = " ".join(str(address or "").lower().replace(",", " ").split())
    return f"addr:{text}"[:120] if text else ""
