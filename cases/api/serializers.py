"""Input serializers validate shapes; output serializers render. Neither writes: services do.

``state`` is never an input anywhere: it changes only through the transition endpoints.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.choices import (
    CaseType,
    Channel,
    ContactPreference,
    Country,
    Direction,
    Language,
    Level,
    Nature,
    Priority,
)
from cases.models import CaseState, Category, Department, Resident


@extend_schema_field(OpenApiTypes.STR)
class CategoryCodeField(serializers.SlugRelatedField):
    """A category code, resolved to the version valid today."""

    default_error_messages = {
        "does_not_exist": _("Unknown category code “{value}”."),
        "invalid": _("Give a category code."),
    }

    def __init__(self, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(slug_field="code", **kwargs)

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return Category.objects.valid_on(timezone.localdate()).select_related("department")

    def to_internal_value(self, data):  # type: ignore[no-untyped-def]
        # The newest version wins should an administrator have let two versions overlap.
        if not isinstance(data, str) or not data:
            self.fail("invalid")
        category = self.get_queryset().filter(code=data).order_by("-valid_from").first()
        if category is None:
            self.fail("does_not_exist", slug_name="code", value=data)
        return category


@extend_schema_field(OpenApiTypes.STR)
class DepartmentCodeField(serializers.SlugRelatedField):
    default_error_messages = {"does_not_exist": _("Unknown department code “{value}”.")}

    def __init__(self, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(slug_field="code", queryset=Department.objects.all(), **kwargs)


class ContactInput(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    direction = serializers.ChoiceField(choices=Direction.choices, default=Direction.INBOUND)
    occurred_at = serializers.DateTimeField(required=False)
    duration_seconds = serializers.IntegerField(required=False, min_value=0, allow_null=True)
    nature = serializers.ChoiceField(choices=Nature.choices, default=Nature.INFORMATION)
    failure_demand = serializers.BooleanField(default=False)
    summary = serializers.CharField(required=False, allow_blank=True, default="")


class CaseCreateInput(serializers.Serializer):
    subject = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    category = CategoryCodeField(required=False, allow_null=True)
    complexity_level = serializers.ChoiceField(
        choices=Level.choices, required=False, allow_null=True
    )
    case_type = serializers.ChoiceField(
        choices=CaseType.choices, required=False, allow_blank=True, default=""
    )
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    language = serializers.ChoiceField(
        choices=Language.choices, required=False, allow_blank=True, default=""
    )
    resident = serializers.PrimaryKeyRelatedField(
        queryset=Resident.objects.all(), required=False, allow_null=True
    )
    contact = ContactInput()

    def __init__(self, *args, resident_queryset=None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if resident_queryset is not None:
            self.fields["resident"].queryset = resident_queryset


class CaseListFilterInput(serializers.Serializer):
    state = serializers.ListField(
        child=serializers.ChoiceField(choices=CaseState.choices), required=False
    )
    department = serializers.CharField(required=False, allow_blank=True)
    category = serializers.CharField(required=False, allow_blank=True)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False, allow_blank=True)
    assignee = serializers.CharField(required=False, allow_blank=True)
    resident = serializers.IntegerField(required=False, min_value=1)
    created_from = serializers.DateTimeField(required=False)
    created_to = serializers.DateTimeField(required=False)
    q = serializers.CharField(required=False, allow_blank=True, max_length=200)


class TransitionInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
    expected_state = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text=_(
            "The state the client last saw; if the case has moved on since, the answer is 409."
        ),
    )


class ForwardInput(TransitionInput):
    department = DepartmentCodeField(required=False, allow_null=True)


class MergeInput(TransitionInput):
    into = serializers.CharField(help_text=_("Reference of the case to merge into."))


class NoteInput(serializers.Serializer):
    text = serializers.CharField(max_length=10000)
    public = serializers.BooleanField(
        default=False,
        help_text=_("A public note may be read by the resident (e.g. Open311 status_notes)."),
    )


class AssignInput(serializers.Serializer):
    assignee = serializers.CharField(
        allow_null=True, help_text=_("Username, or null for the unit's queue.")
    )


class ClassifyInput(serializers.Serializer):
    category = CategoryCodeField(required=False, allow_null=True)
    complexity_level = serializers.ChoiceField(
        choices=Level.choices, required=False, allow_null=True
    )
    case_type = serializers.ChoiceField(choices=CaseType.choices, required=False, allow_blank=True)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)


class ResidentCreateInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Resident.Kind.choices, default=Resident.Kind.PERSON)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    personal_id = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    personal_id_country = serializers.ChoiceField(
        choices=Country.choices, required=False, allow_blank=True, default=""
    )
    org_number = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    emails = serializers.ListField(
        child=serializers.CharField(max_length=254), required=False, default=list
    )
    phones = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, default=list
    )
    preferred_language = serializers.ChoiceField(choices=Language.choices, default=Language.SWEDISH)
    preferred_channel = serializers.ChoiceField(
        choices=ContactPreference.choices, required=False, allow_blank=True, default=""
    )
    postal_address = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default=""
    )
    digital_exemption_reason = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )
    digital_exemption_until = serializers.DateField(required=False, allow_null=True, default=None)


class ResidentSearchInput(serializers.Serializer):
    phone = serializers.CharField(required=False, allow_blank=True, default="")
    email = serializers.CharField(required=False, allow_blank=True, default="")
    personal_id = serializers.CharField(required=False, allow_blank=True, default="")
    country = serializers.ChoiceField(
        choices=Country.choices, required=False, allow_blank=True, default=""
    )


# --- Output ---------------------------------------------------------------------------------


class CodeNameOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ResidentOutput(serializers.ModelSerializer):
    personal_id = serializers.CharField(source="personal_id_display")
    emails = serializers.SerializerMethodField()
    phones = serializers.SerializerMethodField()
    digitally_exempt = serializers.SerializerMethodField()

    class Meta:
        model = Resident
        fields = [
            "id",
            "kind",
            "name",
            "personal_id",
            "personal_id_country",
            "org_number",
            "emails",
            "phones",
            "preferred_language",
            "preferred_channel",
            "postal_address",
            "digitally_exempt",
            "digital_exemption_reason",
            "digital_exemption_until",
        ]

    def get_emails(self, obj: Resident) -> list[str]:
        return [e.address for e in obj.emails.all()]

    def get_phones(self, obj: Resident) -> list[str]:
        return [p.number for p in obj.phones.all()]

    def get_digitally_exempt(self, obj: Resident) -> bool:
        return obj.is_digitally_exempt()


class ResidentListOutput(ResidentOutput):
    """Search results: the identity number masked, as in every list."""

    personal_id = serializers.CharField(source="personal_id_masked")


class ResidentBriefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    personal_id = serializers.CharField(source="personal_id_masked")


class ContactOutput(serializers.Serializer):
    id = serializers.IntegerField()
    channel = serializers.CharField()
    direction = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    duration_seconds = serializers.IntegerField(allow_null=True)
    nature = serializers.CharField()
    failure_demand = serializers.BooleanField()
    resolved_at_first_contact = serializers.BooleanField()
    summary = serializers.CharField()
    agent = serializers.CharField(source="agent.username", allow_null=True, default=None)


class CaseListOutput(serializers.Serializer):
    reference = serializers.CharField()
    subject = serializers.CharField()
    state = serializers.CharField()
    state_label = serializers.CharField(source="get_state_display")
    category = CodeNameOutput(allow_null=True)
    department = CodeNameOutput()
    assignee = serializers.CharField(source="assignee.username", allow_null=True, default=None)
    resident = ResidentBriefOutput(allow_null=True)
    origin_channel = serializers.CharField()
    priority = serializers.CharField()
    created_at = serializers.DateTimeField()
    accept_due_at = serializers.DateTimeField(allow_null=True)
    resolve_due_at = serializers.DateTimeField(allow_null=True)


class TimelineEntryOutput(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField(source="event.kind")
    transition = serializers.CharField(source="event.transition")
    from_state = serializers.CharField(source="event.from_state")
    to_state = serializers.CharField(source="event.to_state")
    actor_type = serializers.CharField(source="event.actor_type")
    actor = serializers.CharField(source="event.actor.username", allow_null=True, default=None)
    actor_channel = serializers.CharField(source="event.actor_channel")
    reason = serializers.CharField(source="event.reason")
    data = serializers.JSONField(source="event.data")
    contact = ContactOutput(allow_null=True)


class CaseDetailOutput(CaseListOutput):
    description = serializers.CharField()
    complexity_level = serializers.IntegerField(allow_null=True)
    case_type = serializers.CharField()
    language = serializers.CharField()
    resolved_at_first_contact = serializers.BooleanField()
    merged_into = serializers.CharField(
        source="merged_into.reference", allow_null=True, default=None
    )
    paused_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    allowed_transitions = serializers.ListField(child=serializers.CharField())
    timeline = TimelineEntryOutput(many=True)
