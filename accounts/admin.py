from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "get_full_name", "role", "department", "is_active")
    list_filter = ("role", "department", "is_active", "is_staff")
    list_select_related = ("department",)
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Role in the contact center"), {"fields": ("role", "department", "language")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (_("Role in the contact center"), {"fields": ("role", "department")}),
    )
