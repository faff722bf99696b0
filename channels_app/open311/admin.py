"""Admin for Open311 API clients. Imported by ``channels_app/admin.py`` (Django autodiscovers
only an app's top-level admin module).

Creating a client issues its key through ``open311_client_create``: only the key's SHA-256 is
stored, and the key itself is shown once, in the message after saving.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from channels_app.models import Open311Client
from channels_app.open311.services import open311_client_create, open311_client_rotate_key


@admin.register(Open311Client)
class Open311ClientAdmin(admin.ModelAdmin):
    """The systems allowed to POST service requests. Deactivate a client to revoke its key."""

    list_display = ("name", "description", "active", "created_at")
    list_filter = ("active",)
    search_fields = ("name", "description")
    fields = ("name", "description", "active", "created_at")
    readonly_fields = ("created_at",)
    actions = ["rotate_key"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        client, key = open311_client_create(
            name=obj.name, description=obj.description, active=obj.active
        )
        # The admin goes on with ``obj`` (its log entry, its redirect): make it the saved row.
        obj.pk, obj.key_sha256, obj.created_at = client.pk, client.key_sha256, client.created_at
        obj._state.adding, obj._state.db = False, client._state.db
        request._open311_key = key  # type: ignore[attr-defined]

    @admin.action(
        description=gettext_lazy("Issue a new API key (the old one stops working)"),
        permissions=["change"],
    )
    def rotate_key(self, request: HttpRequest, queryset: QuerySet[Open311Client]) -> None:
        # One at a time: each key is shown once, and a page of several is easily mis-copied.
        if queryset.count() != 1:
            self.message_user(request, _("Choose exactly one client."), messages.ERROR)
            return
        client = queryset.get()
        key = open311_client_rotate_key(client=client)
        self.message_user(request, _key_message(client.name, key), messages.WARNING)

    def response_add(
        self, request: HttpRequest, obj: Any, post_url_continue: Any = None
    ) -> HttpResponse:
        response = super().response_add(request, obj, post_url_continue)
        key = getattr(request, "_open311_key", None)
        if key:
            messages.warning(request, _key_message(obj.name, key))
        return response


def _key_message(name: str, key: str) -> str:
    return _(
        "The API key of %(name)s is %(key)s. Copy it now: it is not stored and will not be "
        "shown again."
    ) % {"name": name, "key": key}
