"""The common part of every e-service form: the resident's own words and how to reach them.

The category's extra fields are validated by ``fields.validate_field_values`` (shared with
Open311); this form only knows the fields every category has.
"""

from __future__ import annotations

import re
import secrets

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases import identity

DESCRIPTION_MAX_CHARS = 10_000
# What a submission token may look like: ours are ``secrets.token_urlsafe(24)`` (32 characters).
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
EXTRA_PREFIX = "f-"  # extra fields are posted as f-<code>, so a code never clashes with ours
HONEYPOT = "website"


def new_token() -> str:
    return secrets.token_urlsafe(24)


class ContactWay:
    EMAIL = "email"
    SMS = "sms"
    PHONE = "phone"
    LETTER = "letter"

    @staticmethod
    def choices() -> list[tuple[str, str]]:
        return [
            (ContactWay.EMAIL, _("By e-mail")),
            (ContactWay.SMS, _("By SMS")),
            (ContactWay.PHONE, _("By phone")),
            (ContactWay.LETTER, _("By letter")),
        ]


class CommonForm(forms.Form):
    """Description, name, e-mail, phone, postal address and the preferred way to be reached."""

    description = forms.CharField(
        label=gettext_lazy("Describe your errand"),
        max_length=DESCRIPTION_MAX_CHARS,
        error_messages={"required": gettext_lazy("Describe your errand.")},
    )
    name = forms.CharField(label=gettext_lazy("Your name"), max_length=200, required=False)
    email = forms.CharField(label=gettext_lazy("E-mail"), max_length=254, required=False)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=40, required=False)
    address = forms.CharField(label=gettext_lazy("Postal address"), max_length=300, required=False)
    contact_preference = forms.CharField(required=False)

    def clean_email(self) -> str:
        value = self.cleaned_data["email"].strip()
        if not value:
            return ""
        try:
            return identity.normalize_email(value)
        except ValidationError:
            raise ValidationError(_("Enter an e-mail address like name@example.com.")) from None

    def clean_phone(self) -> str:
        value = self.cleaned_data["phone"].strip()
        if not value:
            return ""
        try:
            return identity.normalize_phone(value)
        except ValidationError:
            raise ValidationError(
                _("Enter a phone number like 070-123 45 67 or +45 32 12 34 56.")
            ) from None

    def clean_contact_preference(self) -> str:
        value = self.cleaned_data["contact_preference"].strip()
        if value and value not in dict(ContactWay.choices()):
            raise ValidationError(_("Choose one of the ways to reach you."))
        return value

    def clean(self) -> dict:
        data = super().clean() or {}
        way = data.get("contact_preference", "")
        needs = {
            ContactWay.EMAIL: ("email", _("Give your e-mail address, or choose another way.")),
            ContactWay.SMS: ("phone", _("Give your mobile number, or choose another way.")),
            ContactWay.PHONE: ("phone", _("Give your phone number, or choose another way.")),
            ContactWay.LETTER: ("address", _("Give your postal address, or choose another way.")),
        }
        if way in needs:
            field, message = needs[way]
            if not data.get(field) and field not in self.errors:
                self.add_error(field, message)
        if way == ContactWay.LETTER and not data.get("name") and "name" not in self.errors:
            self.add_error("name", _("Give your name, so that a letter reaches you."))
        return data
