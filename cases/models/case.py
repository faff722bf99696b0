from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from cases.choices import CaseType, Channel, Direction, Language, Level, Nature, Priority

if TYPE_CHECKING:
    from accounts.models import User
    from cases.models.organisation import Department, ServiceAgreement


class CaseState(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open at the contact center")
    RESOLVED_FIRST_CONTACT = "resolved_first_contact", _("Resolved at first contact")
    FORWARDED = "forwarded", _("Forwarded to department")
    ACCEPTED = "accepted", _("Accepted by department")
    WAITING = "waiting_resident", _("Waiting for the resident")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    MERGED = "merged", _("Merged into another case")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    SPAM = "spam", _("Spam")


S = CaseState
ACTIVE_STATES = (S.NEW, S.OPEN, S.FORWARDED, S.ACCEPTED, S.WAITING)
DONE_STATES = (S.RESOLVED_FIRST_CONTACT, S.RESOLVED)
FINAL_STATES = (S.CLOSED, S.MERGED, S.WITHDRAWN, S.SPAM)


class CaseQuerySet(models.QuerySet["Case"]):
    def visible_to(self, user: User) -> CaseQuerySet:
        """The one rule for which cases a user may know exist (docs/adr/0005-visibility.md)."""
        from cases.permissions import case_visibility_filter

        rule = case_visibility_filter(user)
        return self if rule is None else self.filter(rule)

    def active(self) -> CaseQuerySet:
        return self.filter(state__in=ACTIVE_STATES)


class Case(ConcurrentTransitionMixin, models.Model):
    """What a resident wants done. Gathers every contact about it, whatever the channel.

    ``state`` is protected: only the transition methods below change it, and only the
    ``case_<verb>`` services in ``cases.services.transitions`` call those, each in one
    transaction with one ``CaseEvent``. ``ConcurrentTransitionMixin`` makes ``save()`` update
    the row only if its state is still the one we read, so of two people acting at once one
    wins and the other gets ``ConcurrentTransition`` (HTTP 409).
    """

    reference = models.CharField(
        _("reference"), max_length=24, unique=True, null=True, editable=False
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    resident = models.ForeignKey(
        "cases.Resident",
        verbose_name=_("resident"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
    )
    category = models.ForeignKey(
        "cases.Category",
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
    )
    department = models.ForeignKey(
        "cases.Department",
        verbose_name=_("owning department"),
        on_delete=models.PROTECT,
        related_name="cases",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_cases",
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    complexity_level = models.PositiveSmallIntegerField(
        _("complexity level"), choices=Level.choices, null=True, blank=True
    )
    case_type = models.CharField(
        _("case type"), max_length=20, choices=CaseType.choices, blank=True
    )
    origin_channel = models.CharField(_("origin channel"), max_length=12, choices=Channel.choices)
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.SWEDISH
    )
    state = FSMField(
        _("state"), default=S.NEW, choices=CaseState.choices, protected=True, db_index=True
    )
    resume_state = models.CharField(_("state to resume"), max_length=24, blank=True, editable=False)
    resolved_at_first_contact = models.BooleanField(_("resolved at first contact"), default=False)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_cases",
    )

    agreement = models.ForeignKey(
        "cases.ServiceAgreement",
        verbose_name=_("service agreement"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The agreement whose deadlines the case runs under."),
    )
    triage = models.BooleanField(
        _("in triage"),
        default=False,
        help_text=_("At the contact center waiting to be classified (no category, or returned)."),
    )
    routed_at = models.DateTimeField(_("routed"), null=True, blank=True, editable=False)
    location_key = models.CharField(
        _("location"),
        max_length=120,
        blank=True,
        editable=False,
        help_text=_(
            "Where a reported fault is, for finding duplicates (rounded coordinates or address)."
        ),
    )
    respond_due_at = models.DateTimeField(_("answer by"), null=True, blank=True)
    accept_due_at = models.DateTimeField(_("accept by"), null=True, blank=True)
    resolve_due_at = models.DateTimeField(_("resolve by"), null=True, blank=True)
    paused_at = models.DateTimeField(_("clock paused since"), null=True, blank=True)

    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    forwarded_at = models.DateTimeField(_("forwarded"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["department", "state", "-created_at"], name="case_dept_state_created"
            ),
            models.Index(fields=["assignee", "state"], name="case_assignee_state"),
            models.Index(fields=["state", "resolve_due_at"], name="case_state_resolve_due"),
            models.Index(fields=["resident", "-created_at"], name="case_resident_created"),
            # Possible duplicates: the same category at the same place within a few days.
            models.Index(
                fields=["location_key", "category", "created_at"],
                condition=~Q(location_key=""),
                name="case_location_duplicates",
            ),
            # The routing sweep looks for cases a lost task left unrouted.
            models.Index(fields=["created_at"], condition=Q(state="new"), name="case_new_unrouted"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(complexity_level__isnull=True)
                | Q(complexity_level__gte=1, complexity_level__lte=4),
                name="case_level_1_4",
            ),
            models.CheckConstraint(
                condition=~Q(merged_into=models.F("id")), name="case_not_merged_into_self"
            ),
        ]

    def __str__(self) -> str:
        return self.reference or f"#{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    # --- Transitions: pure; they set fields and nothing else. Call them only from services. ---

    @transition(field=state, source=S.NEW, target=S.OPEN)
    def open(self) -> None:
        pass

    @transition(field=state, source=[S.NEW, S.OPEN], target=S.RESOLVED_FIRST_CONTACT)
    def resolve_at_first_contact(self, *, now: datetime.datetime) -> None:
        self.resolved_at_first_contact = True
        self.resolved_at = now

    @transition(field=state, source=[S.NEW, S.OPEN], target=S.FORWARDED)
    def forward(
        self,
        *,
        department: Department,
        now: datetime.datetime,
        agreement: ServiceAgreement | None = None,
        accept_due_at: datetime.datetime | None,
        resolve_due_at: datetime.datetime | None,
    ) -> None:
        self.department = department
        self.assignee = None
        self.triage = False
        self.agreement = agreement
        self.forwarded_at = now
        self.accept_due_at = accept_due_at
        self.resolve_due_at = resolve_due_at

    @transition(field=state, source=S.FORWARDED, target=S.ACCEPTED)
    def accept(self, *, now: datetime.datetime) -> None:
        self.accepted_at = now

    @transition(field=state, source=[S.FORWARDED, S.ACCEPTED], target=S.OPEN)
    def return_to_contact_center(self, *, contact_center: Department) -> None:
        self.department = contact_center
        self.assignee = None
        self.triage = True
        self.agreement = None
        self.accept_due_at = None
        self.resolve_due_at = None
        self.accepted_at = None

    @transition(field=state, source=[S.OPEN, S.ACCEPTED], target=S.WAITING)
    def wait_for_resident(self, *, now: datetime.datetime) -> None:
        self.resume_state = self.state
        self.paused_at = now

    @transition(field=state, source=S.WAITING, target=RETURN_VALUE(S.OPEN, S.ACCEPTED))
    def resume(
        self, *, accept_due_at: datetime.datetime | None, resolve_due_at: datetime.datetime | None
    ) -> str:
        target = self.resume_state or S.OPEN
        self.resume_state = ""
        self.paused_at = None
        self.accept_due_at = accept_due_at
        self.resolve_due_at = resolve_due_at
        return target

    @transition(field=state, source=[S.OPEN, S.ACCEPTED], target=S.RESOLVED)
    def resolve(self, *, now: datetime.datetime) -> None:
        self.resolved_at = now

    @transition(field=state, source=[S.RESOLVED, S.RESOLVED_FIRST_CONTACT], target=S.CLOSED)
    def close(self, *, now: datetime.datetime) -> None:
        self.closed_at = now

    @transition(field=state, source=[S.RESOLVED, S.RESOLVED_FIRST_CONTACT, S.CLOSED], target=S.OPEN)
    def reopen(self, *, contact_center: Department) -> None:
        self.department = contact_center
        self.assignee = None
        self.resolved_at = None
        self.closed_at = None
        self.resolved_at_first_contact = False
        self.agreement = None
        self.accept_due_at = None
        self.resolve_due_at = None

    @transition(field=state, source=list(ACTIVE_STATES), target=S.MERGED)
    def merge(self, *, into: Case, now: datetime.datetime) -> None:
        self.merged_into = into
        self.closed_at = now
        self.paused_at = None

    @transition(field=state, source=list(ACTIVE_STATES), target=S.WITHDRAWN)
    def withdraw(self, *, now: datetime.datetime) -> None:
        self.closed_at = now
        self.paused_at = None

    @transition(field=state, source=[S.NEW, S.OPEN], target=S.SPAM)
    def mark_spam(self, *, now: datetime.datetime) -> None:
        self.closed_at = now


class Contact(models.Model):
    """One interaction on one channel, in or out. Always belongs to a case; never deleted.

    Carries the classifications the yearly report counts: information or transaction (KOMHEN),
    failure demand (an avoidable contact, such as chasing a case's status), and whether it was
    resolved at first contact.
    """

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="contacts"
    )
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction.choices, default=Direction.INBOUND
    )
    occurred_at = models.DateTimeField(_("time"), default=timezone.now)
    duration_seconds = models.PositiveIntegerField(_("duration (seconds)"), null=True, blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contacts",
    )
    resident = models.ForeignKey(
        "cases.Resident",
        verbose_name=_("resident"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contacts",
    )
    nature = models.CharField(
        _("information or transaction"),
        max_length=12,
        choices=Nature.choices,
        default=Nature.INFORMATION,
    )
    failure_demand = models.BooleanField(
        _("failure demand"),
        default=False,
        help_text=_("An avoidable contact, such as chasing the status of a case."),
    )
    resolved_at_first_contact = models.BooleanField(_("resolved at first contact"), default=False)
    summary = models.TextField(_("summary"), blank=True)
    scan = models.FileField(
        _("scanned letter"),
        upload_to="letters/%Y/%m/",
        blank=True,
        help_text=_("A letter's scan (PDF, JPEG, PNG or TIFF), checked by its content."),
    )
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["occurred_at", "id"]
        indexes = [
            models.Index(fields=["case", "occurred_at"], name="contact_case_time"),
            models.Index(fields=["occurred_at", "channel"], name="contact_time_channel"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="contact_channel_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.occurred_at:%Y-%m-%d %H:%M}"


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    TRANSITION = "transition", _("State changed")
    ASSIGNED = "assigned", _("Assigned")
    CLASSIFIED = "classified", _("Classified")
    NOTE = "note", _("Note")
    CONTACT_ADDED = "contact_added", _("Contact added")
    DEADLINE_SET = "deadline_set", _("Deadline set")
    ESCALATED = "escalated", _("Escalated")
    MERGED_IN = "merged_in", _("Another case merged in")
    VIEWED = "viewed", _("Sensitive case viewed")


class ActorType(models.TextChoices):
    USER = "user", _("Staff")
    SYSTEM = "system", _("System")
    RESIDENT = "resident", _("Resident")


class CaseEvent(models.Model):
    """Append-only audit of everything that happens to a case. Reports read it; nobody edits it.

    ``data`` holds the before/after of whatever changed (``{"before": {...}, "after": {...}}``)
    and, for a contact, its id and channel.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("kind"), max_length=16, choices=EventKind.choices)
    transition = models.CharField(_("transition"), max_length=32, blank=True)
    from_state = models.CharField(_("from"), max_length=24, blank=True)
    to_state = models.CharField(_("to"), max_length=24, blank=True)
    actor_type = models.CharField(
        _("actor"), max_length=10, choices=ActorType.choices, default=ActorType.USER
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_channel = models.CharField(
        _("via channel"), max_length=12, choices=Channel.choices, blank=True
    )
    reason = models.TextField(_("reason"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"], name="caseevent_case_created")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args: object, **kwargs: object) -> None:
        # Guard, not a side effect: the audit trail is append-only.
        if not self._state.adding:
            raise ValueError("CaseEvent rows are append-only.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object):  # type: ignore[override]
        raise ValueError("CaseEvent rows are append-only.")
