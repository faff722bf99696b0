from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    AGENT = "agent", _("Service agent")
    HANDLER = "handler", _("Department case handler")
    SUPERVISOR = "supervisor", _("Supervisor")
    COMMUNICATIONS = "communications", _("Communications office")
    ADMIN = "admin", _("Administrator")


class User(AbstractUser):
    """A member of staff. What they may see and do follows from ``role`` and ``department``.

    A supervisor whose department is the contact center supervises the contact center (and sees
    every case); any other supervisor supervises their own department. Residents are not users:
    they are ``cases.Resident`` rows and never log in with a password here.
    """

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.AGENT)
    department = models.ForeignKey(
        "cases.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
    )
    language = models.CharField(
        _("language"),
        max_length=8,
        blank=True,
        help_text=_("Interface language; empty follows the browser."),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def is_administrator(self) -> bool:
        return self.is_superuser or self.role == Role.ADMIN

    @property
    def in_contact_center(self) -> bool:
        """True for staff of the contact center itself (agents and its supervisors)."""
        return self.department_id is not None and self.department.is_contact_center
