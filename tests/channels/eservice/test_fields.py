"""validate_field_values: what a valid value of each field kind is, and what the resident is told
(in the active language) when it is not. Shared by the e-service form and Open311."""

from __future__ import annotations

import pytest
from django.http import QueryDict
from django.utils import translation

from cases.models import Category
from channels_app.eservice.fields import check_upload, validate_field_values
from tests.channels.eservice.conftest import (
    DOCM_BYTES,
    DOCX_BYTES,
    EXE_BYTES,
    GIF_BYTES,
    HEIC_BYTES,
    HTML_BYTES,
    JPEG_BYTES,
    MP4_BYTES,
    ODT_BYTES,
    PDF_BYTES,
    PLAIN_ZIP_BYTES,
    PNG_BYTES,
    SVG_BYTES,
    WEBP_BYTES,
    XLSX_BYTES,
    add_field,
    upload,
)

pytestmark = pytest.mark.django_db

VALID = {"station": "Storgatan 5"}


def validate(category: Category, lang: str = "en", files=None, **values):  # type: ignore[no-untyped-def]
    with translation.override(lang):
        return validate_field_values(category, {**VALID, **values}, files)


# --- every kind: valid ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "raw", "expected"),
    [
        ("station", "  Återvinningen vid skolan  ", "Återvinningen vid skolan"),
        ("bags", "12", 12),
        ("bags", "3,5", 3.5),
        ("bags", "1 000", 1000),
        ("bags", "-2.25", -2.25),
        ("seen", "2026-03-31", "2026-03-31"),
        ("seen", "31.3.2026", "2026-03-31"),
        ("seen", "31-03-2026", "2026-03-31"),
        ("material", "paper", "paper"),
        ("others", ["paper", "glass", "paper"], ["paper", "glass"]),
        ("others", "plastic,glass", ["plastic", "glass"]),
        ("blocked", "yes", True),
        ("blocked", "nej", False),
        ("blocked", "0", False),
        ("where", "59.3293,18.0686", {"lat": 59.3293, "long": 18.0686}),
        ("where", " -33.8688 , 151.2093 ", {"lat": -33.8688, "long": 151.2093}),
        ("where", "90,-180", {"lat": 90.0, "long": -180.0}),
        ("where", "Storgatan  5, 123 45 Stad", {"address": "Storgatan 5, 123 45 Stad"}),
    ],
)
def test_it_cleans_valid_values_of_every_kind(category: Category, code, raw, expected) -> None:  # type: ignore[no-untyped-def]
    cleaned, errors = validate(category, **{code: raw})
    assert errors == {}
    assert cleaned[code] == expected


def test_it_leaves_out_empty_optional_fields_and_ignores_unknown_codes(category: Category) -> None:
    cleaned, errors = validate(category, bags="", unknown="x")
    assert errors == {}
    assert cleaned == {"station": "Storgatan 5"}


def test_it_reads_several_choices_from_a_querydict(category: Category) -> None:
    data = QueryDict(mutable=True)
    data.update({"station": "A"})
    data.setlist("others", ["glass", "plastic"])
    cleaned, errors = validate_field_values(category, data)
    assert errors == {}
    assert cleaned["others"] == ["glass", "plastic"]


def test_cleaned_values_are_json_safe(category: Category) -> None:
    import json

    cleaned, errors = validate(
        category,
        files={"photos": [upload("a.jpg", JPEG_BYTES)]},
        bags="2",
        seen="2026-01-02",
        material="glass",
        others=["paper"],
        blocked="yes",
        where="1.5,2.5",
    )
    assert errors == {}
    assert json.loads(json.dumps(cleaned)) == cleaned


# --- every kind: invalid, in Swedish and Danish ----------------------------------------------------
@pytest.mark.parametrize(
    ("code", "raw", "sv", "da"),
    [
        ("station", "", "Detta fält måste fyllas i.", "Dette felt er påkrævet."),
        ("station", "x" * 4001, "Skriv högst 4000 tecken", "Skriv højst 4000 tegn"),
        ("bags", "många", "Ange ett tal", "Angiv et tal"),
        ("bags", "nan", "Ange ett tal", "Angiv et tal"),
        ("seen", "igår", "Ange ett datum", "Angiv en dato"),
        ("seen", "2026-02-30", "Ange ett datum", "Angiv en dato"),
        ("material", "wood", "är inte ett av svarsalternativen", "er ikke en af mulighederne"),
        (
            "others",
            ["paper", "wood"],
            "är inte ett av svarsalternativen",
            "er ikke en af mulighederne",
        ),
        ("blocked", "kanske", "Svara ja eller nej", "Svar ja eller nej"),
        ("where", "91,18", "Ange koordinater", "Angiv koordinater"),
        ("where", "59.3,181", "Ange koordinater", "Angiv koordinater"),
        ("where", "59,3293,18,0686", "Ange koordinater", "Angiv koordinater"),
        ("where", "12", "Ange en adress", "Angiv en adresse"),
    ],
)
def test_it_explains_invalid_values_in_swedish_and_danish(
    category: Category, code, raw, sv, da
) -> None:  # type: ignore[no-untyped-def]
    for lang, expected in (("sv", sv), ("da", da)):
        cleaned, errors = validate(category, lang, **{code: raw})
        assert code not in cleaned
        assert expected in " ".join(errors[code]), (lang, errors)


@pytest.mark.parametrize(
    ("kind", "choices", "sv", "da"),
    [
        ("text", [], "Detta fält måste fyllas i.", "Dette felt er påkrævet."),
        ("choice", [{"key": "a", "name_en": "A"}], "Välj ett svar.", "Vælg et svar."),
        (
            "multichoice",
            [{"key": "a", "name_en": "A"}],
            "Välj minst ett svar.",
            "Vælg mindst ét svar.",
        ),
        ("yesno", [], "Välj ett svar.", "Vælg et svar."),
        ("attachment", [], "Bifoga minst en fil.", "Vedhæft mindst én fil."),
    ],
)
def test_required_fields_must_be_answered(category: Category, kind, choices, sv, da) -> None:  # type: ignore[no-untyped-def]
    add_field(category, "must", kind, required=True, choices=choices)
    assert validate(category, "sv")[1]["must"] == [sv]
    assert validate(category, "da")[1]["must"] == [da]


def test_a_no_answers_a_required_yes_no_question(category: Category) -> None:
    add_field(category, "must", "yesno", required=True)
    cleaned, errors = validate(category, must="no")
    assert errors == {} and cleaned["must"] is False


# --- attachments: by content, not by name ------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("rapport.pdf", PDF_BYTES, "application/pdf"),
        ("bild.png", PNG_BYTES, "image/png"),
        ("IMG_0001", JPEG_BYTES, "image/jpeg"),  # a photo without an extension
        ("foto.gif", GIF_BYTES, "image/gif"),
        ("IMG_0002.HEIC", HEIC_BYTES, "image/heic"),
        ("bild.webp", WEBP_BYTES, "image/webp"),
        (
            "brev.docx",
            DOCX_BYTES,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            "lista.xlsx",
            XLSX_BYTES,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        ("brev.odt", ODT_BYTES, "application/vnd.oasis.opendocument.text"),
        ("anteckning.txt", "Hej! Åäö".encode(), "text/plain"),
        ("bild.pdf", PNG_BYTES, "image/png"),  # a wrong extension does not matter either
        # text that begins like a format the shared sniffer knows is still plain text
        ("kontakt.txt", b"BEGIN:VCARD\r\nFN:Anna\r\nEND:VCARD\r\n", "text/plain"),
        ("BMW.txt", "BMW med reg.nr ABC123 står på min plats.".encode(), "text/plain"),
    ],
)
def test_it_accepts_files_by_content(name: str, data: bytes, content_type: str) -> None:
    checked = check_upload(upload(name, data, "application/octet-stream"))
    assert not isinstance(checked, str), checked
    assert checked.content_type == content_type
    assert checked.size == len(data)
    assert len(checked.sha256) == 64


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("faktura.pdf", EXE_BYTES, "“faktura.pdf” is a program"),
        ("run.sh", b"#!/bin/sh\nrm -rf /\n", "“run.sh” is a program"),
        ("linux.jpg", b"\x7fELF\x02\x01\x01" + b"\x00" * 30, "“linux.jpg” is a program"),
        ("sida.txt", HTML_BYTES, "“sida.txt” is a web page or SVG image"),
        ("logo.png", SVG_BYTES, "“logo.png” is a web page or SVG image"),
        ("film.heic", MP4_BYTES, "“film.heic” is not a file type we accept"),
        ("makro.docx", DOCM_BYTES, "“makro.docx” is not a file type we accept"),
        ("arkiv.zip", PLAIN_ZIP_BYTES, "“arkiv.zip” is not a file type we accept"),
        ("data.bin", b"\x00\x01\x02\x03binary", "“data.bin” is not a file type we accept"),
        ("latin1.txt", "Hej åäö".encode("latin-1"), "“latin1.txt” is not a file type we accept"),
        ("tom.pdf", b"", "“tom.pdf” is empty"),
        # programs the shared sniffer knows: Mach-O, Java class
        ("app.pdf", b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + b"\x00" * 8, "“app.pdf” is a program"),
        # types the e-mail channel labels but a form does not take
        ("skanning.tif", b"II*\x00\x08\x00\x00\x00" + b"\x00" * 8, "not a file type we accept"),
        ("arkiv.gz", b"\x1f\x8b\x08\x00" + b"\x00" * 8, "not a file type we accept"),
    ],
)
def test_it_refuses_files_by_content_naming_the_file(name: str, data: bytes, message: str) -> None:
    checked = check_upload(upload(name, data, "application/pdf"))
    assert isinstance(checked, str)
    assert message in checked


def test_a_refused_file_is_named_in_swedish(category: Category) -> None:
    cleaned, errors = validate(category, "sv", files={"photos": [upload("faktura.pdf", EXE_BYTES)]})
    assert "photos" not in cleaned
    assert errors["photos"] == ["”faktura.pdf” är ett program; program kan inte skickas."]


def test_it_refuses_a_file_over_the_size_limit(category: Category, settings) -> None:  # type: ignore[no-untyped-def]
    settings.INBOUND_ATTACHMENT_MAX_BYTES = 1024
    big = upload("stor.jpg", JPEG_BYTES + b"\x00" * 2000)
    _, errors = validate(category, files={"photos": [big]})
    assert errors["photos"] == ["“stor.jpg” is 2.0\xa0KB; a file may be at most 1.0\xa0KB."]
    _, errors = validate(category, "da", files={"photos": [big]})
    assert errors["photos"] == ["»stor.jpg« er 2,0\xa0KB; en fil må højst være 1,0\xa0KB."]


def test_it_refuses_too_many_files(category: Category, settings) -> None:  # type: ignore[no-untyped-def]
    settings.INBOUND_MAX_ATTACHMENTS = 2
    files = {"photos": [upload(f"{i}.jpg", JPEG_BYTES) for i in range(3)]}
    cleaned, errors = validate(category, files=files)
    assert "photos" not in cleaned
    assert errors["photos"] == ["You can send at most 2 files; you chose 3."]


def test_the_count_limit_spans_every_attachment_field(category: Category, settings) -> None:  # type: ignore[no-untyped-def]
    settings.INBOUND_MAX_ATTACHMENTS = 2
    add_field(category, "documents", "attachment")
    files = {
        "photos": [upload("1.jpg", JPEG_BYTES), upload("2.jpg", JPEG_BYTES)],
        "documents": [upload("3.pdf", PDF_BYTES)],
    }
    cleaned, errors = validate(category, files=files)
    assert set(errors) == {"photos", "documents"}
    assert "photos" not in cleaned and "documents" not in cleaned


def test_accepted_attachments_are_described_in_the_cleaned_values(category: Category) -> None:
    cleaned, errors = validate(
        category, files={"photos": [upload("C:\\Bilder\\IMG_1", JPEG_BYTES)]}
    )
    assert errors == {}
    (photo,) = cleaned["photos"]
    assert photo["filename"] == "IMG_1"
    assert photo["content_type"] == "image/jpeg"
    assert photo["size"] == len(JPEG_BYTES)
