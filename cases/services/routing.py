"""Routing: where a new case goes, decided once, by a task, after the case is committed.

Every channel creates cases ``new`` at the contact center; ``case_route_batch`` (the Celery task
``case_route_batch_task``, and the sweep for what a lost task left behind) then decides:

1. The first active routing rule that matches the case's channel, mailbox, subject and sender
   may set its category (when the resident did not choose one: see ``_rule_may_classify``), its
   priority, and the department to forward to.
2. No category: the case opens at the contact center **in triage**, where an agent classifies it.
3. The category's owner (or the rule's department) is the contact center, or the service
   agreement lets the contact center resolve the case's complexity level: it opens in the
   contact center's queue.
4. Otherwise it is forwarded to the department with the agreement's deadlines.

Routing is the ``open`` or ``forward`` transition done by the system, so it is exactly once by
construction: only a ``new`` case is routed, under its row lock, and the transition moves it
out of ``new`` in the same transaction as its event (ADR 0018).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.businesstime import END_OF_DAY, CalendarSpec, add_business_time
from cases.choices import Channel, Level
from cases.models import Case, CaseState, Category, Department, RoutingRule
from cases.services.actors import Actor
from cases.services.common import contact_center
from cases.services.deadlines import DeadlineLookup
from cases.services.events import buffered_events
from cases.services.transitions import _run, forward_locked
from common.exceptions import ApplicationError

logger = logging.getLogger(__name__)

#: What routing may change on a case before its transition (saved with the transition).
ROUTING_FIELDS = (
    "category",
    "complexity_level",
    "case_type",
    "priority",
    "respond_due_at",
    "routed_at",
)

#: Social media contacts are answered within this many hours, counted on working days only.
SOCIAL_ANSWER_HOURS = 24


class Decision:
    TRIAGE = "triage"
    CONTACT_CENTER = "contact_center"
    FORWARDED = "forwarded"


@dataclass(frozen=True)
class RoutingFacts:
    """What rules can match on, read from the case and the inbound record that opened it."""

    channel: str
    subject: str
    mailbox: str = ""
    sender: str = ""

    @property
    def sender_domain(self) -> str:
        return self.sender.rpartition("@")[2].lower() if "@" in self.sender else ""


@dataclass(frozen=True)
class RoutingOutcome:
    case_id: int
    reference: str
    decision: str
    department: str
    rule: str = ""


def rule_matches(rule: RoutingRule, facts: RoutingFacts, mailbox_names: dict[int, str]) -> bool:
    """True when every condition the rule gives holds for ``facts`` (pure)."""
    if rule.channel and rule.channel != facts.channel:
        return False
    if rule.mailbox_id and mailbox_names.get(rule.mailbox_id) != facts.mailbox:
        return False
    keywords = rule.keywords
    if keywords and not any(word in facts.subject.lower() for word in keywords):
        return False
    domains = rule.domains
    if domains:
        domain = facts.sender_domain
        if not domain or not any(domain == d or domain.endswith("." + d) for d in domains):
            return False
    return True


def first_matching_rule(
    rules: list[RoutingRule], facts: RoutingFacts, mailbox_names: dict[int, str]
) -> RoutingRule | None:
    return next((rule for rule in rules if rule_matches(rule, facts, mailbox_names)), None)


def _rule_may_classify(case: Case) -> bool:
    """A rule's category applies to a case without one, and to e-mail, whose category is only
    ever its mailbox's default. A category the resident chose (a form, an Open311 service
    code, a phone menu) is never overridden."""
    return case.category_id is None or case.origin_channel == Channel.EMAIL


def cc_may_keep(case: Case, lookup: DeadlineLookup, target: Department, on: datetime.date) -> bool:
    """Whether the contact center resolves this case itself: the levels the agreement leaves to
    it, or without an agreement levels 1-3 (the same rule as resolving at first contact)."""
    agreement = lookup.agreement(case.category, target, on)
    level = case.complexity_level
    if agreement is not None:
        return agreement.contact_center_may_resolve(level)
    return level is None or level < Level.SPECIALIST


def social_answer_due(spec: CalendarSpec, start: datetime.datetime) -> datetime.datetime:
    """24 hours counted on working days only: whole days Monday to Friday, without holidays
    (and eves, where the calendar closes them), whatever the opening hours."""
    working_days = dataclasses.replace(
        spec, weekly={day: ((datetime.time(0), END_OF_DAY),) for day in range(5)}, exceptions={}
    )
    return add_business_time(working_days, start, datetime.timedelta(hours=SOCIAL_ANSWER_HOURS))


class _Batch:
    """What a batch reads once: rules, mailbox names, agreements and calendars."""

    def __init__(self) -> None:
        from channels_app.models import Mailbox

        self.lookup = DeadlineLookup(shared=True)
        self.rules = list(
            RoutingRule.objects.filter(active=True).select_related(
                "category__department", "department"
            )
        )
        self.mailbox_names = (
            dict(
                Mailbox.objects.filter(
                    pk__in={r.mailbox_id for r in self.rules if r.mailbox_id}
                ).values_list("pk", "name")
            )
            if any(r.mailbox_id for r in self.rules)
            else {}
        )
        self.cc = contact_center()


def _facts(cases: list[Case], *, need_inbound: bool) -> dict[int, RoutingFacts]:
    """Facts per case id; the mailbox and sender come from the inbound record of the case's
    first contact (one query for the batch, only when some rule needs them)."""
    sources: dict[int, tuple[str, str]] = {}
    if need_inbound:
        from channels_app.models import InboundMessage

        rows = (
            InboundMessage.objects.filter(case_id__in=[c.pk for c in cases])
            .order_by("case_id", "pk")
            .values_list("case_id", "source", "payload")
        )
        for case_id, source, payload in rows:
            if case_id in sources:
                continue
            kind, _sep, name = source.partition(":")
            sender = (payload or {}).get("from", "") if isinstance(payload, dict) else ""
            sources[case_id] = (name if kind == Channel.EMAIL else "", str(sender or ""))
    return {
        c.pk: RoutingFacts(
            channel=c.origin_channel,
            subject=c.subject,
            mailbox=sources.get(c.pk, ("", ""))[0],
            sender=sources.get(c.pk, ("", ""))[1],
        )
        for c in cases
    }


def _route_one(case: Case, facts: RoutingFacts, batch: _Batch) -> RoutingOutcome:
    actor = Actor.system()
    now = timezone.now()
    rule = first_matching_rule(batch.rules, facts, batch.mailbox_names)
    note: dict[str, object] = {}
    if rule is not None:
        note["rule"] = {"id": rule.pk, "name": rule.name}
        new_category = rule.category if rule.category_id and _rule_may_classify(case) else None
        if new_category is not None and new_category.is_valid_on(timezone.localdate(now)):
            case.category = new_category
            case.complexity_level = new_category.default_level
            case.case_type = new_category.case_type
            note["category"] = new_category.code
        if rule.priority:
            case.priority = rule.priority
            note["priority"] = rule.priority
    if case.origin_channel == Channel.SOCIAL:
        case.respond_due_at = social_answer_due(batch.lookup.calendar(batch.cc), case.created_at)
    case.routed_at = now
    rule_name = rule.name if rule is not None else ""
    category: Category | None = case.category
    explicit = rule.department if rule is not None and rule.department_id else None
    if explicit is None and category is None:
        return _open(case, actor, Decision.TRIAGE, note, rule_name, batch)
    target = explicit or category.department  # type: ignore[union-attr]
    if target.is_contact_center or not target.active:
        return _open(case, actor, Decision.CONTACT_CENTER, note, rule_name, batch)
    if explicit is None and cc_may_keep(case, batch.lookup, target, timezone.localdate(now)):
        return _open(case, actor, Decision.CONTACT_CENTER, note, rule_name, batch)
    reason = (
        _("Routed by the rule “%(rule)s” to %(dept)s.") % {"rule": rule_name, "dept": target}
        if explicit is not None
        else _("Routed by category to %(dept)s.") % {"dept": target}
    )
    try:
        forward_locked(
            actor=actor,
            case=case,
            department=target,
            reason=reason,
            lookup=batch.lookup,
            extra={"routing": {**note, "decision": Decision.FORWARDED}},
            also_update=ROUTING_FIELDS,
        )
    except ApplicationError as exc:
        # A department calendar without hours, say: the case must not be lost, so it waits in
        # triage with the reason in its timeline.
        logger.warning("Routing %s to %s failed: %s", case.reference, target, exc)
        note["error"] = str(exc)
        return _open(case, actor, Decision.TRIAGE, note, rule_name, batch)
    return RoutingOutcome(case.pk, case.reference or "", Decision.FORWARDED, target.code, rule_name)


def _open(
    case: Case, actor: Actor, decision: str, note: dict[str, object], rule: str, batch: _Batch
) -> RoutingOutcome:
    triage = decision == Decision.TRIAGE
    if triage:
        reason = (
            _("No category: waiting in triage for an agent to classify it.")
            if "error" not in note
            else _("Could not be forwarded (%(error)s): waiting in triage.")
            % {"error": note["error"]}
        )
    else:
        reason = _("In the contact center's queue: the contact center may resolve it.")

    def apply(c: Case) -> None:
        c.open()
        c.triage = triage

    _run(
        actor=actor,
        case=case,
        case_id=case.pk,
        name="open",
        reason=reason,
        apply=apply,
        extra={"routing": {**note, "decision": decision}},
        also_update=ROUTING_FIELDS,
    )
    return RoutingOutcome(case.pk, case.reference or "", decision, batch.cc.code, rule)


def case_route_batch(*, case_ids: list[int]) -> list[RoutingOutcome]:
    """Route the given cases that are still ``new`` (others are skipped: routed already, or an
    agent took them first). One transaction; rows locked in id order."""
    from common.transactions import collect_grouped_enqueues, enqueue_on_commit

    ids = sorted(set(case_ids))
    if not ids:
        return []
    outcomes: list[RoutingOutcome] = []
    with (
        contextlib.ExitStack() as stack,
        collect_grouped_enqueues() as group,
        transaction.atomic(),
    ):
        # Lock the bare rows first, then read them with their joins (see case_lock).
        locked = list(
            Case.objects.select_for_update()
            .filter(pk__in=ids, state=CaseState.NEW)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not locked:
            return []
        cases = list(
            Case.objects.filter(pk__in=locked, state=CaseState.NEW)
            .select_related("category__department", "department", "resident")
            .order_by("pk")
        )
        batch = _Batch()
        stack.enter_context(batch.lookup.active())
        need_inbound = any(r.mailbox_id or r.sender_domains.strip() for r in batch.rules)
        facts = _facts(cases, need_inbound=need_inbound)
        with buffered_events():
            for case in cases:
                outcomes.append(_route_one(case, facts[case.pk], batch))
        for batch_task, pks in group.items():
            if pks:
                enqueue_on_commit(batch_task, list(pks))
    return outcomes


def case_route(*, case_id: int) -> RoutingOutcome | None:
    """Route one case; None if it is no longer new."""
    outcomes = case_route_batch(case_ids=[case_id])
    return outcomes[0] if outcomes else None


def cases_unrouted(*, older_than_seconds: int = 60, limit: int = 5000) -> list[int]:
    """Ids of cases still ``new`` after ``older_than_seconds``: their routing task was lost."""
    cutoff = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    return list(
        Case.objects.filter(state=CaseState.NEW, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
