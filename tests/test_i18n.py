"""The Swedish and Danish catalogues are complete, well-formed and compiled.

The .po files are read with a small parser (no polib); the committed .mo files are read with
Python's ``gettext``, so a machine without GNU gettext still gets the translations.
"""

from __future__ import annotations

import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.utils import translation

from cases.models import CaseState

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ["sv", "da"]
PLACEHOLDER = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)[sdfir]|\{[A-Za-z_][A-Za-z0-9_]*\}")
ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


@dataclass
class Entry:
    flags: set[str] = field(default_factory=set)
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)

    @property
    def translations(self) -> list[str]:
        return [self.msgstr[i] for i in sorted(self.msgstr)]


def _unquote(text: str) -> str:
    text = text.strip()
    assert text.startswith('"') and text.endswith('"'), text
    return re.sub(r"\\(.)", lambda m: ESCAPES.get(m.group(1), m.group(0)), text[1:-1])


def parse_po(path: Path) -> list[Entry]:
    """Entries of a .po file, the header included (msgid ""), obsolete (#~) entries left out."""
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple[str, int] = ("", 0)

    def start() -> Entry:
        nonlocal entry
        if entry is None or entry.msgstr:
            entry = Entry()
            entries.append(entry)
        return entry

    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#~"):
            continue
        if line.startswith("#,"):
            start().flags.update(f.strip() for f in line[2:].split(","))
        elif line.startswith("#"):
            start()
        elif line.startswith('"'):
            assert entry is not None
            kind, index = target
            if kind == "msgstr":
                entry.msgstr[index] += _unquote(line)
            elif kind == "msgid_plural":
                entry.msgid_plural = (entry.msgid_plural or "") + _unquote(line)
            elif kind == "msgid":
                entry.msgid += _unquote(line)
        else:
            m = re.match(r"(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(\".*\")$", line)
            assert m, f"{path}: cannot read {line!r}"
            kind, index, value = m.group(1), int(m.group(2) or 0), _unquote(m.group(3))
            if kind in ("msgctxt", "msgid") and (entry is None or entry.msgstr):
                start()
            assert entry is not None
            if kind == "msgid":
                entry.msgid = value
            elif kind == "msgid_plural":
                entry.msgid_plural = value
            elif kind == "msgstr":
                entry.msgstr[index] = value
            target = (kind, index)
    return entries


def messages(lang: str) -> list[Entry]:
    return [e for e in parse_po(LOCALE_DIR / lang / "LC_MESSAGES" / "django.po") if e.msgid]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_catalogue_is_not_empty(lang: str) -> None:
    assert len(messages(lang)) > 100


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_is_translated(lang: str) -> None:
    missing = [e.msgid for e in messages(lang) if not e.msgstr or not all(e.translations)]
    assert missing == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_entry_is_fuzzy(lang: str) -> None:
    text = (LOCALE_DIR / lang / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    assert not re.search(r"^#,.*\bfuzzy\b", text, flags=re.MULTILINE)
    assert all(
        "fuzzy" not in e.flags for e in parse_po(LOCALE_DIR / lang / "LC_MESSAGES" / "django.po")
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_placeholders_are_kept(lang: str) -> None:
    wrong = []
    for e in messages(lang):
        for i, msgstr in enumerate(e.translations):
            source = e.msgid if i == 0 or e.msgid_plural is None else e.msgid_plural
            if set(PLACEHOLDER.findall(source)) != set(PLACEHOLDER.findall(msgstr)):
                wrong.append((e.msgid, msgstr))
    assert wrong == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_compiled_catalogue_matches_the_po(lang: str) -> None:
    """A .mo older than its .po would answer with stale (or no) translations."""
    catalogue = gettext.translation("django", localedir=LOCALE_DIR, languages=[lang])
    entries = [e for e in messages(lang) if e.msgid_plural is None]
    step = max(1, len(entries) // 20)
    sample = entries[::step]
    assert len(sample) >= 20
    stale = [
        (e.msgid, e.msgstr[0], catalogue.gettext(e.msgid))
        for e in sample
        if catalogue.gettext(e.msgid) != e.msgstr[0]
    ]
    assert stale == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_compiled_catalogue_has_every_message(lang: str) -> None:
    catalogue = gettext.translation("django", localedir=LOCALE_DIR, languages=[lang])
    stale = [
        e.msgid
        for e in messages(lang)
        if e.msgid_plural is None and catalogue.gettext(e.msgid) != e.msgstr[0]
    ]
    assert stale == []


def test_the_english_catalogue_is_compiled() -> None:
    catalogue = gettext.translation("django", localedir=LOCALE_DIR, languages=["en"])
    assert catalogue.gettext("Timeline") == "Timeline"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("sv", "Väntar på invånaren"),
        ("da", "Afventer borgeren"),
        ("en", "Waiting for the resident"),
    ],
)
def test_case_states_speak_the_active_language(lang: str, expected: str) -> None:
    with translation.override(lang):
        assert str(CaseState.WAITING.label) == expected


def test_the_new_state_reads_ny() -> None:
    with translation.override("sv"):
        assert str(CaseState.NEW.label) == "Nytt"
    with translation.override("da"):
        assert str(CaseState.NEW.label) == "Ny"
