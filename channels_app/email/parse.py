"""Turn raw RFC 5322 bytes into what the e-mail processor needs, whatever the sender's client did.

Real mail is messy: undeclared 8-bit headers, ISO-8859-1 that is really windows-1252, broken
boundaries, truncated base64, filenames in RFC 2047 *inside* an RFC 2231 parameter. The rule
here is: never raise for a message that has bytes in it; decode what can be decoded, keep the
rest as attachments, and note defects. Only when the stdlib parser itself crashes with the
first policy do we try the other (see ``PRIMARY_POLICY``); if that crashes too,
``MailParseError``.

No database access in this module.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import html
import re
from dataclasses import dataclass, field
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

import nh3

_MSGID_RE = re.compile(r"<([^<>\s]+)>")
# Tags after which the derived text starts a new line.
_BLOCK_TAGS = frozenset("p div br li tr h1 h2 h3 h4 h5 h6 blockquote pre table ul ol hr".split())  # noqa: SIM905


class MailParseError(Exception):
    """The message could not be read at all (not even headers)."""


@dataclass
class MailPart:
    """One file that came with the mail: an attachment, an inline image or a forwarded mail."""

    filename: str
    declared_type: str
    content: bytes
    inline: bool = False
    content_id: str = ""


@dataclass
class ParsedMail:
    """The parts of one mail the intake uses. Header values are decoded text."""

    message_id: str  # without <>, "" when missing
    from_address: str
    from_name: str
    subject: str
    in_reply_to: list[str]
    references: list[str]
    headers: dict[str, list[str]]  # lower-cased name -> decoded values in order
    text: str
    html: str  # sanitised with nh3; never the sender's raw HTML
    content_type: str
    report_type: str = ""  # multipart/report's report-type, e.g. "delivery-status"
    delivery_status: str = ""  # text of the message/delivery-status part
    original_headers: dict[str, str] = field(default_factory=dict)  # of the bounced message
    parts: list[MailPart] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)

    def header(self, name: str) -> str:
        values = self.headers.get(name.lower())
        return values[0] if values else ""

    @property
    def thread_ids(self) -> list[str]:
        """Every Message-ID this mail says it answers, nearest first."""
        seen: list[str] = []
        for mid in [*self.in_reply_to, *reversed(self.references)]:
            if mid not in seen:
                seen.append(mid)
        return seen


# --- bytes and headers -----------------------------------------------------------------------
def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Decode with the declared charset if it fits, else utf-8, else windows-1252.

    ISO-8859-1 is read as windows-1252 (its superset), as every browser does: Outlook labels
    curly quotes and € as latin-1.
    """
    candidates: list[str] = []
    if charset:
        cs = charset.strip().strip('"').lower()
        if cs in ("iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii", "iso_8859-1"):
            cs = "windows-1252"
        candidates.append(cs)
    candidates += ["utf-8", "windows-1252"]
    for cs in candidates:
        try:
            return data.decode(cs)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("windows-1252", errors="replace")


def _unescape_8bit(value: str) -> str:
    """Headers with raw 8-bit bytes arrive as surrogate escapes; decode them properly."""
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        return decode_bytes(value.encode("ascii", "surrogateescape"))
    return value


def decode_header_value(value: object) -> str:
    """RFC 2047 encoded words, raw 8-bit, unknown charsets: always returns text, one line."""
    text = _unescape_8bit(str(value))
    if "=?" in text:
        try:
            chunks = decode_header(text)
            out = []
            for chunk, charset in chunks:
                if isinstance(chunk, bytes):
                    out.append(decode_bytes(chunk, charset))
                else:
                    out.append(chunk)
            text = "".join(out)
        except Exception:  # noqa: S110 - a malformed encoded word stays as it was written
            pass
    return re.sub(r"\s+", " ", text.replace("\r", " ").replace("\n", " ")).strip()


def message_ids(value: str) -> list[str]:
    """Message-IDs in a header value, without <>. A bare id without brackets is accepted."""
    found = _MSGID_RE.findall(value or "")
    if not found and value and "@" in value and " " not in value.strip():
        found = [value.strip().strip("<>")]
    return found


def external_id_for(raw: bytes) -> str:
    """The inbound key of a raw message: its Message-ID without <>, or sha256 of the bytes."""
    try:
        headers = email.message_from_bytes(raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0])
        ids = message_ids(str(headers.get("Message-ID", "") or ""))
    except Exception:
        ids = []
    if ids:
        return ids[0][:255]
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _raw_headers(msg: Message) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in msg.raw_items():
        headers.setdefault(name.lower(), []).append(decode_header_value(value))
    return headers


# --- HTML ------------------------------------------------------------------------------------
# nh3's URL schemes plus cid: (an inline image of the mail itself, RFC 2392). data: stays out.
_URL_SCHEMES = frozenset(nh3.ALLOWED_URL_SCHEMES) | {"cid"}


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    """An image may only show a part of the mail itself (``cid:``). A remote source (http,
    https, protocol-relative, relative) is dropped: loading it when an agent opens the mail
    would tell the sender that, when and from where it was read (a tracking pixel)."""
    if tag == "img" and attribute in ("src", "srcset"):
        return value if value.strip().lower().startswith("cid:") else None
    return value


def sanitise_html(markup: str) -> str:
    """nh3 (ammonia) with its defaults (no script, style, event handlers or javascript: URLs),
    and no remote images. Idempotent: a page showing a stored mail may run it again."""
    return nh3.clean(
        markup,
        link_rel="noopener noreferrer nofollow",
        url_schemes=_URL_SCHEMES,
        attribute_filter=_keep_attribute,
    )


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head", "title"):
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title"):
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.out.append(data)


def html_to_text(markup: str) -> str:
    parser = _TextExtractor()
    try:
        parser.feed(markup)
        parser.close()
        text = "".join(parser.out)
    except Exception:
        text = re.sub(r"<[^>]+>", " ", markup)
    text = html.unescape(text).replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# --- the body walk ---------------------------------------------------------------------------
def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    if not name:
        try:
            name = part.get_param("name") or ""  # type: ignore[assignment]
            if isinstance(name, tuple):  # RFC 2231 triple under compat32
                name = email.utils.collapse_rfc2231_value(name)
        except Exception:
            name = ""
    return decode_header_value(name) if name else ""


def _payload(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _part_text(part: Message) -> str:
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return decode_bytes(_payload(part), charset)


def _as_bytes(msg: Message) -> bytes:
    try:
        return msg.as_bytes(policy=email.policy.compat32)
    except Exception:
        return msg.as_string(policy=email.policy.compat32).encode("utf-8", "surrogateescape")


class _Walker:
    def __init__(self, mail: ParsedMail) -> None:
        self.mail = mail
        self.texts: list[str] = []
        self.htmls: list[str] = []

    def walk(self, part: Message, *, in_related: bool = False, depth: int = 0) -> None:
        ctype = part.get_content_type()
        if depth > 30:
            self.mail.defects.append("MIME nesting deeper than 30 levels; rest ignored")
            return
        if ctype == "message/rfc822" or (
            ctype.startswith("message/")
            and ctype != "message/delivery-status"
            and part.is_multipart()
        ):
            self._forwarded(part)
            return
        if ctype == "message/delivery-status":
            self.mail.delivery_status = self._delivery_status(part)
            return
        if ctype == "text/rfc822-headers":
            self._original_headers(_part_text(part).encode("utf-8", "replace"))
            return
        if part.is_multipart():
            if ctype == "multipart/report":
                self.mail.report_type = (part.get_param("report-type") or "").lower()  # type: ignore[union-attr]
            subparts = part.get_payload()
            if ctype == "multipart/alternative":
                self._alternative(subparts, in_related=in_related, depth=depth)
                return
            for sub in subparts:  # type: ignore[union-attr]
                if isinstance(sub, Message):
                    self.walk(
                        sub, in_related=in_related or ctype == "multipart/related", depth=depth + 1
                    )
            return
        self._leaf(part, ctype, in_related=in_related)

    def _alternative(self, subparts: object, *, in_related: bool, depth: int) -> None:
        # Take the plain text and the HTML once each; other alternatives (text/calendar,
        # text/enriched) are kept as files so nothing is lost.
        had_text = had_html = False
        for sub in subparts:  # type: ignore[attr-defined]
            if not isinstance(sub, Message):
                continue
            st = sub.get_content_type()
            if st == "text/plain" and not had_text and not _filename(sub):
                had_text = True
                self.texts.append(_part_text(sub))
            elif st == "text/html" and not had_html and not _filename(sub):
                had_html = True
                self.htmls.append(_part_text(sub))
            else:
                self.walk(sub, in_related=in_related, depth=depth + 1)

    def _leaf(self, part: Message, ctype: str, *, in_related: bool) -> None:
        filename = _filename(part)
        try:
            disposition = part.get_content_disposition()
        except Exception:
            disposition = None
        maintype = ctype.split("/", 1)[0]
        body_candidate = disposition != "attachment" and not filename
        if body_candidate and ctype in ("text/plain", "multipart/mixed", "multipart/alternative"):
            # A multipart whose boundary never appears is a leaf: show its raw text.
            self.texts.append(_part_text(part))
            return
        if body_candidate and ctype == "text/html":
            self.htmls.append(_part_text(part))
            return
        if body_candidate and maintype == "multipart":
            self.texts.append(_part_text(part))
            return
        content_id = (part.get("Content-ID") or "").strip().strip("<>")
        inline = (
            maintype == "image"
            and disposition != "attachment"
            and (in_related or bool(content_id) or disposition == "inline")
        )
        self.mail.parts.append(
            MailPart(
                filename=filename or _default_name(ctype, content_id),
                declared_type=ctype,
                content=_payload(part),
                inline=inline,
                content_id=content_id,
            )
        )

    def _forwarded(self, part: Message) -> None:
        inner = part.get_payload()
        msg = inner[0] if isinstance(inner, list) and inner else None
        if msg is None or not isinstance(msg, Message):
            content = _payload(part)
            subject = ""
        else:
            content = _as_bytes(msg)
            subject = decode_header_value(msg.get("Subject", "") or "")
            if self.mail.report_type or self.mail.content_type == "multipart/report":
                self._original_headers(content)
        name = _filename(part) or _safe_stem(subject or "forwarded") + ".eml"
        if not name.lower().endswith(".eml"):
            name += ".eml"
        self.mail.parts.append(
            MailPart(filename=name, declared_type="message/rfc822", content=content)
        )

    def _delivery_status(self, part: Message) -> str:
        payload = part.get_payload()
        if isinstance(payload, list):
            blocks = []
            for block in payload:
                if isinstance(block, Message):
                    blocks.append("\n".join(f"{k}: {v}" for k, v in block.raw_items()))
            return "\n\n".join(blocks)
        return _part_text(part)

    def _original_headers(self, data: bytes) -> None:
        try:
            msg = email.message_from_bytes(data, policy=email.policy.compat32)
            for key in ("Message-ID", "To", "Subject"):
                if msg.get(key):
                    self.mail.original_headers[key.lower()] = decode_header_value(msg.get(key))
        except Exception:  # noqa: S110 - headers of a bounced mail are a bonus, not required
            pass


def _safe_stem(text: str) -> str:
    stem = re.sub(r"[^\w\- .]+", "", text, flags=re.UNICODE).strip()[:80]
    return stem or "forwarded"


def _default_name(ctype: str, content_id: str) -> str:
    import mimetypes

    ext = mimetypes.guess_extension(ctype) or ".bin"
    stem = re.sub(r"[^\w\-.]+", "", content_id.split("@", 1)[0])[:40] if content_id else "part"
    return f"{stem or 'part'}{ext}"


def _sender(msg: Message) -> tuple[str, str]:
    """(display name, address) from From, else Sender, Reply-To, Return-Path.

    Addresses are split on the *encoded* value and only the name is decoded afterwards:
    Exchange writes "=?utf-8?Q?Str=C3=B6m=2C_=C3=85sa?= <...>", whose decoded comma would
    otherwise split one sender into two bogus addresses.
    """
    raw: dict[str, str] = {}
    for key, value in msg.raw_items():
        raw.setdefault(key.lower(), _unescape_8bit(str(value)))
    for key in ("from", "sender", "reply-to", "return-path"):
        value = raw.get(key, "").replace("\r", " ").replace("\n", " ")
        if not value.strip():
            continue
        pairs = getaddresses([value]) or [parseaddr(value)]
        for name, address in pairs:
            if "@" in address:
                return decode_header_value(name).strip('"').strip(), address
    return "", ""


def _parse_with(raw: bytes, policy: email.policy.Policy) -> ParsedMail:
    msg = email.message_from_bytes(raw, policy=policy)
    headers = _raw_headers(msg)
    if not headers:
        raise MailParseError("No headers: this is not an e-mail message.")

    def first(name: str) -> str:
        values = headers.get(name)
        return values[0] if values else ""

    name, address = _sender(msg)
    mid = message_ids(first("message-id"))
    mail = ParsedMail(
        message_id=mid[0] if mid else "",
        from_address=address.strip().strip("<>"),
        from_name=name,
        subject=first("subject"),
        in_reply_to=message_ids(first("in-reply-to")),
        references=message_ids(" ".join(headers.get("references", []))),
        headers=headers,
        text="",
        html="",
        content_type=msg.get_content_type(),
    )
    if len(headers.get("subject", [])) > 1:
        mail.defects.append("duplicate Subject header; the first one is used")
    walker = _Walker(mail)
    walker.walk(msg)
    mail.defects += [type(d).__name__ for d in msg.defects]
    raw_html = "\n".join(h for h in walker.htmls if h.strip())
    mail.html = sanitise_html(raw_html) if raw_html else ""
    text = "\n\n".join(t.strip("\n") for t in walker.texts if t.strip())
    if not text and mail.html:
        text = html_to_text(mail.html)
    mail.text = text.replace("\r\n", "\n").strip()
    return mail


# Which policy parses first. compat32 is ten times faster than policy.default on this corpus
# (0.3 ms against 3.1 ms a message: policy.default builds header objects on every access, in
# the parser too), and we decode RFC 2047/2231 ourselves, so it loses nothing; the intake's
# budget at 150 messages/s is 6.7 ms a message in all. policy.default is the fallback.
# The corpus test passes with either order (ADR 0014).
PRIMARY_POLICY: email.policy.Policy = email.policy.compat32
FALLBACK_POLICY: email.policy.Policy = email.policy.default


def parse_mail(raw: bytes) -> ParsedMail:
    """Parse with the primary policy; on any crash, again with the other; else MailParseError."""
    if not raw or not raw.strip():
        raise MailParseError("The message is empty.")
    try:
        return _parse_with(raw, PRIMARY_POLICY)
    except MailParseError:
        raise
    except Exception as first_error:
        try:
            mail = _parse_with(raw, FALLBACK_POLICY)
        except Exception as exc:
            raise MailParseError(f"Unreadable MIME: {type(exc).__name__}: {exc}") from exc
        name = "compat32" if FALLBACK_POLICY is email.policy.compat32 else "policy.default"
        mail.defects.append(f"parsed with {name} after {type(first_error).__name__}")
        return mail
