from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from cases.choices import Channel
from channels_app.intake import inbound_requeue
from channels_app.models import (
    Call,
    CallbackRequest,
    InboundAttachment,
    InboundMessage,
    OutboundMessage,
    OutboundStatus,
    PhoneQueue,
    SmsOptOut,
)
from channels_app.open311 import admin as open311_admin  # noqa: F401  (registers Open311ClientAdmin)


class InboundAttachmentInline(admin.TabularInline):
    model = InboundAttachment
    extra = 0
    can_delete = False
    readonly_fields = (
        "filename",
        "content_type",
        "size",
        "sha256",
        "file",
        "inline",
        "quarantined",
        "reason",
    )

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    """Inbound items as they arrived. Nothing is edited or deleted here; quarantined items can be
    put back in the queue after the cause is fixed."""

    list_display = ("received_at", "channel", "source", "external_id", "status", "case", "reason")
    list_filter = ("status", "channel", "source")
    search_fields = ("=external_id", "source", "reason")
    list_select_related = ("case",)
    readonly_fields = [f.name for f in InboundMessage._meta.fields]
    inlines = [InboundAttachmentInline]
    actions = ["reprocess"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description=_("Reprocess selected quarantined items"), permissions=["change"])
    def reprocess(self, request: HttpRequest, queryset: QuerySet[InboundMessage]) -> None:
        n = inbound_requeue(message_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, _("%(n)d item(s) queued again.") % {"n": n}, messages.SUCCESS)


@admin.register(OutboundMessage)
class OutboundMessageAdmin(admin.ModelAdmin):
    """What we sent or still have to send: receipts, replies, notices (e-mail, SMS, letters,
    calls), with their delivery status. Read-only: statuses change through sending, Twilio's
    callbacks and the office's letter and call lists; the action only hands pending e-mail and
    SMS to the send task again."""

    list_display = (
        "created_at",
        "channel",
        "kind",
        "to",
        "status",
        "attempts",
        "recipient_role",
        "because_exempt",
        "case",
        "error",
    )
    list_filter = ("status", "channel", "kind", "recipient_role", "because_exempt")
    search_fields = ("=to", "=provider_id", "=message_id", "=case__reference")
    list_select_related = ("case",)
    readonly_fields = [f.name for f in OutboundMessage._meta.fields]
    raw_id_fields = ("case", "resident", "contact", "handled_by")
    date_hierarchy = "created_at"
    actions = ["send_again"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(
        description=_("Send selected pending e-mails and SMS now"), permissions=["change"]
    )
    def send_again(self, request: HttpRequest, queryset: QuerySet[OutboundMessage]) -> None:
        from channels_app.notices.tasks import outbound_send_task

        ids = list(
            queryset.filter(
                status=OutboundStatus.PENDING, channel__in=(Channel.EMAIL, Channel.SMS)
            ).values_list("pk", flat=True)
        )
        for pk in ids:
            outbound_send_task.delay(pk)
        self.message_user(
            request,
            _("%(n)d message(s) handed to the send task.") % {"n": len(ids)},
            messages.SUCCESS,
        )


@admin.register(SmsOptOut)
class SmsOptOutAdmin(admin.ModelAdmin):
    """Numbers that answered STOP. Deleting a row allows SMS to that number again (as START
    does); only do so when the resident asks for it by another channel."""

    list_display = ("number", "keyword", "opted_out_at")
    search_fields = ("number",)
    readonly_fields = ("number", "keyword", "opted_out_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(PhoneQueue)
class PhoneQueueAdmin(admin.ModelAdmin):
    """The phone menu: one row per topic, read to callers in key order."""

    list_display = ("digit", "code", "name_sv", "name_da", "name_en", "category", "active")
    list_editable = ("active",)


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    """Calls as Twilio reported them; written by the voice webhooks only."""

    list_display = ("call_sid", "from_number", "queue", "language", "started_at", "outcome")
    list_filter = ("queue", "language", "callback_requested")
    search_fields = ("call_sid", "from_number")
    date_hierarchy = "started_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(CallbackRequest)
class CallbackRequestAdmin(admin.ModelAdmin):
    list_display = ("number", "queue", "language", "requested_at", "attempts", "completed_at")
    list_filter = ("queue", "completed_at")
    search_fields = ("number",)
