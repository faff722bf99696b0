from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from channels_app.intake import inbound_requeue
from channels_app.models import InboundAttachment, InboundMessage
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
