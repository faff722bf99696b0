"""Fixtures of the e-service tests: a category with one extra field of every kind, and files."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.models import Category, CategoryField
from tests.factories import CategoryFactory
from tests.municipality import Org


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """The rate limit counts in the cache: every test starts with a clean slate."""
    cache.clear()
    yield
    cache.clear()


CHOICES = [
    {"key": "plastic", "name_sv": "Plast", "name_da": "Plastik", "name_en": "Plastic"},
    {"key": "paper", "name_sv": "Papper", "name_da": "Papir", "name_en": "Paper"},
    {"key": "glass", "name_sv": "Glas", "name_da": "Glas", "name_en": "Glass"},
]


def add_field(
    category: Category, code: str, kind: str, *, required: bool = False, **kw
) -> CategoryField:  # type: ignore[no-untyped-def]
    return CategoryField.objects.create(
        category=category,
        code=code,
        kind=kind,
        position=kw.pop("position", CategoryField.objects.filter(category=category).count()),
        label_sv=kw.pop("label_sv", f"{code} (sv)"),
        label_da=kw.pop("label_da", f"{code} (da)"),
        label_en=kw.pop("label_en", f"{code} (en)"),
        required=required,
        **kw,
    )


@pytest.fixture
def category(org: Org) -> Category:
    """ "Overflowing recycling station": one optional field of every kind, and a required one."""
    cat = CategoryFactory(
        code="recycling",
        department=org.waste,
        name_sv="Full återvinningsstation",
        name_da="Fuld genbrugsstation",
        name_en="Overflowing recycling station",
    )
    add_field(
        cat,
        "station",
        "text",
        required=True,
        label_sv="Station",
        label_da="Station",
        label_en="Station",
    )
    add_field(
        cat,
        "bags",
        "number",
        label_sv="Antal säckar",
        label_da="Antal sække",
        label_en="Number of bags",
    )
    add_field(cat, "seen", "date", label_sv="Sett datum", label_da="Set dato", label_en="Date seen")
    add_field(
        cat,
        "material",
        "choice",
        choices=CHOICES,
        label_sv="Material",
        label_da="Materiale",
        label_en="Material",
    )
    add_field(
        cat,
        "others",
        "multichoice",
        choices=CHOICES,
        label_sv="Även",
        label_da="Også",
        label_en="Also",
    )
    add_field(
        cat,
        "blocked",
        "yesno",
        label_sv="Blockerar vägen",
        label_da="Spærrer vejen",
        label_en="Blocks the road",
    )
    add_field(cat, "where", "location", label_sv="Plats", label_da="Sted", label_en="Place")
    add_field(
        cat, "photos", "attachment", label_sv="Bilder", label_da="Billeder", label_en="Photos"
    )
    return cat


# --- Files, by content ----------------------------------------------------------------------------
PDF_BYTES = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 20
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + b"\x00" * 30 + b"\xff\xd9"
GIF_BYTES = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"
HEIC_BYTES = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 16
WEBP_BYTES = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 24
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 40
HTML_BYTES = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
SVG_BYTES = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
MP4_BYTES = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 16


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _content_types(main: str) -> bytes:
    return (
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        f'content-types"><Override PartName="/main.xml" ContentType="{main}"/></Types>'
    ).encode()


DOCX_BYTES = _zip(
    {
        "[Content_Types].xml": _content_types(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
        ),
        "word/document.xml": b"<w:document/>",
    }
)
XLSX_BYTES = _zip(
    {
        "[Content_Types].xml": _content_types(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
        ),
        "xl/workbook.xml": b"<workbook/>",
    }
)
DOCM_BYTES = _zip(
    {
        "[Content_Types].xml": _content_types(
            "application/vnd.ms-word.document.macroEnabled.main+xml"
        ),
        "word/document.xml": b"<w:document/>",
    }
)
ODT_BYTES = _zip({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"})
PLAIN_ZIP_BYTES = _zip({"readme.txt": b"hello"})


def upload(
    name: str, data: bytes, content_type: str = "application/octet-stream"
) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)
