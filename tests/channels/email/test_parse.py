"""Parsing real-world mail: charsets, encoded names, HTML, broken MIME. No database."""

from __future__ import annotations

import email.policy

import pytest

from channels_app.email import parse
from channels_app.email.parse import MailParseError, decode_bytes, external_id_for, parse_mail
from tests.channels.email.conftest import CORPUS


def test_it_reads_windows1252_labelled_as_latin1_and_undeclared_8bit() -> None:
    assert decode_bytes("“50 €”".encode("windows-1252"), "iso-8859-1") == "“50 €”"
    assert decode_bytes("Åsa".encode()) == "Åsa"
    assert decode_bytes("Åsa".encode("windows-1252")) == "Åsa"
    assert decode_bytes("Åsa".encode(), "x-no-such-charset") == "Åsa"


def test_it_decodes_rfc2047_names_and_subjects() -> None:
    mail = parse_mail((CORPUS / "12-outlook-danish-rfc2047.eml").read_bytes())
    assert (mail.from_name, mail.from_address) == ("Søren Jørgensen", "soren.jorgensen@mail.dk")
    assert mail.subject == "Grønt affald ikke tømt"


@pytest.mark.parametrize(
    ("name", "filename"),
    [
        ("08-thunderbird-rfc2231-filename.eml", "Räkning år 2026.pdf"),
        ("40-danish-rfc2231-latin1-filename.eml", "Bilag æøå.pdf"),
        ("39-outlook-encoded-word-filename.eml", "Ansökan öppen förskola.pdf"),
    ],
)
def test_it_decodes_rfc2231_and_encoded_word_filenames(name: str, filename: str) -> None:
    mail = parse_mail((CORPUS / name).read_bytes())
    assert [p.filename for p in mail.parts] == [filename]


def test_html_is_sanitised_and_text_derived_when_there_is_no_text_part() -> None:
    mail = parse_mail((CORPUS / "18-html-only-with-script.eml").read_bytes())
    for bad in ("<script", "onerror", "javascript:", "alert", "color:red"):
        assert bad not in mail.html
        assert bad not in mail.text
    assert mail.text.startswith("Gatlampan på Parkvägen lyser inte.")


def test_inline_images_and_forwarded_mail_are_parts() -> None:
    nested = parse_mail((CORPUS / "20-nested-mixed-alternative-related.eml").read_bytes())
    assert [(p.filename, p.inline) for p in nested.parts] == [
        ("img1.png", True),
        ("bank2.jpg", True),
        ("Anmälan.docx", False),
    ]
    forwarded = parse_mail((CORPUS / "21-forwarded-rfc822.eml").read_bytes())
    (part,) = forwarded.parts
    assert part.filename == "Svar om skolskjuts.eml"
    assert b"Skolskjuts beviljas inte" in part.content
    assert "Skolskjuts beviljas" not in forwarded.text  # the forwarded body stays in the file


def test_missing_message_id_gives_a_hash_key_and_a_present_one_its_id() -> None:
    raw = (CORPUS / "23-missing-message-id.eml").read_bytes()
    assert external_id_for(raw).startswith("sha256:") and len(external_id_for(raw)) == 71
    assert (
        external_id_for((CORPUS / "02-outlook-mixed-pdf.eml").read_bytes())
        == "001a01db3e2f$0c1d2e30$24378b90$@foretag.example"
    )


def test_it_parses_again_with_the_other_policy_when_the_first_crashes(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    real = parse._parse_with

    def crash_on_primary(raw: bytes, policy: email.policy.Policy) -> parse.ParsedMail:
        if policy is parse.PRIMARY_POLICY:
            raise ValueError("header parser bug")
        return real(raw, policy)

    monkeypatch.setattr(parse, "_parse_with", crash_on_primary)
    mail = parse_mail((CORPUS / "03-gmail-alternative-utf8.eml").read_bytes())
    assert mail.subject == "Fråga om förskoleplats"
    assert any(d.startswith("parsed with") and d.endswith("after ValueError") for d in mail.defects)


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("*.eml")))
def test_both_policies_read_the_corpus_alike(name: str) -> None:
    """compat32 parses first for speed (ADR 0014); policy.default must give the same result."""
    raw = (CORPUS / name).read_bytes()
    results = []
    for policy in (email.policy.compat32, email.policy.default):
        try:
            mail = parse._parse_with(raw, policy)
        except MailParseError as exc:
            results.append(("error", str(exc)))
            continue
        results.append(
            (
                mail.message_id,
                mail.from_address,
                mail.from_name,
                mail.subject,
                mail.text,
                mail.html,
                [(p.filename, p.inline, len(p.content)) for p in mail.parts],
                mail.thread_ids,
            )
        )
    assert results[0] == results[1]


def test_garbage_and_empty_input_are_parse_errors() -> None:
    with pytest.raises(MailParseError):
        parse_mail(b"")
    with pytest.raises(MailParseError):
        parse_mail(b"\x00\x01 not mail")


def test_thread_ids_list_in_reply_to_first_then_references_newest_first() -> None:
    mail = parse_mail(
        b"From: a@b.se\nIn-Reply-To: <c@x>\nReferences: <a@x> <b@x>\n <c@x>\nSubject: s\n\nhi\n"
    )
    assert mail.thread_ids == ["c@x", "b@x", "a@x"]
