"""Validation of a category's extra fields (``CategoryField``), shared by the e-service form and
the Open311 server: one function decides what a valid value is, whichever door it came through.

``validate_field_values`` returns JSON-safe cleaned values keyed by field code (they go into the
inbound record's payload as they are) and error messages in the active language, also keyed by
field code. Values for codes the category does not have are ignored.

Attachments are judged by their content, never by their name or the browser's content type: a
``.pdf`` that is really a program is refused, a photo without an extension is accepted.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from cases.models import Category, CategoryField
from channels_app.sniff import Refused, sniff

Kind = CategoryField.Kind

TEXT_MAX_CHARS = 4000
ADDRESS_MAX_CHARS = 300
YES = frozenset({"yes", "true", "1", "on", "ja", "j", "y"})
NO = frozenset({"no", "false", "0", "off", "nej", "n"})

# A value made only of digits, signs, dots, commas and spaces, with a comma: meant as "lat,long".
_COORDINATE_LIKE = re.compile(r"^[\s\d.,+-]+$")
_COORDINATES = re.compile(r"^\s*([+-]?\d{1,3}(?:\.\d+)?)\s*,\s*([+-]?\d{1,3}(?:\.\d+)?)\s*$")
_DATE_DMY = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})$")


# --- Attachments -------------------------------------------------------------------------------
# What a file is, and which types a form accepts, is decided by the one sniffer every channel
# uses (channels_app/sniff.py).


def _read_all(upload: UploadedFile) -> bytes:
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    return data


def clean_filename(name: str) -> str:
    """The last path component without control characters, at most 200 characters."""
    base = PurePath((name or "").replace("\\", "/")).name
    base = "".join(ch for ch in base if ch.isprintable()).strip(" .")
    return base[:200] or "file"


def storage_name(filename: str, extension: str) -> str:
    """The name a file is stored under: its own stem with the extension of what it really is."""
    stem = PurePath(filename).stem if PurePath(filename).suffix else filename
    stem = re.sub(r"[^\w.-]+", "_", stem)[:100].strip("._") or "file"
    return stem + extension


@dataclass(frozen=True)
class CheckedFile:
    """An accepted upload: the file itself and what we learnt about it."""

    upload: UploadedFile
    filename: str
    content_type: str
    extension: str
    size: int
    sha256: str

    def as_json(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
        }


def check_upload(upload: UploadedFile) -> CheckedFile | str:
    """An accepted file, or the reason (in the active language, naming the file) it is refused."""
    cached = getattr(upload, "_eservice_checked", None)
    if isinstance(cached, CheckedFile):  # checked already (validation, then storing)
        return cached
    name = clean_filename(upload.name or "")
    limit = settings.INBOUND_ATTACHMENT_MAX_BYTES
    size = upload.size or 0
    if size > limit:
        return _("“%(name)s” is %(size)s; a file may be at most %(max)s.") % {
            "name": name,
            "size": filesizeformat(size),
            "max": filesizeformat(limit),
        }
    data = _read_all(upload)
    if not data:
        return _("“%(name)s” is empty.") % {"name": name}
    try:
        file_type = sniff(data)
    except Refused as refused:
        if refused.kind == "program":
            return _("“%(name)s” is a program; programs cannot be sent.") % {"name": name}
        if refused.kind == "markup":
            return _("“%(name)s” is a web page or SVG image; these cannot be sent.") % {
                "name": name
            }
        return _(
            "“%(name)s” is not a file type we accept. Send PDF, an image (JPEG, PNG, GIF, "
            "HEIC, WebP), Word, Excel, OpenDocument or plain text."
        ) % {"name": name}
    checked = CheckedFile(
        upload=upload,
        filename=name,
        content_type=file_type.content_type,
        extension=file_type.extension,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    upload._eservice_checked = checked  # type: ignore[attr-defined]
    return checked


def check_uploads(uploads: Iterable[UploadedFile]) -> tuple[list[CheckedFile], list[str]]:
    """Accepted files and error messages for one group of uploads (count limit included)."""
    uploads = [u for u in uploads if u is not None and (u.name or u.size)]
    limit = settings.INBOUND_MAX_ATTACHMENTS
    if len(uploads) > limit:
        return [], [
            _("You can send at most %(max)d files; you chose %(count)d.")
            % {"max": limit, "count": len(uploads)}
        ]
    accepted: list[CheckedFile] = []
    errors: list[str] = []
    for upload in uploads:
        result = check_upload(upload)
        if isinstance(result, str):
            errors.append(result)
        else:
            accepted.append(result)
    return accepted, errors


# --- Field values ------------------------------------------------------------------------------
def _one(values: Mapping[str, Any], code: str) -> str:
    value = values.get(code, "")
    if isinstance(value, list | tuple):
        value = value[-1] if value else ""
    return "" if value is None else str(value).strip()


def _many(values: Mapping[str, Any], code: str) -> list[str]:
    if hasattr(values, "getlist"):
        raw: Any = values.getlist(code)
    else:
        raw = values.get(code, [])
    if isinstance(raw, str):
        raw = raw.split(",")
    out: list[str] = []
    for item in raw or []:
        item = str(item).strip()
        if item and item not in out:
            out.append(item)
    return out


def _choice_keys(field: CategoryField) -> list[str]:
    return [str(c.get("key")) for c in field.choices or [] if isinstance(c, dict)]


def choice_name(field: CategoryField, key: str, lang: str | None = None) -> str:
    """The name of a choice in ``lang`` (default: the active language), else its key."""
    from django.utils.translation import get_language

    lang = (lang or get_language() or "en")[:2]
    for choice in field.choices or []:
        if isinstance(choice, dict) and str(choice.get("key")) == key:
            return (
                choice.get(f"name_{lang}") or choice.get("name_en") or choice.get("name_sv") or key
            )
    return key


def _clean_number(raw: str) -> int | float:
    text = raw.replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace(",", ".")
    text = text.replace("\u2212", "-")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError from None
    if not number.is_finite() or abs(number) >= Decimal(10) ** 15:
        raise ValueError
    if number == number.to_integral_value():
        return int(number)
    return float(number)


def _clean_date(raw: str) -> str:
    try:
        day = datetime.date.fromisoformat(raw)
    except ValueError:
        match = _DATE_DMY.match(raw)
        if not match:
            raise
        d, m, y = (int(g) for g in match.groups())
        day = datetime.date(y, m, d)
    if not 1900 <= day.year <= 2100:
        raise ValueError
    return day.isoformat()


def _clean_location(raw: str) -> dict[str, Any]:
    """``{"lat": .., "long": ..}`` for "lat,long" in decimal degrees, else ``{"address": ..}``."""
    if "," in raw and _COORDINATE_LIKE.match(raw):
        match = _COORDINATES.match(raw)
        if not match:
            raise ValueError("format")
        lat, long = float(match.group(1)), float(match.group(2))
        if not (-90 <= lat <= 90 and -180 <= long <= 180):
            raise ValueError("range")
        return {"lat": round(lat, 7), "long": round(long, 7)}
    address = " ".join(raw.split())
    if len(address) < 3 or not any(ch.isalpha() for ch in address):
        raise ValueError("address")
    return {"address": address[:ADDRESS_MAX_CHARS]}


def _is_empty(kind: str, value: Any) -> bool:
    return value in ("", None, []) if kind != Kind.YES_NO else value is None


def validate_field_values(
    category: Category,
    values: Mapping[str, str | list[str]],
    files: Mapping[str, list[UploadedFile]] | None = None,
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Clean the values of ``category``'s extra fields: ``(cleaned, errors)`` keyed by field code.

    Cleaned values are JSON-safe: text and choice keys as strings, numbers as int or float,
    dates as ISO strings, yes/no as booleans, several choices as a list of keys, a location as
    ``{"lat", "long"}`` or ``{"address"}``, attachments as a list of ``{"filename",
    "content_type", "size", "sha256"}`` in upload order (``checked_files`` gives the files
    themselves). Optional fields left empty are left out. ``values`` may be a ``QueryDict``.
    Uses ``category.fields.all()``, so prefetch ``fields`` to save a query.
    """
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    files = files or {}
    attachment_codes: list[str] = []
    total_files = 0
    for field in category.fields.all():
        code = field.code
        try:
            value = _clean_one(field, values, files)
        except _FieldError as exc:
            errors[code] = exc.messages
            continue
        if _is_empty(field.kind, value):
            if field.required:
                errors[code] = [_required_message(field)]
            continue
        if field.kind == Kind.ATTACHMENT:
            total_files += len(value)
            attachment_codes.append(code)
        cleaned[code] = value
    limit = settings.INBOUND_MAX_ATTACHMENTS
    if total_files > limit:
        message = _("You can send at most %(max)d files; you chose %(count)d.") % {
            "max": limit,
            "count": total_files,
        }
        for code in attachment_codes:
            errors.setdefault(code, []).append(message)
            cleaned.pop(code)
    return cleaned, errors


def checked_files(
    category: Category, files: Mapping[str, list[UploadedFile]] | None
) -> list[CheckedFile]:
    """The accepted files of every attachment field, in field order (after a clean validation;
    the files are not read again)."""
    out: list[CheckedFile] = []
    for field in category.fields.all():
        if field.kind == Kind.ATTACHMENT:
            accepted, _errors = check_uploads(_uploads(files or {}, field.code))
            out.extend(accepted)
    return out


def _uploads(files: Mapping[str, Any], code: str) -> list[UploadedFile]:
    if hasattr(files, "getlist"):
        return list(files.getlist(code))
    found = files.get(code) or []
    return [found] if isinstance(found, UploadedFile) else list(found)


class _FieldError(Exception):
    def __init__(self, *messages: str) -> None:
        super().__init__(*messages)
        self.messages = list(messages)


def _required_message(field: CategoryField) -> str:
    if field.kind == Kind.ATTACHMENT:
        return _("Attach at least one file.")
    if field.kind in (Kind.CHOICE, Kind.YES_NO):
        return _("Choose an answer.")
    if field.kind == Kind.MULTI_CHOICE:
        return _("Choose at least one answer.")
    return _("This field is required.")


def _clean_one(field: CategoryField, values: Mapping[str, Any], files: Mapping[str, Any]) -> Any:
    kind = field.kind
    if kind == Kind.ATTACHMENT:
        accepted, messages = check_uploads(_uploads(files, field.code))
        if messages:
            raise _FieldError(*messages)
        return [f.as_json() for f in accepted]
    if kind == Kind.MULTI_CHOICE:
        keys = _many(values, field.code)
        allowed = _choice_keys(field)
        unknown = [k for k in keys if k not in allowed]
        if unknown:
            raise _FieldError(
                _("“%(value)s” is not one of the choices.") % {"value": ", ".join(unknown)}
            )
        return keys
    raw = _one(values, field.code)
    if kind == Kind.YES_NO:
        if not raw:
            return None
        if raw.lower() in YES:
            return True
        if raw.lower() in NO:
            return False
        raise _FieldError(_("Answer yes or no."))
    if not raw:
        return ""
    if kind == Kind.TEXT:
        if len(raw) > TEXT_MAX_CHARS:
            raise _FieldError(
                _("Write at most %(max)d characters (you wrote %(count)d).")
                % {"max": TEXT_MAX_CHARS, "count": len(raw)}
            )
        return raw
    if kind == Kind.NUMBER:
        try:
            return _clean_number(raw)
        except ValueError:
            raise _FieldError(_("Enter a number, for example 12 or 3,5.")) from None
    if kind == Kind.DATE:
        try:
            return _clean_date(raw)
        except ValueError:
            raise _FieldError(
                _("Enter a date as year-month-day, for example 2026-03-31.")
            ) from None
    if kind == Kind.CHOICE:
        if raw not in _choice_keys(field):
            raise _FieldError(_("“%(value)s” is not one of the choices.") % {"value": raw})
        return raw
    if kind == Kind.LOCATION:
        try:
            return _clean_location(raw)
        except ValueError as exc:
            if str(exc) == "address":
                raise _FieldError(
                    _("Enter an address, or coordinates as latitude,longitude.")
                ) from None
            raise _FieldError(
                _(
                    "Enter coordinates as latitude,longitude in decimal degrees, for example "
                    "59.3293,18.0686 (latitude -90 to 90, longitude -180 to 180)."
                )
            ) from None
    # An unknown kind (added to the model before this code): keep the text as it is.
    return raw[:TEXT_MAX_CHARS]


def display_value(field: CategoryField, value: Any, lang: str | None = None) -> str:
    """A cleaned value as a resident or agent reads it (for the case description and receipt)."""
    from django.utils import translation

    with translation.override(lang) if lang else contextlib.nullcontext():
        if field.kind == Kind.YES_NO:
            return _("Yes") if value else _("No")
        if field.kind == Kind.CHOICE:
            return choice_name(field, str(value), lang)
        if field.kind == Kind.MULTI_CHOICE:
            return ", ".join(choice_name(field, str(v), lang) for v in value)
        if field.kind == Kind.LOCATION:
            if isinstance(value, dict) and "lat" in value:
                return f"{value['lat']},{value['long']}"
            return str(value.get("address", "")) if isinstance(value, dict) else str(value)
        if field.kind == Kind.ATTACHMENT:
            return ", ".join(str(f.get("filename", "")) for f in value)
        return str(value)
