"""Mail that is never answered automatically (RFC 3834), and mail that never becomes a case."""

from __future__ import annotations

import pytest

from channels_app.email import loops
from channels_app.email.parse import parse_mail


def _mail(*headers: str, sender: str = "Eva <eva@example.se>", subject: str = "Fråga") -> bytes:
    lines = [f"From: {sender}", f"Subject: {subject}", "Message-ID: <m1@example.se>", *headers]
    return ("\n".join(lines) + "\n\nHej\n").encode()


def test_an_ordinary_mail_may_be_acknowledged() -> None:
    assert loops.receipt_block_reason(parse_mail(_mail())) == ""
    assert loops.receipt_block_reason(parse_mail(_mail("Auto-Submitted: no"))) == ""


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Auto-Submitted: auto-generated", "Auto-Submitted: auto-generated"),
        ("Auto-Submitted: auto-replied", "Auto-Submitted: auto-replied"),
        ("Auto-Submitted: auto-notified; owner-email=x@y", "Auto-Submitted: auto-notified"),
        ("Precedence: bulk", "Precedence: bulk"),
        ("Precedence: junk", "Precedence: junk"),
        ("Precedence: list", "Precedence: list"),
        ("X-Auto-Response-Suppress: OOF", "X-Auto-Response-Suppress"),
        ("X-Loop: kontakt@kommun.example", "X-Loop"),
        ("Return-Path: <>", "empty Return-Path"),
        ("List-Id: <news.example>", "mailing list"),
        ("List-Unsubscribe: <mailto:u@example>", "mailing list"),
    ],
)
def test_each_loop_header_blocks_the_receipt(header: str, reason: str) -> None:
    assert loops.receipt_block_reason(parse_mail(_mail(header))) == reason


@pytest.mark.parametrize(
    "sender",
    [
        "MAILER-DAEMON@mx.example",
        "postmaster@example.se",
        "noreply@example.se",
        "no-reply@example.se",
        "do-not-reply@example.se",
        "donotreply+abc@example.se",
    ],
)
def test_automatic_senders_get_no_receipt(sender: str) -> None:
    assert loops.receipt_block_reason(parse_mail(_mail(sender=sender))).startswith(
        "automatic sender"
    )


def test_our_own_message_id_coming_back_gets_no_receipt(settings) -> None:  # type: ignore[no-untyped-def]
    settings.MESSAGE_ID_DOMAIN = "cc.example"
    raw = b"From: x@y.se\nMessage-ID: <abc@cc.example>\nSubject: s\n\nx\n"
    assert loops.receipt_block_reason(parse_mail(raw)) == "our own message"


@pytest.mark.parametrize(
    ("headers", "subject", "is_auto"),
    [
        (["Auto-Submitted: auto-replied"], "Semester", True),
        (["X-Autoreply: yes"], "Re: Fråga", True),
        (["X-Autorespond: yes"], "Re: Fråga", True),
        (["Precedence: auto_reply"], "Re: Fråga", True),
        (["Auto-Submitted: auto-generated"], "Automatic reply: Fråga", True),
        (["X-Auto-Response-Suppress: All"], "Autosvar: Fråga", True),
        (["X-Auto-Response-Suppress: All"], "Out of Office: Fråga", True),
        # A person asking about the office, or a system notification, is not an auto-reply.
        ([], "Out of office hours: who answers?", False),
        (["Auto-Submitted: auto-generated"], "Larm pumpstation", False),
    ],
)
def test_auto_replies_are_recognised(headers: list[str], subject: str, is_auto: bool) -> None:
    assert bool(loops.auto_reply_reason(parse_mail(_mail(*headers, subject=subject)))) is is_auto


def test_bounces_are_recognised_by_report_type_or_a_daemon_bounce_subject() -> None:
    report = b"From: x@y.se\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: text/plain\n\nfailed\n--b--\n"
    assert loops.is_bounce(parse_mail(report))
    for subject in (
        "failure notice",
        "Undelivered Mail Returned to Sender",
        "Delivery Status Notification (Failure)",
        "Mail delivery failed: returning message to sender",
        "Undeliverable: Fråga",
        "Olevererbart: Fråga",
    ):
        daemon = _mail(sender="MAILER-DAEMON@mx.example", subject=subject)
        assert loops.is_bounce(parse_mail(daemon)), subject
    assert not loops.is_bounce(parse_mail(_mail()))


@pytest.mark.parametrize("sender", ["postmaster@grannby.example", "MAILER-DAEMON@mx.example"])
def test_a_daemon_address_alone_does_not_make_a_bounce(sender: str) -> None:
    # Given a person (or a digest) writing from postmaster@ or mailer-daemon@, without a DSN
    mail = parse_mail(_mail(sender=sender, subject="Er post fastnar i vårt filter"))

    # Then it is no bounce, and still never acknowledged automatically
    assert not loops.is_bounce(mail)
    assert loops.auto_reply_reason(mail) == ""
    assert loops.receipt_block_reason(mail) == f"automatic sender {sender}"
