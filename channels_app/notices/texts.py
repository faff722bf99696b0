"""What a notice says, per language (sv, da, en; others get the default, as receipts do).

E-mail and letters are rendered from ``templates/notices/``; SMS texts are short and kept here.
A case of a sensitive category never carries its content by e-mail or SMS (subject, department,
what we ask): only that there is news, the reference and a link. Letters and the script of a
phone task may carry it: a sealed letter and a conversation are not plain e-mail.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string

from channels_app.email.receipts import mail_language

NOTICES = ("received", "forwarded", "waiting", "resolved")

SUBJECTS = {
    "sv": {
        "received": "Vi har tagit emot ditt ärende {reference}",
        "forwarded": "Ditt ärende {reference} har skickats vidare",
        "waiting": "Vi behöver mer information i ärende {reference}",
        "resolved": "Ditt ärende {reference} är klart",
        "sensitive": "Det finns nyheter i ditt ärende {reference}",
    },
    "da": {
        "received": "Vi har modtaget din henvendelse {reference}",
        "forwarded": "Din sag {reference} er sendt videre",
        "waiting": "Vi har brug for flere oplysninger i sag {reference}",
        "resolved": "Din sag {reference} er færdigbehandlet",
        "sensitive": "Der er nyt i din sag {reference}",
    },
    "en": {
        "received": "We have received your case {reference}",
        "forwarded": "Your case {reference} has been passed on",
        "waiting": "We need more information in case {reference}",
        "resolved": "Your case {reference} is resolved",
        "sensitive": "There is news in your case {reference}",
    },
}

SMS_TEXTS = {
    "sv": {
        "received": "Vi har tagit emot ditt ärende {reference}.",
        "forwarded": "Ditt ärende {reference} har skickats vidare till {department}, som nu handlägger det.",
        "waiting": "Vi behöver mer information från dig i ärende {reference}.",
        "resolved": "Ditt ärende {reference} är klart.",
        "sensitive": "Det finns nyheter i ditt ärende {reference}.",
        "asked": "Det här behöver vi: {reason}",
        "link": "Läs mer: {link}",
        "copy": "Kopia till dig som ombud för {name}.",
        "signature": "/Kontaktcenter",
    },
    "da": {
        "received": "Vi har modtaget din henvendelse {reference}.",
        "forwarded": "Din sag {reference} er sendt videre til {department}, som nu behandler den.",
        "waiting": "Vi har brug for flere oplysninger fra dig i sag {reference}.",
        "resolved": "Din sag {reference} er færdigbehandlet.",
        "sensitive": "Der er nyt i din sag {reference}.",
        "asked": "Det har vi brug for: {reason}",
        "link": "Læs mere: {link}",
        "copy": "Kopi til dig som fuldmægtig for {name}.",
        "signature": "/Borgerservice",
    },
    "en": {
        "received": "We have received your case {reference}.",
        "forwarded": "Your case {reference} has been passed on to {department}, who are now handling it.",
        "waiting": "We need more information from you in case {reference}.",
        "resolved": "Your case {reference} is resolved.",
        "sensitive": "There is news in your case {reference}.",
        "asked": "This is what we need: {reason}",
        "link": "Read more: {link}",
        "copy": "A copy for you as representative of {name}.",
        "signature": "/Contact center",
    },
}


@dataclass(frozen=True)
class NoticeContext:
    """The facts a notice may mention. ``representative_of`` is set on a representative's copy."""

    notice: str
    language: str
    reference: str
    name: str = ""
    subject: str = ""
    department: str = ""
    reason: str = ""
    sensitive: bool = False
    representative_of: str = ""

    @property
    def lang(self) -> str:
        return mail_language(self.language)

    @property
    def link(self) -> str:
        # The resident's case page (status tracking without an account, a later issue).
        return f"{settings.PUBLIC_BASE_URL}/cases/{self.reference}/"


def notice_subject(ctx: NoticeContext, *, confidential: bool) -> str:
    key = "sensitive" if confidential else ctx.notice
    return SUBJECTS[ctx.lang][key].format(reference=ctx.reference)


def notice_email_text(ctx: NoticeContext) -> tuple[str, str]:
    """(subject, body) of the notice by e-mail."""
    return _rendered(ctx, medium="email", confidential=ctx.sensitive)


def notice_letter_text(ctx: NoticeContext) -> tuple[str, str]:
    """(subject, body) of the notice as a letter; also what the agent says on a phone task."""
    return _rendered(ctx, medium="letter", confidential=False)


def _rendered(ctx: NoticeContext, *, medium: str, confidential: bool) -> tuple[str, str]:
    template = "sensitive" if confidential else "notice"
    body = render_to_string(
        f"notices/{template}_{ctx.lang}.txt",
        {
            "notice": ctx.notice,
            "medium": medium,
            "name": ctx.name,
            "reference": ctx.reference,
            "subject": ctx.subject,
            "department": ctx.department,
            "reason": ctx.reason,
            "link": ctx.link,
            "representative_of": ctx.representative_of,
        },
    )
    return notice_subject(ctx, confidential=confidential), body


def notice_sms_text(ctx: NoticeContext) -> str:
    texts = SMS_TEXTS[ctx.lang]
    parts = []
    if ctx.representative_of:
        parts.append(texts["copy"].format(name=ctx.representative_of))
    if ctx.sensitive:
        parts.append(texts["sensitive"].format(reference=ctx.reference))
    else:
        parts.append(texts[ctx.notice].format(reference=ctx.reference, department=ctx.department))
        if ctx.notice == "waiting" and ctx.reason:
            parts.append(texts["asked"].format(reason=" ".join(ctx.reason.split())))
    parts.append(texts["link"].format(link=ctx.link))
    parts.append(texts["signature"])
    return " ".join(parts)
