"""Authentication-Results (RFC 8601) of our own receiving server: when is the From forged?
No database; the processor's use of it is tested in test_processor.py and the corpus."""

from __future__ import annotations

import pytest

from channels_app.email import authresults, loops
from channels_app.email.parse import parse_mail

OURS = "mx.kommun.example"


@pytest.fixture(autouse=True)
def _trusted(settings) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_TRUSTED_AUTHSERV_IDS = [OURS]


def _mail(*results: str, sender: str = "anna@example.se") -> bytes:
    headers = [f"Authentication-Results: {value}" for value in results]
    lines = [*headers, f"From: Anna <{sender}>", "Subject: KC-2019-000042", "Message-ID: <a@b>"]
    return ("\n".join(lines) + "\n\nHej\n").encode()


def _verdict(*results: str, sender: str = "anna@example.se") -> str:
    return authresults.sender_verification_failure(parse_mail(_mail(*results, sender=sender)))


def test_it_reads_the_id_results_and_properties_around_comments_and_quotes() -> None:
    authserv_id, results = authresults.parse_authentication_results(
        "MX.Kommun.Example 1; dkim=pass (2048-bit key; unprotected) header.d=Example.se "
        'header.s=s1; spf=fail reason="not allowed; really" smtp.mailfrom=x@example.se; '
        "dmarc/1=fail (p=reject) header.from=example.se"
    )
    assert authserv_id == OURS
    assert [(r.method, r.result) for r in results] == [
        ("dkim", "pass"),
        ("spf", "fail"),
        ("dmarc", "fail"),
    ]
    assert results[0].properties == {"header.d": "example.se", "header.s": "s1"}
    assert authresults.parse_authentication_results(f"{OURS}; none") == (OURS, [])


@pytest.mark.parametrize(
    ("results", "verdict"),
    [
        ([f"{OURS}; spf=pass; dkim=pass header.d=example.se; dmarc=pass"], ""),
        ([f"{OURS}; dmarc=fail (p=reject) header.from=example.se"], "dmarc=fail"),
        ([f"{OURS}; spf=pass smtp.mailfrom=bulk.example; dmarc=fail"], "dmarc=fail"),
        (
            [f"{OURS}; spf=fail smtp.mailfrom=example.se; dkim=none"],
            "spf=fail and no DKIM signature of example.se passed",
        ),
        # a passing signature of the From domain (or a subdomain) vouches for the mail
        ([f"{OURS}; spf=fail; dkim=pass header.d=example.se"], ""),
        ([f"{OURS}; spf=fail; dkim=pass header.d=mail.example.se"], ""),
        ([f"{OURS}; spf=fail; dkim=pass header.i=@example.se"], ""),
        # anyone can sign their own mail: another domain's signature does not
        (
            [f"{OURS}; spf=fail; dkim=pass header.d=attacker.example"],
            "spf=fail and no DKIM signature of example.se passed",
        ),
        # softfail, none and errors are common in genuine mail: not a failure
        ([f"{OURS}; spf=softfail; dkim=none; dmarc=none"], ""),
        ([f"{OURS}; spf=temperror; dmarc=temperror"], ""),
        ([f"{OURS}; none"], ""),
        # only our own server's results count
        (["mx.google.com; dmarc=fail header.from=example.se"], ""),
        ([f"{OURS}; dmarc=pass", "mx.google.com; dmarc=fail"], ""),
        # the topmost header of our id is ours; one below it was written by the sender
        ([f"{OURS}; spf=fail; dkim=none", f"{OURS}; dkim=pass header.d=example.se"], "spf=fail"),
    ],
)
def test_the_verdict_of_our_server(results: list[str], verdict: str) -> None:
    found = _verdict(*results)
    assert found.startswith(verdict)
    assert bool(found) is bool(verdict)


def test_without_trusted_ids_nothing_is_judged(settings) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_TRUSTED_AUTHSERV_IDS = []
    assert _verdict(f"{OURS}; dmarc=fail") == ""


def test_the_setting_may_be_one_string_of_ids(settings) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_TRUSTED_AUTHSERV_IDS = f"mx1.kommun.example, {OURS}"
    assert _verdict(f"{OURS}; dmarc=fail") == "dmarc=fail"


def test_a_forged_sender_is_never_acknowledged() -> None:
    mail = parse_mail(_mail(f"{OURS}; dmarc=fail header.from=example.se"))
    assert loops.receipt_block_reason(mail) == "sender not verified (dmarc=fail)"
