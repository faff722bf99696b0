"""Texts we send residents by e-mail, in their language (sv, da, en; others get the default)."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string

MAIL_LANGUAGES = ("sv", "da", "en")

RECEIPT_SUBJECTS = {
    "sv": "Vi har tagit emot ditt ärende {reference}",
    "da": "Vi har modtaget din henvendelse {reference}",
    "en": "We have received your case {reference}",
}
SENSITIVE_SUBJECTS = {
    "sv": "Nytt meddelande i ärende {reference}",
    "da": "Ny besked i sag {reference}",
    "en": "New message in case {reference}",
}


def mail_language(language: str) -> str:
    """A language we have texts in: the requested one, else the site default, else Swedish."""
    lang = (language or "")[:2].lower()
    if lang in MAIL_LANGUAGES:
        return lang
    default = settings.LANGUAGE_CODE[:2]
    return default if default in MAIL_LANGUAGES else "sv"


def receipt_text(*, language: str, reference: str, subject: str, name: str) -> tuple[str, str]:
    """(subject, body) of the acknowledgement of a new case; an empty ``subject`` (a sensitive
    category) leaves the subject line out."""
    lang = mail_language(language)
    body = render_to_string(
        f"email/receipt_{lang}.txt", {"reference": reference, "subject": subject, "name": name}
    )
    return RECEIPT_SUBJECTS[lang].format(reference=reference), body


def sensitive_reply_text(*, language: str, reference: str) -> tuple[str, str]:
    """(subject, body) of a reply on a sensitive case: a notice and a link, never the content.

    The link points at the resident's case page, which a later issue builds
    (status tracking without an account); until then it is where that page will be.
    """
    lang = mail_language(language)
    link = f"{settings.PUBLIC_BASE_URL}/cases/{reference}/"
    body = render_to_string(
        f"email/reply_sensitive_{lang}.txt", {"reference": reference, "link": link}
    )
    return SENSITIVE_SUBJECTS[lang].format(reference=reference), body
