"""Enumerations of the case domain. Stored values are stable English codes; labels translate."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    CHAT = "chat", _("Chat")
    VISIT = "visit", _("Visit")
    ESERVICE = "eservice", _("E-service")
    LETTER = "letter", _("Letter")
    SMS = "sms", _("SMS")
    SOCIAL = "social", _("Social media")
    VIDEO = "video", _("Video meeting")


DIGITAL_CHANNELS = frozenset(
    {Channel.EMAIL, Channel.CHAT, Channel.ESERVICE, Channel.SMS, Channel.SOCIAL, Channel.VIDEO}
)


class CaseType(models.TextChoices):
    RECURRING = "recurring", _("Recurring")
    LIFE_EVENT = "life_event", _("Life event")
    ONGOING = "ongoing", _("Ongoing")
    OTHER = "other", _("Other")


class Level(models.IntegerChoices):
    """Complexity levels of the ROSA method."""

    INFORMATION = 1, _("1 – Information")
    GUIDANCE = 2, _("2 – Guidance")
    ADMINISTRATION = 3, _("3 – Administrative handling")
    SPECIALIST = 4, _("4 – Specialist handling")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Direction(models.TextChoices):
    INBOUND = "in", _("Inbound")
    OUTBOUND = "out", _("Outbound")


class Nature(models.TextChoices):
    """KOMHEN's split of contacts: asking for information, or getting something done."""

    INFORMATION = "information", _("Information")
    TRANSACTION = "transaction", _("Transaction")


class Language(models.TextChoices):
    SWEDISH = "sv", _("Swedish")
    DANISH = "da", _("Danish")
    ENGLISH = "en", _("English")
    ARABIC = "ar", _("Arabic")
    FINNISH = "fi", _("Finnish")
    SOMALI = "so", _("Somali")
    PERSIAN = "fa", _("Persian")
    UKRAINIAN = "uk", _("Ukrainian")


class ContactPreference(models.TextChoices):
    """How a resident wants to be reached by us."""

    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    PHONE = "phone", _("Phone")
    LETTER = "letter", _("Letter")


class Country(models.TextChoices):
    SWEDEN = "SE", _("Sweden")
    DENMARK = "DK", _("Denmark")
