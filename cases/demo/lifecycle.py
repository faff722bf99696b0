"""Play one demo case forward in time: the paths a case takes through the state machine.

A case is resolved at first contact, handled at the contact center, forwarded to the owning
department (sometimes to the wrong one first), or is spam or a duplicate; along the way the
resident may be asked for more, may chase the status (failure demand) and gets feedback. The
same rules as the live services apply: the contact center resolves only the levels its
agreement allows, deadlines come from the agreement in business hours and move on by the
business time a case waited for the resident, a merge moves the duplicate's contacts.
Whatever would happen after the end of the window is not played, so recent cases stay open.
"""

from __future__ import annotations

import json

from cases.demo import texts
from cases.demo.clock import DAY, HOUR
from cases.demo.configure import CategoryVersion
from cases.demo.rand import between, pick
from cases.demo.recorder import NOW, STAFF_LOGGED, Recorder, duration

# First-contact resolution, when the agreement lets the contact center resolve the level.
FCR_RATE = {
    "phone": 0.9,
    "chat": 0.88,
    "visit": 0.88,
    "video": 0.8,
    "email": 0.6,
    "sms": 0.6,
    "social": 0.6,
    "eservice": 0.35,
    "letter": 0.3,
}
INFO_RATE = {1: 0.92, 2: 0.68, 3: 0.32, 4: 0.3}  # share of first contacts that are "information"
CHASE_CHANNELS = ["phone", "phone", "phone", "email", "email", "chat"]
FEEDBACK_CHANNELS = ["email", "email", "phone", "phone", "sms"]
ESCALATIONS = [
    (0.75, "assignee"),
    (1.0, "department_supervisor"),
    (1.5, "department_director"),
    (2.0, "contact_center_supervisor"),
]
AUTO_CLOSE_REASON = "Stängt automatiskt: ingen reaktion från invånaren inom {days} dagar."


class Lifecycle(Recorder):
    """Plays cases into the buffers; holds the staff who act on them."""

    def __init__(
        self,
        *,
        department_codes: dict[int, str],
        agents: list[int],
        handlers: dict[int, list[int]],
        auto_close_days: int,
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.codes = department_codes
        self.agents, self.handlers = agents, handlers
        self.departments = sorted(handlers)
        self.auto_close = auto_close_days * DAY
        self.auto_close_reason = AUTO_CLOSE_REASON.format(days=auto_close_days)

    def play(
        self,
        *,
        t0: int,
        year: int,
        channel: str,
        category: CategoryVersion | None,
        resident: int | None,
        room: int,
        word_rate: float,
        duplicate_of: tuple[int, str, int | None] | None = None,
    ) -> int:
        """Create one case first contacted at ``t0``; return how many contacts it got."""
        rng = self.rng
        self.begin(t0=t0, year=year, resident=None if category is None else resident, room=room)
        agent = self.agents[0] if rng.random() < 0.12 else pick(rng, self.agents)
        staff = agent if channel in STAFF_LOGGED else None
        quoted = f'"{category.spec.code}"' if category else "null"
        self.event(
            t0,
            "created",
            to="new",
            actor_type="user" if staff else "resident",
            actor=staff,
            channel="" if staff else channel,
            data=f'{{"channel": "{channel}", "category": {quoted}}}',
        )
        seconds = duration(rng, channel)
        self.t = t0 + (seconds or 0)
        r = rng.random()
        priority = "high" if r < 0.03 else "low" if r < 0.08 else "normal"
        if category is None:  # spam: no category, no resident
            subject = pick(rng, texts.SPAM_SUBJECTS)
            self.contact(t0, channel, nature="information", summary="", agent=staff, first=True)
            self.go(
                t0 + between(rng, 300, 4 * HOUR),
                "mark_spam",
                "spam",
                agent,
                reason="Reklam",
                closed=NOW,
            )
            self.row(subject, "", None, None, "", channel, priority, t0)
            return self.n_contacts
        spec = category.spec
        if spec.code == "water-leak":
            priority = "urgent" if r < 0.2 else "high"
        subject, description = texts.case_text(rng, spec.code, rng.random() < word_rate)
        level = spec.level
        r = rng.random()
        if r < 0.08 and level > 1:
            level -= 1
        elif r < 0.12 and level < 4:
            level += 1
        at_cc = category.department_id == self.cc
        may_resolve = level < 4 if at_cc else level in category.contact_center_levels
        merge_at = None
        if duplicate_of is not None:
            merge_at = self.clock.add_business(self.t, between(rng, 600, 4 * HOUR))
            target_inactive = duplicate_of[2]
            if merge_at > self.end or (target_inactive is not None and merge_at >= target_inactive):
                merge_at = None  # the original was already done: not a duplicate after all
            else:
                self.contact_case = duplicate_of[0]  # case_merge moves the contacts over
        fcr = (
            merge_at is None
            and may_resolve
            and rng.random() < FCR_RATE[channel]
            and self.t <= self.end
        )
        info = rng.random() < (0.15 if channel == "eservice" else INFO_RATE[level])
        note = texts.SUMMARIES_FIRST.get(channel, "{s}. ").format(s=subject.split(" – ")[0])
        self.contact(
            t0,
            channel,
            nature="information" if info else "transaction",
            agent=staff,
            fcr=fcr,
            summary=note + pick(rng, texts.SUMMARY_FCR if fcr else texts.SUMMARY_OPEN),
            seconds=seconds,
            first=True,
        )
        if merge_at is not None:
            self._merge(merge_at, agent, duplicate_of)  # type: ignore[arg-type]
        elif fcr:
            if self.go(
                self.t,
                "resolve_at_first_contact",
                "resolved_first_contact",
                agent,
                fcr=True,
                resolved=NOW,
            ):
                self._auto_close()
        elif may_resolve or at_cc:
            self._handle_at_contact_center(agent, channel)
        else:
            self._forward(agent, category)
        self.row(subject, description, category.id, level, spec.case_type, channel, priority, t0)
        return self.n_contacts

    # --- endings -----------------------------------------------------------------------------
    def _merge(self, t: int, agent: int, duplicate_of: tuple[int, str, int | None]) -> None:
        into, reference, _ = duplicate_of
        moved = self.buf.next_contact - 1
        extra = f', "into": "{reference}", "moved_contact_ids": [{moved}]'
        if self.go(
            t,
            "merge",
            "merged",
            agent,
            reason=f"Dubblett av {reference}",
            extra=extra,
            merged_into=into,
            closed=NOW,
            paused=None,
        ):
            data = json.dumps({"from": self.reference, "moved_contact_ids": [moved]})
            self.event(
                self.t,
                "merged_in",
                actor=agent,
                reason=f"Dubblett av {reference}",
                data=data,
                case_id=into,
            )

    def _auto_close(self) -> None:
        t = self.t + self.auto_close + between(self.rng, 0, 900)
        self.go(
            t,
            "close",
            "closed",
            None,
            actor_type="system",
            reason=self.auto_close_reason,
            closed=NOW,
        )

    def _close(self, agent: int) -> None:
        """After a resolution: feedback to the resident and a manual close, or the auto-close."""
        rng = self.rng
        if rng.random() >= 0.4 or self.room <= 0:
            self._auto_close()
            return
        t = self.clock.add_business(self.t, between(rng, 1800, 8 * HOUR))
        channel = "letter" if self.exempt else pick(rng, FEEDBACK_CHANNELS)
        if self.contact(
            t,
            channel,
            direction="out",
            nature="information",
            agent=agent,
            summary=texts.SUMMARY_FEEDBACK,
        ):
            self.go(self.updated + 60, "close", "closed", agent, closed=NOW)

    def _withdraw_maybe(self, agent: int) -> bool:
        if self.rng.random() >= 0.01:
            return False
        self.go(
            self.t + between(self.rng, 1, 5) * DAY,
            "withdraw",
            "withdrawn",
            agent,
            reason="Invånaren drog tillbaka ärendet.",
            closed=NOW,
            paused=None,
        )
        return True

    def _wait_for_resident(self, actor: int, delay: int) -> bool:
        """Ask the resident for more; their reply (a contact, maybe another channel) resumes it."""
        rng, clock = self.rng, self.clock
        back_to = self.state
        if not self.go(
            clock.add_business(self.t, delay),
            "wait_for_resident",
            "waiting_resident",
            actor,
            resume_state=back_to,
            paused=NOW,
        ):
            return False
        paused = self.t
        reply = paused + between(rng, HOUR, 12 * DAY)
        channel = pick(
            rng,
            ["eservice", "eservice", "email", "email", "phone", "visit"]
            if not self.exempt
            else ["phone", "visit", "letter"],
        )
        staff = actor if channel in STAFF_LOGGED else None
        if not self.contact(
            reply, channel, nature="transaction", summary=texts.SUMMARY_SUPPLEMENT, agent=staff
        ):
            return False
        reply = self.updated

        def shifted(due: int | None) -> int | None:
            if due is None or due <= paused:
                return due
            return clock.add_business(reply, clock.business_between(paused, due))

        return self.go(
            reply,
            "resume",
            back_to,
            None,
            actor_type="resident",
            channel=channel,
            extra=f', "paused_seconds": {reply - paused}',
            resume_state="",
            paused=None,
            accept_due=shifted(self.accept_due),
            resolve_due=shifted(self.resolve_due),
        )

    # --- paths -------------------------------------------------------------------------------
    def _handle_at_contact_center(self, agent: int, channel: str) -> None:
        rng = self.rng
        pickup = between(rng, 30, 300) if channel in STAFF_LOGGED else between(rng, 600, 6 * HOUR)
        if not self.go(
            self.clock.add_business(self.t, pickup), "open", "open", agent, assignee=agent
        ):
            return
        if self._withdraw_maybe(agent):
            return
        if (
            rng.random() < 0.12
            and self.room > 0
            and not self._wait_for_resident(agent, between(rng, 600, 4 * HOUR))
        ):
            return
        if self.go(
            self.clock.add_business(self.t, between(rng, 1800, 16 * HOUR)),
            "resolve",
            "resolved",
            agent,
            resolved=NOW,
        ):
            self._close(agent)

    def forward_to(self, agent: int, department: int, category: CategoryVersion) -> bool:
        t = self.t + (
            between(self.rng, 60, 900) if self.state == "open" else between(self.rng, 30, 300)
        )
        if t > self.end:
            return False
        t = max(t, self.updated + 1)
        clock = self.clock
        agreement = category.agreement_id if department == category.department_id else None
        due = (
            clock.add_business(t, category.accept_hours * HOUR),
            clock.add_business(t, category.resolve_hours * HOUR),
        )
        return self.go(
            t,
            "forward",
            "forwarded",
            agent,
            extra=f', "agreement_id": {agreement or "null"}',
            department=department,
            assignee=None,
            forwarded=NOW,
            accept_due=due[0] if agreement else None,
            resolve_due=due[1] if agreement else None,
        )

    def _forward(self, agent: int, category: CategoryVersion) -> None:
        rng, clock = self.rng, self.clock
        if rng.random() < 0.5 and not self.go(
            self.t + between(rng, 60, 2 * HOUR), "open", "open", agent, assignee=agent
        ):
            return
        target = category.department_id
        if rng.random() < 0.03 and len(self.departments) > 1:  # misrouted first, sent back
            wrong = pick(rng, [d for d in self.departments if d != target])
            if not self.forward_to(agent, wrong, category):
                return
            back = clock.add_business(self.t, between(rng, HOUR, 8 * HOUR))
            if not self.go(
                back,
                "return_to_contact_center",
                "open",
                pick(rng, self.handlers[wrong]),
                reason="Fel förvaltning.",
                department=self.cc,
                assignee=None,
                accept_due=None,
                resolve_due=None,
                accepted=None,
            ):
                return
        if not self.forward_to(agent, target, category):
            return
        forwarded = self.t
        if self._withdraw_maybe(agent):
            return
        handler = pick(rng, self.handlers.get(target) or self.agents)
        late = rng.random() < 0.2
        share = rng.uniform(1.0, 2.5) if late else rng.uniform(0.05, 0.9)
        t = clock.add_business(forwarded, share * category.accept_hours * HOUR)
        if late:
            due = clock.add_business(forwarded, category.accept_hours * HOUR)
            if due <= self.end:
                data = (
                    '{"deadline": "accept", "at_percent": 100, "notify": "department_supervisor"}'
                )
                self.event(due, "escalated", actor_type="system", data=data)
        if not self.go(t, "accept", "accepted", handler, accepted=NOW, assignee=handler):
            return
        pause_start = pause = 0
        if rng.random() < 0.2 and self.room > 0:
            pause_start = self.t
            if not self._wait_for_resident(handler, between(rng, HOUR, 16 * HOUR)):
                return
            pause = self.t - pause_start
        share = rng.uniform(1.0, 2.2) if rng.random() < 0.15 else rng.uniform(0.2, 0.95)
        resolve_at = max(
            clock.add_business(forwarded, share * category.resolve_hours * HOUR) + pause,
            self.t + HOUR,
        )
        self._escalations(forwarded, share, category, pause_start, pause, resolve_at)
        self._chase(forwarded, resolve_at, late or share > 1.0)
        if not self.go(resolve_at, "resolve", "resolved", handler, resolved=NOW):
            return
        self._close(agent)
        if self.state == "closed" and rng.random() < 0.02 and self.room > 0:
            self._reopen(agent)

    def _escalations(
        self,
        start: int,
        share: float,
        category: CategoryVersion,
        pause_start: int,
        pause: int,
        until: int,
    ) -> None:
        for percent, notify in ESCALATIONS:
            if share < percent:
                break
            t = self.clock.add_business(start, percent * category.resolve_hours * HOUR)
            if pause and t > pause_start:
                t += pause
            if t <= min(until, self.end):
                data = f'{{"deadline": "resolve", "at_percent": {int(percent * 100)}, "notify": "{notify}"}}'
                self.event(t, "escalated", actor_type="system", data=data)

    def _chase(self, start: int, until: int, late: bool) -> None:
        """Residents chasing the status: failure demand, more of it when the case runs late."""
        rng = self.rng
        n = (1 + (rng.random() < 0.4)) if late and rng.random() < 0.6 else int(rng.random() < 0.12)
        for _ in range(n):
            t = between(rng, start + HOUR, max(start + HOUR, until - HOUR))
            channel = pick(rng, CHASE_CHANNELS)
            self.contact(
                t,
                channel,
                nature="information",
                failure=True,
                summary=texts.SUMMARY_CHASE,
                agent=pick(rng, self.agents) if channel in STAFF_LOGGED else None,
            )

    def _reopen(self, agent: int) -> None:
        rng = self.rng
        channel = pick(rng, ["phone", "email", "eservice"])
        if not self.contact(
            self.t + between(rng, DAY, 20 * DAY),
            channel,
            nature="information",
            failure=True,
            summary=texts.SUMMARY_REOPEN,
            agent=agent if channel == "phone" else None,
        ):
            return
        if not self.go(
            self.updated + 120,
            "reopen",
            "open",
            agent,
            reason=texts.SUMMARY_REOPEN,
            department=self.cc,
            resolved=None,
            closed=None,
            fcr=False,
            accept_due=None,
            resolve_due=None,
            assignee=agent,
        ):
            return
        if self.go(
            self.clock.add_business(self.t, between(rng, HOUR, 16 * HOUR)),
            "resolve",
            "resolved",
            agent,
            resolved=NOW,
        ):
            self._auto_close()
