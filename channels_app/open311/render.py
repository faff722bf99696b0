"""Rendering GeoReport v2 answers as JSON or XML, and its error format.

The spec (wiki.open311.org/GeoReport_v2) requires XML and allows JSON; the format is the URL's
suffix. Both are built from the same Python data: a list of dicts (or one dict for the service
definition and discovery), so the two formats can never disagree. XML is built with
ElementTree, which escapes text; characters XML 1.0 cannot carry at all (control characters a
client may have posted) are dropped instead of producing a document nobody can parse.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET  # building only; we never parse XML from clients
from typing import Any

from django.http import HttpResponse

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
FORMATS = ("json", "xml")

# The element name of one item of a list field, in XML (JSON keeps a plain array).
LIST_ITEMS = {
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class Open311Error(Exception):
    """A failure the client must see in the spec's error format, with this HTTP status."""

    def __init__(self, status: int, *descriptions: str) -> None:
        super().__init__(*descriptions)
        self.status = status
        self.descriptions = list(descriptions)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, key: str, value: Any) -> None:
    child = ET.SubElement(element, key)
    if isinstance(value, list):
        item_tag = LIST_ITEMS.get(key, "item")
        for item in value:
            if isinstance(item, dict):
                node = ET.SubElement(child, item_tag)
                for k, v in item.items():
                    _fill(node, k, v)
            else:
                ET.SubElement(child, item_tag).text = _text(item)
    elif isinstance(value, dict):
        for k, v in value.items():
            _fill(child, k, v)
    else:
        child.text = _text(value)


def to_xml(data: list[dict[str, Any]] | dict[str, Any], *, root: str, item: str = "") -> bytes:
    """``<root><item>…</item>…</root>`` for a list, ``<root>…</root>`` for one dict."""
    top = ET.Element(root)
    if isinstance(data, dict):
        for key, value in data.items():
            _fill(top, key, value)
    else:
        for entry in data:
            node = ET.SubElement(top, item)
            for key, value in entry.items():
                _fill(node, key, value)
    # The spec asks for the declaration with encoding="UTF-8" (ElementTree would write 'utf-8').
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(
        top, encoding="unicode"
    ).encode("utf-8")


def respond(
    data: list[dict[str, Any]] | dict[str, Any],
    *,
    fmt: str,
    root: str,
    item: str = "",
    status: int = 200,
) -> HttpResponse:
    if fmt == "xml":
        return HttpResponse(
            to_xml(data, root=root, item=item), status=status, content_type=XML_TYPE
        )
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return HttpResponse(body, status=status, content_type=JSON_TYPE)


def error_response(error: Open311Error, *, fmt: str) -> HttpResponse:
    """The spec's errors: a list of ``{code, description}``; ``code`` is the HTTP status."""
    items = [{"code": error.status, "description": d} for d in error.descriptions]
    return respond(items, fmt=fmt, root="errors", item="error", status=error.status)
