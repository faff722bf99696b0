from __future__ import annotations

import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.choices import ContactPreference, Country, Language


class Resident(models.Model):
    """A person, business or association that contacts the municipality.

    Identity numbers are stored normalised by ``cases.identity`` (Swedish personnummer and
    samordningsnummer as 12 digits, Danish CPR as 10 digits, organisation numbers as digits);
    never write these columns except through the resident services.
    """

    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        BUSINESS = "business", _("Business")
        ASSOCIATION = "association", _("Association")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.PERSON)
    name = models.CharField(_("name"), max_length=200, blank=True)
    personal_id = models.CharField(
        _("personal identity number"), max_length=12, null=True, blank=True
    )
    personal_id_country = models.CharField(
        _("country of identity number"), max_length=2, choices=Country.choices, blank=True
    )
    org_number = models.CharField(_("organisation number"), max_length=12, null=True, blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=Language.choices, default=Language.SWEDISH
    )
    preferred_channel = models.CharField(
        _("preferred contact channel"), max_length=10, choices=ContactPreference.choices, blank=True
    )
    postal_address = models.TextField(
        _("postal address"),
        blank=True,
        help_text=_("Street, postcode and town on separate lines, as on an envelope."),
    )
    digital_exemption_reason = models.CharField(
        _("reason for exemption from digital channels"), max_length=300, blank=True
    )
    digital_exemption_until = models.DateField(
        _("exempt from digital channels until"), null=True, blank=True
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["personal_id_country", "personal_id"],
                condition=Q(personal_id__isnull=False),
                name="resident_personal_id_unique",
            ),
            models.UniqueConstraint(
                fields=["org_number"],
                condition=Q(org_number__isnull=False),
                name="resident_org_number_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"#{self.pk}"

    def is_digitally_exempt(self, on: datetime.date | None = None) -> bool:
        """Exempt residents get every outbound message by letter or phone instead."""
        if not self.digital_exemption_reason:
            return False
        day = on or timezone.localdate()
        return self.digital_exemption_until is None or self.digital_exemption_until >= day

    @property
    def personal_id_masked(self) -> str:
        """Birth date part only, for lists and logs: 19811218-XXXX / 181281-XXXX."""
        if not self.personal_id:
            return ""
        if len(self.personal_id) == 12:
            return f"{self.personal_id[:8]}-XXXX"
        return f"{self.personal_id[:6]}-XXXX"

    @property
    def personal_id_display(self) -> str:
        if not self.personal_id:
            return ""
        if len(self.personal_id) == 12:
            return f"{self.personal_id[:8]}-{self.personal_id[8:]}"
        return f"{self.personal_id[:6]}-{self.personal_id[6:]}"


class ResidentEmail(models.Model):
    """An e-mail address of a resident, stored lower-cased for lookup."""

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="emails")
    address = models.EmailField(_("e-mail address"), db_index=True)

    class Meta:
        verbose_name = _("e-mail address")
        verbose_name_plural = _("e-mail addresses")
        constraints = [
            models.UniqueConstraint(fields=["resident", "address"], name="resident_email_unique"),
        ]

    def __str__(self) -> str:
        return self.address


class ResidentPhone(models.Model):
    """A phone number of a resident in E.164 form (+46701234567)."""

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(_("phone number"), max_length=20, db_index=True)

    class Meta:
        verbose_name = _("phone number")
        verbose_name_plural = _("phone numbers")
        constraints = [
            models.UniqueConstraint(fields=["resident", "number"], name="resident_phone_unique"),
        ]

    def __str__(self) -> str:
        return self.number


class PowerOfAttorney(models.Model):
    """A representative acting for a resident. The representative never uses the resident's login."""

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="representatives")
    representative = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="represents"
    )
    scope = models.CharField(_("scope"), max_length=300, blank=True)
    valid_from = models.DateField(_("valid from"), default=timezone.localdate)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    receives_copies = models.BooleanField(_("receives copies of notices"), default=True)

    class Meta:
        verbose_name = _("power of attorney")
        verbose_name_plural = _("powers of attorney")
        constraints = [
            models.CheckConstraint(
                condition=~Q(resident=models.F("representative")), name="poa_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.representative} → {self.resident}"
