"""What the form template needs to draw one field accessibly: its name, id, label, hint,
value(s), choices and errors, and which ids describe it (hint and error, for aria-describedby).

Built by hand rather than with Django's widgets so that every field kind gets the same markup:
a label (or a fieldset and legend for a group of choices), a hint, an error next to the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from cases.models import Category, CategoryField
from channels_app.eservice.fields import choice_name
from channels_app.eservice.forms import EXTRA_PREFIX, CommonForm, ContactWay

Kind = CategoryField.Kind
GROUPS = frozenset({Kind.CHOICE, Kind.MULTI_CHOICE, Kind.YES_NO, "radios"})


@dataclass
class Option:
    value: str
    label: str
    id: str
    checked: bool


@dataclass
class Widget:
    name: str
    id: str
    kind: str  # a CategoryField kind, or textarea/email/tel/radios for the common fields
    label: str
    hint: str = ""
    required: bool = False
    value: str = ""
    options: list[Option] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    autocomplete: str = ""
    note: str = ""  # shown with the field, not an error (e.g. "choose your files again")
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def is_group(self) -> bool:
        return self.kind in GROUPS

    @property
    def first_id(self) -> str:
        """Where the error summary links to: the field, or the first option of a group."""
        return self.options[0].id if self.is_group and self.options else self.id

    @property
    def hint_id(self) -> str:
        return f"{self.id}-hint"

    @property
    def error_id(self) -> str:
        return f"{self.id}-error"

    @property
    def describedby(self) -> str:
        ids = []
        if self.hint or self.note:
            ids.append(self.hint_id)
        if self.errors:
            ids.append(self.error_id)
        return " ".join(ids)


def _options(widget_id: str, pairs: list[tuple[str, str]], chosen: list[str]) -> list[Option]:
    return [
        Option(value=value, label=label, id=f"{widget_id}-{index}", checked=value in chosen)
        for index, (value, label) in enumerate(pairs)
    ]


def extra_widgets(
    category: Category,
    values: dict[str, list[str]],
    errors: dict[str, list[str]],
    *,
    files_given: bool = False,
) -> list[Widget]:
    """One widget per extra field of the category, in form order."""
    out = []
    for f in category.fields.all():
        name = EXTRA_PREFIX + f.code
        posted = [str(v) for v in values.get(f.code, [])]
        widget = Widget(
            name=name,
            id=f"id_{name}",
            kind=f.kind,
            label=f.label if f.required else _("%(label)s (optional)") % {"label": f.label},
            hint=f.help_text,
            required=f.required,
            value=posted[-1] if posted else "",
            errors=list(errors.get(f.code, [])),
        )
        if f.kind in (Kind.CHOICE, Kind.MULTI_CHOICE):
            keys = [str(c.get("key")) for c in f.choices or [] if isinstance(c, dict)]
            widget.options = _options(widget.id, [(k, choice_name(f, k)) for k in keys], posted)
        elif f.kind == Kind.YES_NO:
            widget.options = _options(
                widget.id, [("yes", _("Yes")), ("no", _("No"))], posted[-1:] if posted else []
            )
        elif f.kind == Kind.LOCATION:
            widget.hint = widget.hint or _(
                "A street address, or coordinates as latitude,longitude (for example "
                "59.3293,18.0686)."
            )
        elif f.kind == Kind.ATTACHMENT:
            widget.hint = " ".join(
                part
                for part in (
                    widget.hint,
                    _(
                        "PDF, images (JPEG, PNG, GIF, HEIC, WebP), Word, Excel, OpenDocument "
                        "or plain text."
                    ),
                )
                if part
            )
            if files_given:
                widget.note = _("For your safety the files were not kept; choose them again.")
        out.append(widget)
    return out


def common_widgets(form: CommonForm, *, show_errors: bool = True) -> list[Widget]:
    """Description, name, e-mail, phone, postal address and how to be reached. A bound form
    shows what was posted, and its errors unless ``show_errors`` is False (a language switch
    on a form nobody has sent yet)."""
    data = form.data if form.is_bound else {}

    def value(name: str) -> str:
        return str(data.get(name, "")) if data else ""

    def errors(name: str) -> list[str]:
        return list(form.errors.get(name, [])) if form.is_bound and show_errors else []

    way = value("contact_preference")
    return [
        Widget(
            name="description",
            id="id_description",
            kind="textarea",
            label=_("Describe your errand"),
            hint=_("What has happened, where and when. Do not write personal identity numbers."),
            required=True,
            value=value("description"),
            errors=errors("description"),
        ),
        Widget(
            name="name",
            id="id_name",
            kind="text",
            label=_("Your name (optional)"),
            value=value("name"),
            errors=errors("name"),
            autocomplete="name",
        ),
        Widget(
            name="email",
            id="id_email",
            kind="email",
            label=_("E-mail (optional)"),
            hint=_("We send a receipt to this address."),
            value=value("email"),
            errors=errors("email"),
            autocomplete="email",
        ),
        Widget(
            name="phone",
            id="id_phone",
            kind="tel",
            label=_("Phone (optional)"),
            value=value("phone"),
            errors=errors("phone"),
            autocomplete="tel",
        ),
        Widget(
            name="address",
            id="id_address",
            kind="text",
            label=_("Postal address (optional)"),
            hint=_("Only needed if you want an answer by letter."),
            value=value("address"),
            errors=errors("address"),
            autocomplete="street-address",
        ),
        Widget(
            name="contact_preference",
            id="id_contact_preference",
            kind="radios",
            label=_("How do you want us to reach you?"),
            value=way,
            options=_options(
                "id_contact_preference",
                [*ContactWay.choices(), ("", _("You do not need to contact me"))],
                [way] if "contact_preference" in data else [],
            ),
            errors=errors("contact_preference"),
        ),
    ]
