"""Admin for configuration. Cases are read-only here except through actions that call services."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from cases import identity
from cases.models import (
    BusinessCalendar,
    CalendarException,
    CannedResponse,
    Case,
    CaseEvent,
    Category,
    Contact,
    Department,
    EscalationStep,
    OpeningHours,
    PowerOfAttorney,
    Resident,
    ResidentEmail,
    ResidentPhone,
    RoutingRule,
    ServiceAgreement,
)
from cases.selectors import resident_visible_queryset
from cases.services.actors import Actor
from cases.services.transitions import case_close, case_mark_spam
from common.exceptions import ApplicationError


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


class CalendarExceptionInline(admin.TabularInline):
    model = CalendarException
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "country", "timezone", "eves_closed")
    inlines = [OpeningHoursInline, CalendarExceptionInline]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name_sv", "name_en", "parent", "is_contact_center", "active")
    list_filter = ("is_contact_center", "active")
    search_fields = ("code", "name_sv", "name_da", "name_en")
    list_select_related = ("parent",)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name_sv",
        "name_en",
        "department",
        "case_type",
        "default_level",
        "sensitive",
        "valid_from",
        "valid_to",
    )
    list_filter = ("department", "case_type", "default_level", "sensitive")
    search_fields = ("code", "name_sv", "name_da", "name_en")
    list_select_related = ("department",)
    filter_horizontal = ("successors",)


class EscalationStepInline(admin.TabularInline):
    model = EscalationStep
    extra = 0


@admin.register(ServiceAgreement)
class ServiceAgreementAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "department",
        "valid_from",
        "valid_to",
        "accept_within_hours",
        "resolve_within_hours",
    )
    list_filter = ("department",)
    list_select_related = ("department",)
    filter_horizontal = ("categories",)
    inlines = [EscalationStepInline]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    """Rules tried in position order before routing by category; the first that matches wins."""

    list_display = ("position", "name", "active", "channel", "mailbox", "category", "department")
    list_display_links = ("name",)
    list_editable = ("position", "active")
    list_filter = ("active", "channel", "mailbox")
    list_select_related = ("mailbox", "category", "department")
    autocomplete_fields = ("category", "department")
    fieldsets = (
        (None, {"fields": ("name", "position", "active")}),
        (
            _("When (every condition given must hold)"),
            {"fields": ("channel", "mailbox", "subject_keywords", "sender_domains")},
        ),
        (_("Then"), {"fields": ("category", "department", "priority")}),
    )


class ResidentAdminForm(forms.ModelForm):
    """Normalises identity numbers the same way the services do."""

    class Meta:
        model = Resident
        fields = [
            "kind",
            "name",
            "personal_id",
            "personal_id_country",
            "org_number",
            "preferred_language",
            "preferred_channel",
            "postal_address",
            "digital_exemption_reason",
            "digital_exemption_until",
        ]

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean()
        country = data.get("personal_id_country") or settings.MUNICIPALITY_COUNTRY
        for field, normalise in (
            ("personal_id", identity.normalize_personal_id),
            ("org_number", identity.normalize_org_number),
        ):
            if not data.get(field):
                data[field] = None
                continue
            try:
                data[field] = normalise(data[field], country=country)
            except ValidationError as exc:
                self.add_error(field, exc)
        if data.get("personal_id"):
            data["personal_id_country"] = country
        return data


class ResidentEmailForm(forms.ModelForm):
    class Meta:
        model = ResidentEmail
        fields = ["address"]

    def clean_address(self) -> str:
        return identity.normalize_email(self.cleaned_data["address"])


class ResidentPhoneForm(forms.ModelForm):
    class Meta:
        model = ResidentPhone
        fields = ["number"]

    def clean_number(self) -> str:
        return identity.normalize_phone(self.cleaned_data["number"])


class ResidentEmailInline(admin.TabularInline):
    """Addresses are normalised as the services do, so lookups find them."""

    model = ResidentEmail
    form = ResidentEmailForm
    extra = 0


class ResidentPhoneInline(admin.TabularInline):
    model = ResidentPhone
    form = ResidentPhoneForm
    extra = 0


class PowerOfAttorneyInline(admin.TabularInline):
    model = PowerOfAttorney
    fk_name = "resident"
    extra = 0
    raw_id_fields = ("representative",)


@admin.register(Resident)
class ResidentAdmin(admin.ModelAdmin):
    form = ResidentAdminForm
    list_display = (
        "id",
        "name",
        "kind",
        "preferred_language",
        "preferred_channel",
        "digital_exemption_until",
    )
    list_filter = ("kind", "preferred_language")
    search_fields = ("name", "=personal_id", "=org_number", "emails__address", "phones__number")
    inlines = [ResidentEmailInline, ResidentPhoneInline, PowerOfAttorneyInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Resident]:
        return resident_visible_queryset(user=request.user)  # type: ignore[arg-type]


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    can_delete = False
    fields = (
        "occurred_at",
        "channel",
        "direction",
        "nature",
        "failure_demand",
        "resolved_at_first_contact",
        "agent",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


def _run_on_selected(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Case], service, label
) -> None:  # type: ignore[no-untyped-def]
    done, failed = 0, []
    for pk, ref in queryset.order_by("pk").values_list("pk", "reference"):
        try:
            service(actor=Actor.staff(request.user), case_id=pk, reason=str(_("Admin action")))
            done += 1
        except ApplicationError as exc:
            failed.append(f"{ref}: {exc.message}")
    if done:
        modeladmin.message_user(
            request,
            ngettext("%(n)d case: %(label)s.", "%(n)d cases: %(label)s.", done)
            % {"n": done, "label": label},
            messages.SUCCESS,
        )
    for line in failed:
        modeladmin.message_user(request, line, messages.WARNING)


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """Cases change only through services: the admin shows them and offers service-backed actions."""

    list_display = (
        "reference",
        "subject",
        "state",
        "department",
        "category",
        "origin_channel",
        "created_at",
    )
    list_filter = ("state", "origin_channel", "department")
    search_fields = ("=reference", "subject")
    list_select_related = ("department", "category")
    readonly_fields = [f.name for f in Case._meta.fields]
    inlines = [ContactInline]
    actions = ["close_cases", "mark_cases_spam"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Case]:
        return super().get_queryset(request).visible_to(request.user)  # type: ignore[attr-defined]

    @admin.action(description=_("Close selected resolved cases"))
    def close_cases(self, request: HttpRequest, queryset: QuerySet[Case]) -> None:
        _run_on_selected(self, request, queryset, case_close, _("closed"))

    @admin.action(description=_("Mark selected cases as spam"))
    def mark_cases_spam(self, request: HttpRequest, queryset: QuerySet[Case]) -> None:
        _run_on_selected(self, request, queryset, case_mark_spam, _("marked as spam"))


@admin.register(CaseEvent)
class CaseEventAdmin(admin.ModelAdmin):
    list_display = (
        "case",
        "kind",
        "transition",
        "from_state",
        "to_state",
        "actor_type",
        "actor",
        "created_at",
    )
    list_filter = ("kind", "actor_type")
    list_select_related = ("case", "actor")
    readonly_fields = [f.name for f in CaseEvent._meta.fields]
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[CaseEvent]:
        return super().get_queryset(request).filter(case__in=Case.objects.visible_to(request.user))  # type: ignore[arg-type]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    """Ready answers offered in the case view's reply form, per category and language."""

    list_display = ("title", "category", "language", "active")
    list_filter = ("language", "active", "category")
    list_select_related = ("category",)
    search_fields = ("title", "body")
    autocomplete_fields = ("category",)
