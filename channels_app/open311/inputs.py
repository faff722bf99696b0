"""Reading what Open311 clients send: the POST of a service request and the GET filters.

Everything that is wrong with a request is reported at once, as one error item each, in the
spec's error format (``Open311Error``). Extra field values (Open311 ``attribute[code]``) are
validated by the same function as the e-service form (``channels_app.eservice.fields``).
"""

from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from cases.models import Category, CategoryField
from channels_app.eservice.fields import display_value, validate_field_values
from channels_app.open311.render import Open311Error

if TYPE_CHECKING:
    from channels_app.models import Open311Client

_ATTRIBUTE = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")
TEXT_MAX = 4000
SHORT_MAX = 300
# The spec: without dates, the last 90 days; a date range may not span more than 90 days; at
# most 1,000 requests per answer.
DEFAULT_DAYS = 90
MAX_RESULTS = 1000
STATUSES = ("open", "closed")
_FREE_TEXT = (
    "address_string",
    "address_id",
    "email",
    "device_id",
    "account_id",
    "first_name",
    "last_name",
    "phone",
    "media_url",
)


@dataclass(frozen=True)
class RequestInput:
    """A valid POSTed service request."""

    category: Category
    lat: float | None
    long: float | None
    description: str
    attributes: dict[str, Any]
    text: dict[str, str] = field(default_factory=dict)  # the _FREE_TEXT values given

    def as_payload(self, *, client: Open311Client) -> dict[str, Any]:
        """What the inbound record keeps: JSON-safe, with the text the case will carry (field
        labels as they were when the request arrived, in the municipality's language)."""
        return {
            "client": client.name,
            "service_code": self.category.code,
            "category_id": self.category.pk,
            "lat": self.lat,
            "long": self.long,
            "description": self.description,
            "attributes": self.attributes,
            **self.text,
            "subject": self.subject(),
            "case_description": self.case_description(client_name=client.name),
        }

    def subject(self) -> str:
        with translation.override(settings.LANGUAGE_CODE):
            name = self.category.name
        address = self.text.get("address_string", "")
        return f"{name}: {address}"[:200] if address else name[:200]

    def case_description(self, *, client_name: str) -> str:
        """The resident's description followed by the facts an agent needs, one per line."""
        with translation.override(settings.LANGUAGE_CODE):
            lines = [
                self.description,
                "",
                _("Open311 request from %(client)s") % {"client": client_name},
            ]
            if self.lat is not None:
                lines.append(_("Position: %(lat)s,%(long)s") % {"lat": self.lat, "long": self.long})
            for key, label in (
                ("address_string", _("Address")),
                ("address_id", _("Address id")),
                ("media_url", _("Photo")),
            ):
                if self.text.get(key):
                    lines.append(f"{label}: {self.text[key]}")
            fields = {f.code: f for f in self.category.fields.all()}
            for code, value in self.attributes.items():
                lines.append(f"{fields[code].label}: {display_value(fields[code], value)}")
        return "\n".join(lines).strip()


def _one(post: QueryDict, name: str) -> str:
    return (post.get(name) or "").strip()


def _coordinate(raw: str, name: str, limit: int, errors: list[str]) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        errors.append(_("%(name)s must be a number in decimal degrees.") % {"name": name})
        return None
    if not math.isfinite(value) or not -limit <= value <= limit:
        errors.append(
            _("%(name)s must be between -%(limit)d and %(limit)d.") % {"name": name, "limit": limit}
        )
        return None
    return round(value, 7)


def _attribute_values(post: QueryDict) -> dict[str, str | list[str]]:
    values: dict[str, str | list[str]] = {}
    for name in post:
        match = _ATTRIBUTE.match(name)
        if match is None:
            continue
        code, many = match.group(1), bool(match.group(2))
        values[code] = post.getlist(name) if many else _one(post, name)
    return values


def _validate_attributes(
    category: Category, values: dict[str, str | list[str]], has_media: bool, errors: list[str]
) -> dict[str, Any]:
    fields = {f.code: f for f in category.fields.all()}
    for code in values:
        if code not in fields or fields[code].kind == CategoryField.Kind.ATTACHMENT:
            errors.append(
                _("attribute[%(code)s]: the service %(service)s has no such attribute.")
                % {"code": code, "service": category.code}
            )
    cleaned, field_errors = validate_field_values(category, values)
    for code, messages in field_errors.items():
        if fields[code].kind == CategoryField.Kind.ATTACHMENT:
            # Files cannot travel in a form-encoded POST; a photo's address in media_url stands
            # in for a required attachment.
            if not has_media:
                errors.append(
                    _("%(code)s: this service needs a photo; give its address in media_url.")
                    % {"code": code}
                )
            continue
        errors.extend(f"attribute[{code}]: {m}" for m in messages)
    return cleaned


def parse_request_post(post: QueryDict, *, category_lookup: Any) -> RequestInput:
    """Validate a POSTed service request (after the API key was checked).

    ``category_lookup(code)`` returns the category offered under that service_code today, with
    its fields, or None: a missing service_code is 400, an unknown one 404 (as the spec says).
    """
    code = _one(post, "service_code")
    if not code:
        raise Open311Error(400, _("service_code is required."))
    category = category_lookup(code)
    if category is None:
        raise Open311Error(404, _("Unknown service_code %(code)s.") % {"code": code})
    errors: list[str] = []
    text = {name: _one(post, name)[:SHORT_MAX] for name in _FREE_TEXT if _one(post, name)}
    for name in _FREE_TEXT:
        if len(_one(post, name)) > SHORT_MAX:
            errors.append(_("%(name)s is too long.") % {"name": name})
    lat_raw, long_raw = _one(post, "lat"), _one(post, "long")
    lat = long = None
    if lat_raw or long_raw:
        if not (lat_raw and long_raw):
            errors.append(_("Give both lat and long."))
        else:
            lat = _coordinate(lat_raw, "lat", 90, errors)
            long = _coordinate(long_raw, "long", 180, errors)
    elif not (text.get("address_string") or text.get("address_id")):
        errors.append(_("A location is required: lat and long, address_string or address_id."))
    if text.get("email"):
        try:
            EmailValidator()(text["email"])
        except ValidationError:
            errors.append(_("email is not a valid e-mail address."))
    if text.get("media_url"):
        try:
            URLValidator(schemes=["http", "https"])(text["media_url"])
        except ValidationError:
            errors.append(_("media_url must be an http or https address."))
    description = _one(post, "description")
    if len(description) > TEXT_MAX:
        errors.append(_("description may be at most %(max)d characters.") % {"max": TEXT_MAX})
    values = _attribute_values(post)
    attributes = _validate_attributes(category, values, bool(text.get("media_url")), errors)
    if errors:
        raise Open311Error(400, *errors)
    return RequestInput(
        category=category,
        lat=lat,
        long=long,
        description=description,
        attributes=attributes,
        text=text,
    )


# --- GET requests filters ------------------------------------------------------------------------
@dataclass(frozen=True)
class RequestFilters:
    references: list[str]
    service_codes: list[str]
    start: datetime.datetime | None
    end: datetime.datetime | None
    statuses: list[str]


def _split(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def _when(raw: str, name: str, errors: list[str], *, end_of_day: bool) -> datetime.datetime | None:
    """A W3C/ISO 8601 datetime (with Z or an offset); a bare date means its start (or end)."""
    try:
        value = parse_datetime(raw)
        if value is None:
            day = parse_date(raw)
            if day is not None:
                value = datetime.datetime.combine(
                    day, datetime.time.max if end_of_day else datetime.time.min
                )
    except ValueError:
        value = None
    if value is None:
        errors.append(
            _("%(name)s must be an ISO 8601 date and time, e.g. 2026-03-01T08:00:00+01:00.")
            % {"name": name}
        )
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def parse_request_filters(query: QueryDict) -> RequestFilters:
    """The filters of GET requests, with the spec's defaults: the last 90 days when no dates
    are given, and a range of at most 90 days. ``service_request_id`` overrides the rest."""
    errors: list[str] = []
    references = _split(query.get("service_request_id", ""))
    statuses = [s.lower() for s in _split(query.get("status", ""))]
    bad = [s for s in statuses if s not in STATUSES]
    if bad:
        errors.append(_("status must be open, closed or both, comma separated."))
    start = (
        _when(query["start_date"], "start_date", errors, end_of_day=False)
        if query.get("start_date")
        else None
    )
    end = (
        _when(query["end_date"], "end_date", errors, end_of_day=True)
        if query.get("end_date")
        else None
    )
    span = datetime.timedelta(days=DEFAULT_DAYS)
    if start and end:
        if end < start:
            errors.append(_("end_date is before start_date."))
        elif end - start > span:
            errors.append(
                _("start_date and end_date may span at most %(n)d days.") % {"n": DEFAULT_DAYS}
            )
    if errors:
        raise Open311Error(400, *errors)
    if not references:
        if start is None and end is None:
            end = timezone.now()
            start = end - span
        elif start is None:
            start = end - span  # type: ignore[operator]
        elif end is None:
            end = start + span
    return RequestFilters(
        references=references,
        service_codes=_split(query.get("service_code", "")),
        start=start,
        end=end,
        statuses=statuses,
    )
