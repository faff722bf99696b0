from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.choices import CaseType, Channel, Level
from cases.models.translated import TranslatedNameMixin


def _validate_channels(value: object) -> None:
    if not isinstance(value, list) or any(item not in Channel.values for item in value):
        raise ValidationError(
            _("Give a list of channels among: %(channels)s."),
            params={"channels": ", ".join(Channel.values)},
        )


def _validate_levels(value: object) -> None:
    if not isinstance(value, list) or any(item not in Level.values for item in value):
        raise ValidationError(_("Give a list of complexity levels from 1 to 4."))


class Department(TranslatedNameMixin, models.Model):
    """An owner of cases: the contact center itself (exactly one) or a municipal department.

    Units nest through ``parent``; staff of a unit see the cases of that unit and its sub-units.
    """

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name_sv = models.CharField(_("name (Swedish)"), max_length=150)
    name_da = models.CharField(_("name (Danish)"), max_length=150)
    name_en = models.CharField(_("name (English)"), max_length=150)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    is_contact_center = models.BooleanField(_("is the contact center"), default=False)
    calendar = models.ForeignKey(
        "cases.BusinessCalendar",
        verbose_name=_("business calendar"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    email = models.EmailField(_("functional e-mail"), blank=True)
    head = models.ForeignKey(
        "accounts.User",
        verbose_name=_("head of unit"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_(
            "Told when a case breaches its deadline; the head of the top unit is the director."
        ),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_contact_center"],
                condition=Q(is_contact_center=True),
                name="one_contact_center",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def subtree_ids(self) -> list[int]:
        """Ids of this unit and every unit below it (departments are few; one query)."""
        pairs = list(Department.objects.values_list("id", "parent_id"))
        children: dict[int | None, list[int]] = {}
        for pk, parent in pairs:
            children.setdefault(parent, []).append(pk)
        out, stack = [], [self.pk]
        while stack:
            pk = stack.pop()
            out.append(pk)
            stack.extend(children.get(pk, []))
        return out


class CategoryQuerySet(models.QuerySet["Category"]):
    def valid_on(self, day: datetime.date) -> CategoryQuerySet:
        return self.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day), valid_from__lte=day)


class Category(TranslatedNameMixin, models.Model):
    """What a case is about ("Missed waste collection"). Its ``code`` is the Open311 service_code.

    Categories are versioned: a rename or split ends a version (``valid_to``) and links it to
    its ``successors``, so a report can follow last year's category into this year's.
    """

    code = models.SlugField(_("code"), max_length=64, help_text=_("Also the Open311 service_code."))
    name_sv = models.CharField(_("name (Swedish)"), max_length=150)
    name_da = models.CharField(_("name (Danish)"), max_length=150)
    name_en = models.CharField(_("name (English)"), max_length=150)
    department = models.ForeignKey(
        Department,
        verbose_name=_("owning department"),
        on_delete=models.PROTECT,
        related_name="categories",
    )
    case_type = models.CharField(
        _("case type"), max_length=20, choices=CaseType.choices, default=CaseType.RECURRING
    )
    default_level = models.PositiveSmallIntegerField(
        _("default complexity level"), choices=Level.choices, default=Level.GUIDANCE
    )
    sensitive = models.BooleanField(
        _("sensitive"),
        default=False,
        help_text=_("Content is never sent by plain e-mail; access is logged."),
    )
    preferred_channels = models.JSONField(
        _("preferred channels"), default=list, blank=True, validators=[_validate_channels]
    )
    supplementary_channels = models.JSONField(
        _("supplementary channels"), default=list, blank=True, validators=[_validate_channels]
    )
    valid_from = models.DateField(_("valid from"), default=datetime.date(2000, 1, 1))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    successors = models.ManyToManyField(
        "self",
        verbose_name=_("successors"),
        symmetrical=False,
        blank=True,
        related_name="predecessors",
    )

    objects = CategoryQuerySet.as_manager()

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["code", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["code", "valid_from"], name="category_code_version_unique"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="category_valid_to_after_from",
            ),
            models.CheckConstraint(
                condition=Q(default_level__gte=1, default_level__lte=4), name="category_level_1_4"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Two versions of one code may not be valid on the same day."""
        if not self.code or not self.valid_from:
            return
        far = datetime.date.max
        overlapping = (
            Category.objects.filter(code=self.code)
            .exclude(pk=self.pk)
            .filter(valid_from__lte=self.valid_to or far)
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=self.valid_from))
        )
        if overlapping.exists():
            raise ValidationError(
                {
                    "valid_from": _(
                        "Another version of this code is valid in the same period; end it first."
                    )
                }
            )

    def is_valid_on(self, day: datetime.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or self.valid_to >= day)


class ServiceAgreementQuerySet(models.QuerySet["ServiceAgreement"]):
    def valid_on(self, day: datetime.date) -> ServiceAgreementQuerySet:
        return self.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day), valid_from__lte=day)


class ServiceAgreement(models.Model):
    """The contact center's agreement with one department for a set of categories.

    Says which complexity levels the contact center may resolve itself, how many business hours
    the department has to accept a hand-off and to resolve it, and whom to escalate to.
    """

    name = models.CharField(_("name"), max_length=150)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="agreements",
    )
    categories = models.ManyToManyField(
        Category, verbose_name=_("categories"), related_name="agreements"
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    contact_center_levels = models.JSONField(
        _("levels the contact center may resolve"),
        default=list,
        blank=True,
        validators=[_validate_levels],
        help_text=_("For example [1, 2, 3]."),
    )
    accept_within_hours = models.DecimalField(
        _("accept a hand-off within (business hours)"),
        max_digits=7,
        decimal_places=2,
        validators=[MinValueValidator(0)],
    )
    resolve_within_hours = models.DecimalField(
        _("resolve within (business hours)"),
        max_digits=7,
        decimal_places=2,
        validators=[MinValueValidator(0)],
    )

    objects = ServiceAgreementQuerySet.as_manager()

    class Meta:
        verbose_name = _("service agreement")
        verbose_name_plural = _("service agreements")
        ordering = ["department", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="agreement_valid_to_after_from",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def contact_center_may_resolve(self, level: int | None) -> bool:
        return level is not None and level in self.contact_center_levels


class EscalationStep(models.Model):
    """One rung of an agreement's escalation ladder: at ``at_percent`` of a deadline, tell ``notify``."""

    class Deadline(models.TextChoices):
        ACCEPT = "accept", _("Accept the hand-off")
        RESOLVE = "resolve", _("Resolve the case")

    class Notify(models.TextChoices):
        ASSIGNEE = "assignee", _("Assignee")
        DEPARTMENT_SUPERVISOR = "department_supervisor", _("Department supervisor (unit head)")
        DEPARTMENT_DIRECTOR = "department_director", _("Department director")
        CONTACT_CENTER_SUPERVISOR = "contact_center_supervisor", _("Contact center supervisor")

    agreement = models.ForeignKey(
        ServiceAgreement, on_delete=models.CASCADE, related_name="escalation_steps"
    )
    position = models.PositiveSmallIntegerField(_("position"))
    deadline = models.CharField(
        _("deadline"), max_length=10, choices=Deadline.choices, default=Deadline.RESOLVE
    )
    at_percent = models.PositiveSmallIntegerField(
        _("at percent of the time"), validators=[MinValueValidator(1), MaxValueValidator(1000)]
    )
    notify = models.CharField(_("notify"), max_length=32, choices=Notify.choices)
    outside_business_hours = models.BooleanField(
        _("also at night and on holidays"),
        default=False,
        help_text=_(
            "Off: a step due outside the department's opening hours waits for the next opening."
        ),
    )

    class Meta:
        verbose_name = _("escalation step")
        verbose_name_plural = _("escalation steps")
        ordering = ["agreement", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "position"], name="escalation_step_position_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.get_notify_display()} @ {self.at_percent}% ({self.get_deadline_display()})"


class CategoryField(models.Model):
    """An extra field of a category's e-service form (and its Open311 attribute).

    ``code`` is the Open311 attribute code; ``kind`` decides validation and the Open311
    datatype; ``choices`` is a list of ``{"key": ..., "name_sv": ..., "name_da": ..., "name_en": ...}``.
    """

    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        DATE = "date", _("Date")
        CHOICE = "choice", _("Choice")
        MULTI_CHOICE = "multichoice", _("Several choices")
        YES_NO = "yesno", _("Yes/no")
        LOCATION = "location", _("Location (coordinates or address)")
        ATTACHMENT = "attachment", _("Attachments")

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="fields")
    code = models.SlugField(_("code"), max_length=64)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.TEXT)
    label_sv = models.CharField(_("label (Swedish)"), max_length=200)
    label_da = models.CharField(_("label (Danish)"), max_length=200)
    label_en = models.CharField(_("label (English)"), max_length=200)
    help_sv = models.CharField(_("help (Swedish)"), max_length=300, blank=True)
    help_da = models.CharField(_("help (Danish)"), max_length=300, blank=True)
    help_en = models.CharField(_("help (English)"), max_length=300, blank=True)
    required = models.BooleanField(_("required"), default=False)
    choices = models.JSONField(_("choices"), default=list, blank=True)

    class Meta:
        verbose_name = _("form field")
        verbose_name_plural = _("form fields")
        ordering = ["category", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="category_field_code_unique"),
        ]

    def __str__(self) -> str:
        return self.code

    def _translated(self, prefix: str) -> str:
        from django.utils.translation import get_language

        lang = (get_language() or "en")[:2]
        value = getattr(self, f"{prefix}_{lang}", "") if lang in ("sv", "da", "en") else ""
        return value or getattr(self, f"{prefix}_en") or getattr(self, f"{prefix}_sv")

    @property
    def label(self) -> str:
        return self._translated("label")

    @property
    def help_text(self) -> str:
        return self._translated("help")
