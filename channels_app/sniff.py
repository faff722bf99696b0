"""What a file really is, read from its bytes, not from its name or the type its sender claims.

One implementation for every channel: the e-mail processor labels attachments with it
(``sniff_content_type``: whatever the bytes say, else the declared type, else the name), and the
e-service form and Open311 decide with it which uploads they accept (``sniff``: a short list of
document and image types; programs and markup are refused by name).

A small magic-bytes table instead of libmagic or the ``filetype`` package: no native library to
install (the product runs on a laptop with nothing installed), no new dependency, and the types
residents send are covered. Office documents are ZIP or OLE files: a ZIP is opened to read its
``mimetype`` entry (OpenDocument) or the main part type in ``[Content_Types].xml`` (Office Open
XML), reading at most two small entries and never decompressing the rest.

No database access in this module.
"""

from __future__ import annotations

import io
import mimetypes
import zipfile
from dataclasses import dataclass


@dataclass(frozen=True)
class FileType:
    """A file type: its content type, the extension we store it under, and what kind of thing
    it is (``document``, ``image``, ``archive``, ``media``, ``program`` or ``markup``)."""

    content_type: str
    extension: str
    kind: str = "document"


PDF = FileType("application/pdf", ".pdf")
PNG = FileType("image/png", ".png", "image")
JPEG = FileType("image/jpeg", ".jpg", "image")
GIF = FileType("image/gif", ".gif", "image")
HEIC = FileType("image/heic", ".heic", "image")
HEIF = FileType("image/heif", ".heif", "image")
WEBP = FileType("image/webp", ".webp", "image")
TIFF = FileType("image/tiff", ".tif", "image")
BMP = FileType("image/bmp", ".bmp", "image")
DOCX = FileType("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx")
XLSX = FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx")
PPTX = FileType(
    "application/vnd.openxmlformats-officedocument.presentationml.presentation", ".pptx"
)
DOCM = FileType("application/vnd.ms-word.document.macroEnabled.12", ".docm")
XLSM = FileType("application/vnd.ms-excel.sheet.macroEnabled.12", ".xlsm")
PPTM = FileType("application/vnd.ms-powerpoint.presentation.macroEnabled.12", ".pptm")
ODT = FileType("application/vnd.oasis.opendocument.text", ".odt")
ODS = FileType("application/vnd.oasis.opendocument.spreadsheet", ".ods")
ODP = FileType("application/vnd.oasis.opendocument.presentation", ".odp")
ZIP = FileType("application/zip", ".zip", "archive")
OLE = FileType("application/x-ole-storage", ".bin")
TEXT = FileType("text/plain", ".txt")
HTML = FileType("text/html", ".html", "markup")
SVG = FileType("image/svg+xml", ".svg", "markup")
MP4 = FileType("video/mp4", ".mp4", "media")

# Fixed signatures at offset 0, checked in order.
_MAGIC: tuple[tuple[bytes, FileType], ...] = (
    (b"%PDF-", PDF),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
    (b"\x1f\x8b", FileType("application/gzip", ".gz", "archive")),
    (b"Rar!\x1a\x07", FileType("application/vnd.rar", ".rar", "archive")),
    (b"7z\xbc\xaf\x27\x1c", FileType("application/x-7z-compressed", ".7z", "archive")),
    (b"MZ", FileType("application/x-msdownload", ".exe", "program")),  # Windows PE / DOS
    (b"\x7fELF", FileType("application/x-executable", ".bin", "program")),
    (b"\xfe\xed\xfa\xce", FileType("application/x-mach-binary", ".bin", "program")),
    (b"\xfe\xed\xfa\xcf", FileType("application/x-mach-binary", ".bin", "program")),
    (b"\xce\xfa\xed\xfe", FileType("application/x-mach-binary", ".bin", "program")),
    (b"\xcf\xfa\xed\xfe", FileType("application/x-mach-binary", ".bin", "program")),
    # Mach-O universal binaries and Java classes share this one: a program either way.
    (b"\xca\xfe\xba\xbe", FileType("application/java-vm", ".class", "program")),
    (b"#!", FileType("text/x-shellscript", ".sh", "program")),  # any script with a shebang
    (b"%!PS", FileType("application/postscript", ".ps")),
    (b"{\\rtf", FileType("application/rtf", ".rtf")),
    (b"BEGIN:VCALENDAR", FileType("text/calendar", ".ics")),
    (b"BEGIN:VCARD", FileType("text/vcard", ".vcf")),
    (b"OggS", FileType("audio/ogg", ".ogg", "media")),
    (b"ID3", FileType("audio/mpeg", ".mp3", "media")),
    (b"BM", BMP),  # last: two letters that plain text can start with too
)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# ISO base media "ftyp" brands of HEIC/HEIF still images; any other brand is video (mp4, mov).
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
_HEIF_BRANDS = frozenset({b"mif1", b"msf1"})
# Office Open XML: the exact main part type (macro-enabled documents have their own).
_OOXML_MAIN = {
    f"{t}.main+xml": file_type
    for t, file_type in (
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", DOCX),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", XLSX),
        ("application/vnd.openxmlformats-officedocument.presentationml.presentation", PPTX),
        ("application/vnd.ms-word.document.macroEnabled", DOCM),
        ("application/vnd.ms-excel.sheet.macroEnabled", XLSM),
        ("application/vnd.ms-powerpoint.presentation.macroEnabled", PPTM),
    )
}
_ODF = {t.content_type: t for t in (ODT, ODS, ODP)}
_ZIP_ENTRY_READ_LIMIT = 256 * 1024
# Text that starts like a web page or an image made of markup (browsers would render it).
_MARKUP_STARTS = ("<!doctype", "<html", "<head", "<body", "<svg", "<?xml", "<script", "<iframe")
_MARKUP_INSIDE = ("<script", "<svg", "<html")


def _zip_type(data: bytes) -> FileType:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                with archive.open("mimetype") as entry:
                    mimetype = entry.read(200).decode("ascii", "replace").strip()
                if mimetype in _ODF:
                    return _ODF[mimetype]
                if mimetype.startswith("application/vnd.oasis.opendocument."):
                    return FileType(mimetype, mimetypes.guess_extension(mimetype) or ".zip")
            if "[Content_Types].xml" in names:
                with archive.open("[Content_Types].xml") as entry:
                    types = entry.read(_ZIP_ENTRY_READ_LIMIT).decode("utf-8", "replace")
                for main, file_type in _OOXML_MAIN.items():
                    if f'ContentType="{main}"' in types:
                        return file_type
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError, ValueError):
        pass
    return ZIP


def identify(data: bytes) -> FileType | None:
    """The type the bytes themselves show (magic numbers, a ZIP's directory, markup at the
    start), or None when they show nothing (plain text among others)."""
    head = data[:64]
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(data)
    if head[4:8] == b"ftyp":
        if head[8:12] in _HEIC_BRANDS:
            return HEIC
        if head[8:12] in _HEIF_BRANDS:
            return HEIF
        return MP4
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(_OLE_MAGIC):
        return OLE
    for magic, file_type in _MAGIC:
        if head.startswith(magic):
            return file_type
    start = head.lstrip().lower()
    if start.startswith((b"<!doctype html", b"<html")):
        return HTML
    if start.startswith(b"<svg") or (start.startswith(b"<?xml") and b"<svg" in data[:512]):
        return SVG
    return None


# --- E-mail: label whatever came -------------------------------------------------------------
def sniff_content_type(content: bytes, *, declared: str = "", filename: str = "") -> str:
    """The content type of an attachment: what the bytes say, else the declared type, else the
    type of the file name's extension, else ``application/octet-stream``."""
    found = identify(content)
    if found is OLE and filename:
        # Old .doc/.xls/.msg: the container says OLE, only the name says which.
        return mimetypes.guess_type(filename)[0] or found.content_type
    if found is not None:
        return found.content_type
    declared = (declared or "").lower()
    if declared and declared not in ("application/octet-stream", "application/unknown"):
        return declared
    if filename:
        guessed = mimetypes.guess_type(filename)[0]
        if guessed:
            return guessed
    return "application/octet-stream"


# --- Forms and Open311: accept only what we can handle ----------------------------------------
ACCEPTED = frozenset({PDF, PNG, JPEG, GIF, HEIC, HEIF, WEBP, DOCX, XLSX, ODT, ODS})


class Refused(Exception):
    """The file is not one we accept; ``kind`` says why: ``program``, ``markup`` or
    ``unknown``."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def sniff(data: bytes) -> FileType:
    """An accepted file's type (``ACCEPTED``, or UTF-8 plain text), else raises ``Refused``.

    Programs and markup (web pages, SVG: both run script in a browser) are refused whatever
    their name; anything else not accepted is refused as unknown, except text the bytes cannot
    tell from plain text (a note beginning "BM", a vCard), which is plain text.
    """
    found = identify(data)
    if found is not None and found in ACCEPTED:
        return found
    if found is not None and found.kind in ("program", "markup"):
        raise Refused(found.kind)
    return _plain_text(data)


def _plain_text(data: bytes) -> FileType:
    if b"\x00" in data:
        raise Refused("unknown")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("unknown") from None
    start = text.lstrip("\ufeff \t\r\n").lower()
    if start.startswith(_MARKUP_STARTS) or any(tag in start[:2048] for tag in _MARKUP_INSIDE):
        raise Refused("markup")
    return TEXT
