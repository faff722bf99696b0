"""Routing rules, escalations planned on a case, and notifications in the workspace."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.choices import Channel, Language, Priority


def _lines(text: str) -> list[str]:
    return [line.strip().lower() for line in (text or "").splitlines() if line.strip()]


class RoutingRule(models.Model):
    """A rule that classifies or directs a new case before routing by category.

    Rules are evaluated in ``position`` order (then id); the first active rule whose every
    given condition holds wins. Conditions left empty match anything, but a rule needs at least
    one condition and one action. What a rule sets is recorded on the case as an event.
    """

    name = models.CharField(_("name"), max_length=150)
    position = models.PositiveIntegerField(
        _("position"), default=100, help_text=_("Rules are tried from the lowest position up.")
    )
    active = models.BooleanField(_("active"), default=True)
    channel = models.CharField(
        _("channel"),
        max_length=12,
        choices=Channel.choices,
        blank=True,
        help_text=_("Only contacts on this channel; empty for any channel."),
    )
    mailbox = models.ForeignKey(
        "channels_app.Mailbox",
        verbose_name=_("mailbox"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="routing_rules",
        help_text=_("Only e-mail to this mailbox; empty for any."),
    )
    subject_keywords = models.TextField(
        _("words in the subject"),
        blank=True,
        help_text=_(
            "One word or phrase per line; the rule matches when the subject contains any of them (case does not matter)."
        ),
    )
    sender_domains = models.TextField(
        _("sender domains"),
        blank=True,
        help_text=_(
            "One domain per line (e.g. vattenfall.se); matches the sender's e-mail domain and its subdomains."
        ),
    )
    category = models.ForeignKey(
        "cases.Category",
        verbose_name=_("set category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    department = models.ForeignKey(
        "cases.Department",
        verbose_name=_("forward to department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Forward to this department instead of the category's owner."),
    )
    priority = models.CharField(
        _("set priority"), max_length=10, choices=Priority.choices, blank=True
    )

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.position}. {self.name}"

    @property
    def keywords(self) -> list[str]:
        return _lines(self.subject_keywords)

    @property
    def domains(self) -> list[str]:
        return [d.lstrip("@.") for d in _lines(self.sender_domains)]

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if not (self.channel or self.mailbox_id or self.keywords or self.domains):
            errors["subject_keywords"] = _(
                "Give at least one condition: a channel, a mailbox, words or sender domains."
            )
        if not (self.category_id or self.department_id or self.priority):
            errors["category"] = _(
                "Give at least one action: a category, a department or a priority."
            )
        if self.mailbox_id and self.channel and self.channel != Channel.EMAIL:
            errors["channel"] = _("A mailbox rule can only match the e-mail channel.")
        if self.department_id and self.department and self.department.is_contact_center:
            errors["department"] = _("Choose a department, not the contact center itself.")
        if errors:
            raise ValidationError(errors)


class CaseEscalation(models.Model):
    """One rung of the escalation ladder planned for one case: due at ``due_at``, fired once.

    Planned when the case is forwarded (``due_at`` is ``at_percent`` of the agreement's time in
    business hours), moved on when the clock resumes after a pause, cancelled when the case
    leaves the department. The unique (case, step) pair is what makes a step happen exactly
    once per case, however many schedulers scan at the same time.
    """

    case = models.ForeignKey(
        "cases.Case", verbose_name=_("case"), on_delete=models.PROTECT, related_name="escalations"
    )
    step = models.ForeignKey(
        "cases.EscalationStep",
        verbose_name=_("escalation step"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    due_at = models.DateTimeField(_("due"))
    fired_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    notified = models.JSONField(_("notified"), default=list, blank=True)

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "step"], name="case_escalation_once"),
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=Q(fired_at__isnull=True, cancelled_at__isnull=True),
                name="case_escalation_pending_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case} · {self.step}"


class Notification(models.Model):
    """A message to a member of staff in the workspace (an escalation, a returned case)."""

    recipient = models.ForeignKey(
        "accounts.User",
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("case"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=32)
    message = models.TextField(_("message"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at", "-created_at"], name="notification_inbox"),
        ]

    def __str__(self) -> str:
        return self.message[:60]


class CannedResponse(models.Model):
    """A ready answer an agent can start a reply from, per category (or for any) and language."""

    title = models.CharField(_("title"), max_length=150)
    category = models.ForeignKey(
        "cases.Category",
        verbose_name=_("category"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="canned_responses",
        help_text=_("Empty: offered on every case."),
    )
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.SWEDISH
    )
    body = models.TextField(_("text"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")
        ordering = ["title", "id"]
        indexes = [models.Index(fields=["language", "active"], name="canned_language_active")]

    def __str__(self) -> str:
        return self.title
