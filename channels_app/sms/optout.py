"""SMS opt-out: a number that answered STOP gets no more SMS from us until it answers START.

Twilio itself blocks further messages to a number that sent STOP on some numbers (error 21610,
treated as permanent by ``sms_send``), but not everywhere and not for the Nordic words, so we
keep our own list (``SmsOptOut``) and respect it before Twilio has to.
"""

from __future__ import annotations

import datetime
import re

from django.db.models import Exists, OuterRef, QuerySet

from channels_app.models import SmsOptOut

# Twilio's standard opt-out and opt-in keywords, with the Swedish and Danish words residents
# use. Matched on the whole message (trimmed, case-insensitive, trailing punctuation ignored),
# never inside a sentence: "stoppa inte vattnet" is a question, not an opt-out.
OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "STOPP", "AVSLUTA", "AFMELD"}
)
OPT_IN_WORDS = frozenset({"START", "UNSTOP"})
_TRAILING = re.compile(r"[\s.!]+$")


def keyword_of(body: str) -> str:
    """The message as a keyword candidate: upper case, without surrounding space and ``.!``."""
    return _TRAILING.sub("", body.strip()).upper()


def sms_opt_out(*, number: str, keyword: str, at: datetime.datetime) -> bool:
    """Record that ``number`` opted out; True if it was not already."""
    _row, created = SmsOptOut.objects.get_or_create(
        number=number, defaults={"keyword": keyword[:20], "opted_out_at": at}
    )
    return created


def sms_opt_in(*, number: str) -> bool:
    """``number`` wants SMS again; True if it had opted out."""
    deleted, _ = SmsOptOut.objects.filter(number=number).delete()
    return bool(deleted)


def sms_opted_out(*, number: str) -> bool:
    return SmsOptOut.objects.filter(number=number).exists()


def with_opt_out(phones: QuerySet) -> QuerySet:
    """``ResidentPhone`` rows annotated with ``sms_opted_out`` (one query with the phones)."""
    return phones.annotate(
        sms_opted_out=Exists(SmsOptOut.objects.filter(number=OuterRef("number")))
    )
