"""Raw inbound items, stored before any case logic (STYLE habit 7).

Every e-mail, form post and Open311 request is first written here with a unique key per
channel and source; processing (resident, threading, case, contact) happens afterwards in a
task, and may be repeated without effect. What cannot be processed is quarantined with its
reason, never dropped.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.choices import Channel
from cases.models.translated import TranslatedNameMixin


class InboundStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be processed")
    PROCESSING = "processing", _("Being processed")
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Ignored (no case needed)")
    QUARANTINED = "quarantined", _("Quarantined")


class InboundMessage(models.Model):
    """One inbound item exactly as it arrived.

    ``(channel, source, external_id)`` is unique: the same e-mail fetched twice, a form posted
    twice by a double click, or an Open311 request retried by its client is one row. ``source``
    names where it came from (a mailbox, ``form:<category code>``, ``open311:<client>``);
    ``external_id`` is the item's own key (Message-ID, submission token, client request key).
    """

    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    source = models.CharField(_("source"), max_length=100)
    external_id = models.CharField(_("external id"), max_length=255)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    raw = models.BinaryField(_("raw content"), blank=True, default=b"")
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=InboundStatus.choices, default=InboundStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    reason = models.TextField(_("quarantine reason"), blank=True)
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("case"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="inbound",
    )
    contact = models.ForeignKey(
        "cases.Contact",
        verbose_name=_("contact"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("inbound message")
        verbose_name_plural = _("inbound messages")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "source", "external_id"], name="inbound_unique_key"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "received_at"], name="inbound_status_received"),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.source}:{self.external_id}"


class InboundAttachment(models.Model):
    """A file that came with an inbound item, with its real type (sniffed from the content)."""

    message = models.ForeignKey(
        InboundMessage, on_delete=models.CASCADE, related_name="attachments"
    )
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(max_length=64)
    file = models.FileField(_("file"), upload_to="inbound/%Y/%m/", blank=True)
    inline = models.BooleanField(_("inline image"), default=False)
    quarantined = models.BooleanField(_("quarantined"), default=False)
    reason = models.CharField(_("quarantine reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename


class Mailbox(models.Model):
    """A mailbox we read (IMAP) or receive piped mail for, owned by a department or function.

    The IMAP password is never stored here: ``imap_password_env`` names the environment
    variable that holds it (secrets only from the environment). ``last_uid`` and
    ``uidvalidity`` remember how far a poll got, so a poll killed half-way neither loses nor
    duplicates mail (duplicates are also stopped by the inbound key).
    """

    name = models.SlugField(_("name"), max_length=64, unique=True)
    address = models.EmailField(_("address"))
    department = models.ForeignKey(
        "cases.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    default_category = models.ForeignKey(
        "cases.Category",
        verbose_name=_("default category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    imap_host = models.CharField(_("IMAP host"), max_length=200, blank=True)
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    imap_ssl = models.BooleanField(_("IMAP over TLS"), default=True)
    imap_user = models.CharField(_("IMAP user"), max_length=200, blank=True)
    imap_password_env = models.CharField(
        _("environment variable with the IMAP password"), max_length=100, blank=True
    )
    imap_folder = models.CharField(_("IMAP folder"), max_length=200, default="INBOX")
    uidvalidity = models.BigIntegerField(null=True, blank=True, editable=False)
    last_uid = models.BigIntegerField(default=0, editable=False)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OutboundStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class RecipientRole(models.TextChoices):
    RESIDENT = "resident", _("Resident")
    REPRESENTATIVE = "representative", _("Representative (copy)")


class OutboundMessage(models.Model):
    """A message we send (receipt, reply, notice): a row with a status, written in the same
    transaction as what caused it; a task sends it, a sweep resends what waits too long.

    ``message_id`` is our RFC 5322 Message-ID for e-mail: replies that reference it thread onto
    ``case``, and mail that carries one of ours back is a loop. ``provider_id`` is the SMS
    provider's id (Twilio's MessageSid): its delivery callbacks find the row by it.

    Letters and phone calls are rows too (``channel`` letter or phone): the office prints the
    letter or makes the call and marks it done (``handled_by``); ``because_exempt`` says the
    resident got it that way because of a digital exemption (the yearly report counts these).
    """

    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("case"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="outbound",
    )
    resident = models.ForeignKey(
        "cases.Resident",
        verbose_name=_("resident"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    to = models.CharField(_("to"), max_length=254)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("body"), blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True, db_index=True)
    in_reply_to = models.CharField(_("In-Reply-To"), max_length=255, blank=True)
    references = models.TextField(_("References"), blank=True)
    auto_generated = models.BooleanField(_("automatic"), default=False)
    kind = models.CharField(
        _("kind"), max_length=32, blank=True, help_text=_("receipt, reply, notice, ...")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=OutboundStatus.choices, default=OutboundStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    provider_id = models.CharField(
        _("provider id"), max_length=64, blank=True, db_index=True, help_text=_("Twilio MessageSid")
    )
    provider_status = models.CharField(_("provider status"), max_length=20, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    contact = models.ForeignKey(
        "cases.Contact",
        verbose_name=_("contact"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    recipient_role = models.CharField(
        _("recipient"), max_length=16, choices=RecipientRole.choices, blank=True
    )
    because_exempt = models.BooleanField(
        _("because of a digital exemption"),
        default=False,
        help_text=_(
            "Sent by letter or phone because the resident is exempt from digital channels."
        ),
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbound message")
        verbose_name_plural = _("outbound messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="outbound_status_created"),
            models.Index(
                fields=["to", "auto_generated", "created_at"], name="outbound_to_auto_created"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} → {self.to}"


class Open311Client(models.Model):
    """A system allowed to POST Open311 service requests, identified by its API key.

    Only a SHA-256 of the key is stored; the key itself is shown once when created.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.CharField(_("system"), max_length=300, blank=True)
    key_sha256 = models.CharField(max_length=64, unique=True, editable=False)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("Open311 client")
        verbose_name_plural = _("Open311 clients")

    def __str__(self) -> str:
        return self.name


class SmsOptOut(models.Model):
    """A phone number that answered STOP (or a translation of it) to one of our SMS.

    Kept per number, not per resident: the handset said it, whoever of a family shares it,
    and it must outlive an anonymised resident. Notices and replies skip SMS for it (a notice
    goes by another channel), and ``sms_send`` refuses it as a last guard. START or UNSTOP
    deletes the row.
    """

    number = models.CharField(_("phone number"), max_length=20, unique=True)
    keyword = models.CharField(_("keyword"), max_length=20)
    opted_out_at = models.DateTimeField(_("opted out"), default=timezone.now)

    class Meta:
        verbose_name = _("SMS opt-out")
        verbose_name_plural = _("SMS opt-outs")

    def __str__(self) -> str:
        return self.number


class PhoneQueue(TranslatedNameMixin, models.Model):
    """A topic of the phone menu (knappval) and its Twilio queue: "press 1 for waste"."""

    code = models.SlugField(
        _("code"), max_length=40, unique=True, help_text=_("Twilio's queue name.")
    )
    digit = models.PositiveSmallIntegerField(
        _("menu key"), unique=True, help_text=_("The key callers press for this topic (1-9).")
    )
    name_sv = models.CharField(_("name (Swedish)"), max_length=100)
    name_da = models.CharField(_("name (Danish)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    category = models.ForeignKey(
        "cases.Category",
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("phone queue")
        verbose_name_plural = _("phone queues")
        ordering = ["digit"]

    def __str__(self) -> str:
        return f"{self.digit}: {self.name}"


class Call(models.Model):
    """One inbound phone call through Twilio, by its CallSid: what the caller chose and what
    happened in the queue, for the workspace and the report (time in queue, abandoned calls,
    callbacks).

    Each webhook writes only the facts it knows, each at most once (``…__isnull`` updates), so
    Twilio's callbacks may come in any order and any number of times; the outcome is derived
    from the facts (``outcome``)."""

    class Outcome(models.TextChoices):
        IN_MENU = "in_menu", _("In the menu")
        IN_QUEUE = "in_queue", _("In the queue")
        ANSWERED = "answered", _("Answered")
        CALLBACK = "callback", _("Callback requested")
        ABANDONED = "abandoned", _("Abandoned")

    call_sid = models.CharField(_("call SID"), max_length=64, unique=True)
    from_number = models.CharField(_("from"), max_length=32)
    to_number = models.CharField(_("to"), max_length=32)
    resident = models.ForeignKey(
        "cases.Resident",
        verbose_name=_("resident"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    language = models.CharField(_("language"), max_length=5, blank=True)
    queue = models.ForeignKey(
        PhoneQueue, verbose_name=_("queue"), null=True, blank=True, on_delete=models.PROTECT
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    enqueued_at = models.DateTimeField(_("queued"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    left_queue_at = models.DateTimeField(_("left the queue"), null=True, blank=True)
    queue_result = models.CharField(_("queue result"), max_length=20, blank=True)
    queue_seconds = models.PositiveIntegerField(_("seconds in queue"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    end_status = models.CharField(_("end status"), max_length=20, blank=True)
    duration_seconds = models.PositiveIntegerField(_("duration (s)"), null=True, blank=True)
    callback_requested = models.BooleanField(_("callback requested"), default=False)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        indexes = [models.Index(fields=["started_at"], name="call_started")]

    def __str__(self) -> str:
        return self.call_sid

    @property
    def outcome(self) -> str:
        if self.callback_requested:
            return self.Outcome.CALLBACK
        if self.answered_at is not None:
            return self.Outcome.ANSWERED
        if self.ended_at is not None or self.queue_result == "hangup":
            return self.Outcome.ABANDONED
        if self.enqueued_at is not None:
            return self.Outcome.IN_QUEUE
        return self.Outcome.IN_MENU


class CallbackRequest(models.Model):
    """A caller in a long queue pressed the key to be called back: a task for an agent, kept
    until an agent has called back (``completed_at``). An unanswered attempt puts it back
    ``VOICE_CALLBACK_RETRY_MINUTES`` later; after ``VOICE_CALLBACK_MAX_ATTEMPTS`` it is given
    up (``given_up_at``), and counted as such."""

    call = models.OneToOneField(Call, on_delete=models.CASCADE, related_name="callback")
    number = models.CharField(_("phone number"), max_length=32)
    queue = models.ForeignKey(PhoneQueue, verbose_name=_("queue"), on_delete=models.PROTECT)
    language = models.CharField(_("language"), max_length=5, blank=True)
    queue_position = models.PositiveIntegerField(_("place in the queue"), null=True, blank=True)
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    completed_at = models.DateTimeField(_("called back"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("called back by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    given_up_at = models.DateTimeField(
        _("given up"),
        null=True,
        blank=True,
        help_text=_("Set after the last unanswered attempt; the report counts these."),
    )

    class Meta:
        verbose_name = _("callback request")
        verbose_name_plural = _("callback requests")
        ordering = ["requested_at", "id"]  # first come, first called back: the caller's place

    def __str__(self) -> str:
        return f"{self.number} ({self.queue})"
