from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.models import Department


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
