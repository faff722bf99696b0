"""Status notices: which transitions send one, to whom, through which channel.

Everything here runs inside the transaction of the transition (or of ``notice_received``'s
caller): it writes rows (an outbound Contact on the case, an ``OutboundMessage``) and registers
the send on commit. A transition that rolls back therefore sends nothing and leaves nothing.

Channel choice, per recipient (the resident, and each representative whose valid power of
attorney asks for copies):

* exempt from digital channels: a letter if we have a postal address, else a phone task;
* otherwise the preferred channel if we have the address or number for it, else the other
  digital one (e-mail, SMS), else a letter if we have a postal address, else a phone task.

A case resolved at first contact gets its "resolved" notice only by e-mail or SMS: the resident
was just told in person, so nobody prints a letter or calls back to say it again.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from cases.choices import Channel, ContactPreference, Direction
from cases.models import Case, CaseEvent, PowerOfAttorney, Resident
from cases.services.actors import Actor
from cases.services.cases import ContactInput, case_record_outbound
from channels_app import intake
from channels_app.email.outbound import email_send, header_safe, new_message_id
from channels_app.models import OutboundMessage, OutboundStatus, RecipientRole
from channels_app.notices.texts import (
    NoticeContext,
    notice_email_text,
    notice_letter_text,
    notice_sms_text,
)
from channels_app.sms.optout import with_opt_out
from channels_app.sms.outbound import sms_send

# Transition name -> the notice it sends. Other transitions send none.
TRANSITION_NOTICES = {
    "forward": "forwarded",
    "wait_for_resident": "waiting",
    "resolve": "resolved",
}
# Channels whose intake sends its own receipt; cases from the others get the "received" notice
# when routing opens them at the contact center (a forward sends "forwarded" instead).
OWN_RECEIPT_CHANNELS = (Channel.EMAIL, Channel.ESERVICE)
DIGITAL = (Channel.EMAIL, Channel.SMS)
# For staff (the contact's summary, the office's lists).
NOTICE_LABELS = {
    "received": gettext_lazy("received"),
    "forwarded": gettext_lazy("forwarded"),
    "waiting": gettext_lazy("waiting for you"),
    "resolved": gettext_lazy("resolved"),
}


@dataclass(frozen=True)
class Route:
    """How one recipient gets one notice: the channel, the address or number, and whether it
    is a letter or a call because of a digital exemption."""

    channel: str
    to: str
    because_exempt: bool = False


def notice_route(resident: Resident, *, today: datetime.date, offline: bool = True) -> Route | None:
    """The channel a notice to ``resident`` goes through (see the module docstring). With
    ``offline=False`` only e-mail or SMS will do, and None means no notice."""
    phones = list(
        with_opt_out(resident.phones.order_by("pk")).values_list("number", "sms_opted_out")
    )
    phone = phones[0][0] if phones else ""  # for a call, whatever it said about SMS
    # SMS only to a number that did not answer STOP (channels_app/sms/optout.py).
    sms_phone = next((number for number, opted_out in phones if not opted_out), "")
    address = resident.postal_address.strip()
    if resident.is_digitally_exempt(today):
        if not offline:
            return None
        if address:
            return Route(Channel.LETTER, address, because_exempt=True)
        return Route(Channel.PHONE, phone, because_exempt=True)
    email = resident.emails.order_by("pk").values_list("address", flat=True).first() or ""
    reachable = {Channel.EMAIL: email, Channel.SMS: sms_phone}
    if offline:
        reachable[Channel.LETTER] = address
        reachable[Channel.PHONE] = phone
    preferred = resident.preferred_channel
    if reachable.get(preferred):
        return Route(preferred, reachable[preferred])
    # The other digital one: for a preference of e-mail that is SMS and the other way round;
    # for no preference (or an offline one we cannot use) e-mail first.
    order = (Channel.SMS, Channel.EMAIL) if preferred == ContactPreference.SMS else DIGITAL
    for channel in order:
        if reachable[channel]:
            return Route(channel, reachable[channel])
    if not offline:
        return None
    if address:
        return Route(Channel.LETTER, address)
    return Route(Channel.PHONE, phone)


def notices_on_transition(*, case: Case, event: CaseEvent, actor: Actor) -> None:
    """The transition hook (registered in ``ChannelsAppConfig.ready``).

    Resolving at first contact sends nothing: the resident was answered in that contact.
    """
    routed = isinstance(event.data, dict) and "routing" in event.data
    if routed and event.transition == "open" and case.origin_channel not in OWN_RECEIPT_CHANNELS:
        notice_received(case=case)
        return
    notice = TRANSITION_NOTICES.get(event.transition)
    if notice is None:
        return
    _notify(case=case, notice=notice, reason=event.reason if notice == "waiting" else "")


@transaction.atomic
def notice_received(*, case: Case) -> list[OutboundMessage]:
    """The "we have received your case" notice, for cases whose channel sends no receipt of its
    own (a phone call, a visit, a letter). Sent once per case: a second call does nothing."""
    if OutboundMessage.objects.filter(case=case, kind="notice:received").exists():
        return []
    return _notify(case=case, notice="received")


def _notify(
    *, case: Case, notice: str, reason: str = "", offline: bool = True
) -> list[OutboundMessage]:
    resident = case.resident
    if resident is None:
        return []
    today = timezone.localdate()
    recipients: list[tuple[Resident, str]] = [(resident, RecipientRole.RESIDENT)]
    copies = (
        PowerOfAttorney.objects.filter(
            resident=resident, receives_copies=True, valid_from__lte=today
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .select_related("representative")
        .order_by("pk")
    )
    recipients += [(poa.representative, RecipientRole.REPRESENTATIVE) for poa in copies]
    rows = []
    for recipient, role in recipients:
        route = notice_route(recipient, today=today, offline=offline)
        if route is None:
            continue
        rows.append(
            _queue(
                case=case,
                notice=notice,
                recipient=recipient,
                role=role,
                route=route,
                reason=reason,
            )
        )
    return rows


def _context(
    *, case: Case, notice: str, recipient: Resident, role: str, reason: str
) -> NoticeContext:
    language = recipient.preferred_language or case.language
    department = ""
    if case.department is not None:
        with translation.override(language):
            department = case.department.name
    return NoticeContext(
        notice=notice,
        language=language,
        reference=case.reference or "",
        name=recipient.name,
        subject=case.subject,
        department=department,
        reason=reason.strip(),
        sensitive=bool(case.category is not None and case.category.sensitive),
        representative_of=(
            (case.resident.name or case.reference or "")
            if role == RecipientRole.REPRESENTATIVE and case.resident is not None
            else ""
        ),
    )


def _summary(*, notice: str, route: Route, recipient: Resident, role: str) -> str:
    """The outbound contact's summary, for staff (the yearly report reads the channel)."""
    parts = [
        _("Status notice “%(notice)s” by %(channel)s")
        % {"notice": NOTICE_LABELS[notice], "channel": Channel(route.channel).label}
    ]
    if role == RecipientRole.REPRESENTATIVE:
        parts.append(_("copy to the representative %(name)s") % {"name": recipient})
    if route.because_exempt:
        parts.append(_("exempt from digital channels"))
    if route.channel == Channel.PHONE and not route.to:
        parts.append(_("no phone number on file"))
    return "; ".join(parts) + "."


def _queue(
    *, case: Case, notice: str, recipient: Resident, role: str, route: Route, reason: str
) -> OutboundMessage:
    ctx = _context(case=case, notice=notice, recipient=recipient, role=role, reason=reason)
    message_id = ""
    if route.channel == Channel.EMAIL:
        subject, body = notice_email_text(ctx)
        message_id = new_message_id()
    elif route.channel == Channel.SMS:
        subject, body = "", notice_sms_text(ctx)
    else:  # the letter itself, or what the agent tells the resident on the phone
        subject, body = notice_letter_text(ctx)
    contact = case_record_outbound(
        actor=Actor.system(),
        case=case,
        contact=ContactInput(
            channel=route.channel,
            direction=Direction.OUTBOUND,
            summary=_summary(notice=notice, route=route, recipient=recipient, role=role),
        ),
    )
    row = OutboundMessage.objects.create(
        channel=route.channel,
        case=case,
        resident=recipient,
        to=(header_safe(route.to) if route.channel in DIGITAL else route.to)[:254],
        subject=header_safe(subject)[:300],
        body=body,
        message_id=message_id,
        auto_generated=True,
        kind=f"notice:{notice}",
        contact=contact,
        recipient_role=role,
        because_exempt=route.because_exempt,
    )
    if route.channel in DIGITAL:
        from channels_app.notices.tasks import outbound_send_batch_task, outbound_send_task

        intake.enqueue_on_commit_grouped(outbound_send_task, outbound_send_batch_task, row.pk)
    return row


# --- Sending and the office's work ----------------------------------------------------------
def outbound_send(*, outbound_id: int) -> bool:
    """Send one pending e-mail or SMS row, whoever queued it. True if this call sent it."""
    channel = (
        OutboundMessage.objects.filter(pk=outbound_id).values_list("channel", flat=True).first()
    )
    if channel == Channel.EMAIL:
        return email_send(outbound_id=outbound_id)
    if channel == Channel.SMS:
        return sms_send(outbound_id=outbound_id)
    return False  # letters and calls are done by people (outbound_mark_handled)


def outbound_mark_handled(*, outbound_id: int, channel: str, user: User) -> bool:
    """The office printed and posted a letter (→ sent) or made the call (→ delivered: the
    resident heard it). Conditional on pending, so a double click counts once."""
    now = timezone.now()
    done = OutboundStatus.SENT if channel == Channel.LETTER else OutboundStatus.DELIVERED
    fields = {"status": done, "sent_at": now, "handled_by": user, "handled_at": now}
    if done == OutboundStatus.DELIVERED:
        fields["delivered_at"] = now
    return bool(
        OutboundMessage.objects.filter(
            pk=outbound_id, channel=channel, status=OutboundStatus.PENDING
        ).update(**fields)
    )
