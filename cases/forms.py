from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.choices import Nature
from cases.models import Category, Department


class TransitionForm(forms.Form):
    """The fields a transition button may send. Which ones matter depends on the transition."""

    reason = forms.CharField(
        label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=4000
    )
    expected_state = forms.CharField(required=False, widget=forms.HiddenInput)
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.filter(active=True, is_contact_center=False),
        required=False,
        empty_label=_("The category's department"),
        to_field_name="code",
    )
    into = forms.CharField(label=_("Merge into case (reference)"), required=False, max_length=24)


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), max_length=10000
    )
    public = forms.BooleanField(
        label=_("Public: the resident may read it"),
        required=False,
        help_text=_("Leave unticked for an internal note, which the resident never sees."),
    )


class ContactLogForm(forms.Form):
    """Log a phone call, a visit or a letter in one go (cases.services.contact_log)."""

    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=[("phone", _("Phone")), ("visit", _("Visit")), ("letter", _("Letter"))],
        widget=forms.RadioSelect,
        initial="phone",
    )
    phone = forms.CharField(label=_("Phone number"), required=False, max_length=40)
    email = forms.CharField(label=_("E-mail"), required=False, max_length=254)
    personal_id = forms.CharField(
        label=_("Identity number"),
        required=False,
        max_length=20,
        help_text=_(
            "Personnummer, samordningsnummer or CPR: finds the resident, or registers them."
        ),
    )
    name = forms.CharField(label=_("Name"), required=False, max_length=200)
    case_reference = forms.CharField(
        label=_("Add to existing case (reference)"),
        required=False,
        max_length=24,
        help_text=_("Leave empty to open a new case."),
    )
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    description = forms.CharField(
        label=_("What the resident asked"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.none(),
        required=False,
        to_field_name="code",
        empty_label=_("Not classified (triage)"),
    )
    nature = forms.ChoiceField(
        label=_("Kind of contact"),
        choices=Nature.choices,
        widget=forms.RadioSelect,
        initial=Nature.INFORMATION,
    )
    failure_demand = forms.BooleanField(
        label=_("Failure demand"),
        required=False,
        help_text=_("An avoidable contact, e.g. chasing a case or correcting our mistake."),
    )
    resolved_at_first_contact = forms.BooleanField(
        label=_("Resolved in this contact"), required=False
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), required=False, min_value=0, max_value=600
    )
    summary = forms.CharField(
        label=_("Summary of the contact"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    scan = forms.FileField(
        label=_("Scanned letter"), required=False, help_text=_("PDF, JPEG, PNG or TIFF.")
    )

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        from django.utils import timezone

        self.fields["category"].queryset = Category.objects.valid_on(  # type: ignore[attr-defined]
            timezone.localdate()
        ).order_by("code")

    def describe_errors(self) -> None:
        """Point each field in error at its message (and its help): screen readers read both."""
        for name in self.errors:
            if name not in self.fields:
                continue
            bound = self[name]
            ids = [f"{bound.auto_id}-error"]
            if self.fields[name].help_text:
                ids.append(f"{bound.auto_id}_helptext")
            self.fields[name].widget.attrs["aria-describedby"] = " ".join(ids)

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean()
        if not data.get("case_reference") and not (data.get("subject") or "").strip():
            self.add_error("subject", _("Give a subject, or the reference of an existing case."))
        return data
