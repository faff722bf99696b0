"""The real type of an attachment, read from its first bytes, not from what the sender claims.

A small magic-bytes table instead of libmagic or the ``filetype`` package: no native library
to install (the product runs on a laptop with nothing installed), no new dependency, and the
handful of types residents actually send is covered. Office documents are ZIP or OLE files, so
a ZIP is opened to tell .docx/.xlsx/.pptx/.odt from a plain archive. When the bytes say nothing
we trust the declared type, then the file name's extension, then ``application/octet-stream``.
"""

from __future__ import annotations

import io
import mimetypes
import zipfile

_MAGIC: list[tuple[int, bytes, str]] = [
    (0, b"%PDF-", "application/pdf"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"II*\x00", "image/tiff"),
    (0, b"MM\x00*", "image/tiff"),
    (0, b"BM", "image/bmp"),
    (0, b"\x1f\x8b", "application/gzip"),
    (0, b"Rar!\x1a\x07", "application/vnd.rar"),
    (0, b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (0, b"MZ", "application/x-msdownload"),
    (0, b"\x7fELF", "application/x-executable"),
    (0, b"%!PS", "application/postscript"),
    (0, b"{\\rtf", "application/rtf"),
    (0, b"BEGIN:VCALENDAR", "text/calendar"),
    (0, b"BEGIN:VCARD", "text/vcard"),
    (0, b"OggS", "audio/ogg"),
    (0, b"ID3", "audio/mpeg"),
]
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OOXML = (
    ("word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
)


def _zip_type(content: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                odf = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
                if odf.startswith("application/vnd.oasis"):
                    return odf
            for prefix, ctype in _OOXML:
                if any(n.startswith(prefix) for n in names):
                    return ctype
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
        pass
    return "application/zip"


def sniff_content_type(content: bytes, *, declared: str = "", filename: str = "") -> str:
    """The content type of ``content``: magic bytes first, then declared, then by extension."""
    head = content[:64]
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(content)
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1"):
        return "image/heic"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(_OLE):
        # Old .doc/.xls/.msg: the container says OLE, the name says which.
        guessed = mimetypes.guess_type(filename)[0] if filename else None
        return guessed or "application/x-ole-storage"
    for offset, magic, ctype in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return ctype
    stripped = head.lstrip().lower()
    if stripped.startswith((b"<!doctype html", b"<html")):
        return "text/html"
    if stripped.startswith(b"<svg") or (stripped.startswith(b"<?xml") and b"<svg" in content[:512]):
        return "image/svg+xml"
    declared = (declared or "").lower()
    if declared and declared not in ("application/octet-stream", "application/unknown"):
        return declared
    if filename:
        guessed = mimetypes.guess_type(filename)[0]
        if guessed:
            return guessed
    return "application/octet-stream"
