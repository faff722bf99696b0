"""The one content sniffer (channels_app/sniff.py) as the e-mail intake uses it: every attachment
is labelled with what its bytes are, whatever its name or declared type. No database.

The e-service side (which types a form accepts) is tested in tests/channels/eservice/test_fields.py.
"""

from __future__ import annotations

import io
import zipfile

import pytest

from channels_app import sniff
from channels_app.sniff import sniff_content_type


def _zip(entries: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, text in entries.items():
            archive.writestr(name, text)
    return buf.getvalue()


def _ooxml(main: str, part: str) -> bytes:
    """An Office Open XML package as Office writes it: [Content_Types].xml names the main part."""
    types = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        f'package/2006/content-types"><Override PartName="/{part}" ContentType="{main}"/></Types>'
    )
    return _zip({"[Content_Types].xml": types, part: "<x/>"})


@pytest.mark.parametrize(
    ("content", "declared", "filename", "expected"),
    [
        (b"%PDF-1.7 ...", "application/octet-stream", "x", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n....", "image/jpeg", "a.jpg", "image/png"),
        (b"\xff\xd8\xff\xe0", "", "", "image/jpeg"),
        (b"GIF89a....", "", "", "image/gif"),
        (b"MZ\x90\x00", "image/jpeg", "bild.jpg", "application/x-msdownload"),
        (b"just text", "text/plain", "a.txt", "text/plain"),
        (b"\x00\x01\x02", "application/octet-stream", "report.csv", "text/csv"),
        (b"\x00\x01\x02", "", "", "application/octet-stream"),
    ],
)
def test_the_real_type_is_sniffed_from_the_content(
    content: bytes, declared: str, filename: str, expected: str
) -> None:
    assert sniff_content_type(content, declared=declared, filename=filename) == expected


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        # the magic numbers only the e-mail sniffer knew before the two were merged
        (b"II*\x00\x08\x00\x00\x00", "image/tiff"),
        (b"MM\x00*\x00\x00\x00\x08", "image/tiff"),
        (b"BM\x36\x00\x00\x00\x00\x00", "image/bmp"),
        (b"\x1f\x8b\x08\x00", "application/gzip"),
        (b"Rar!\x1a\x07\x00", "application/vnd.rar"),
        (b"7z\xbc\xaf\x27\x1c\x00\x04", "application/x-7z-compressed"),
        (b"\x7fELF\x02\x01\x01", "application/x-executable"),
        (b"%!PS-Adobe-3.0", "application/postscript"),
        (b"{\\rtf1\\ansi", "application/rtf"),
        (b"BEGIN:VCALENDAR\r\nVERSION:2.0", "text/calendar"),
        (b"BEGIN:VCARD\r\nVERSION:3.0", "text/vcard"),
        (b"OggS\x00\x02", "audio/ogg"),
        (b"ID3\x04\x00", "audio/mpeg"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "image/heic"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00", "image/heif"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00", "video/mp4"),
        (b"<!DOCTYPE html><html></html>", "text/html"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml"),
        # and the ones only the e-service sniffer knew: Mach-O, Java classes, scripts
        (b"\xcf\xfa\xed\xfe\x07\x00\x00\x01", "application/x-mach-binary"),
        (b"\xca\xfe\xba\xbe\x00\x00\x00\x34", "application/java-vm"),
        (b"#!/bin/sh\nrm -rf /\n", "text/x-shellscript"),
    ],
)
def test_every_magic_number_of_both_channels_is_known(content: bytes, expected: str) -> None:
    assert sniff_content_type(content, declared="application/pdf", filename="x.pdf") == expected


def test_office_documents_are_told_from_plain_zip_archives() -> None:
    word = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    sheet = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    slides = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    assert sniff_content_type(_ooxml(f"{sheet}.main+xml", "xl/workbook.xml")) == sheet
    assert sniff_content_type(_ooxml(f"{word}.main+xml", "word/document.xml")) == word
    assert sniff_content_type(_ooxml(f"{slides}.main+xml", "ppt/presentation.xml")) == slides
    assert sniff_content_type(_zip({"photos/a.jpg": "x"})) == "application/zip"
    # a macro-enabled document is not a .docx, whatever its directory looks like
    macro = _ooxml("application/vnd.ms-word.document.macroEnabled.main+xml", "word/document.xml")
    assert sniff_content_type(macro) == "application/vnd.ms-word.document.macroEnabled.12"
    odp = _zip({"mimetype": "application/vnd.oasis.opendocument.presentation"})
    assert sniff_content_type(odp) == "application/vnd.oasis.opendocument.presentation"


def test_an_old_office_file_is_named_by_its_extension() -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 56
    assert sniff_content_type(ole, filename="brev.doc") == "application/msword"
    assert sniff_content_type(ole) == "application/x-ole-storage"


def test_both_channels_use_the_one_sniffer() -> None:
    from channels_app.email import processor
    from channels_app.eservice import fields

    assert processor.sniff_content_type is sniff.sniff_content_type
    assert fields.sniff is sniff.sniff
