"""The scripted "BENCH-CASE-20" case: 20 contacts on 8 channels and 30 events (50 timeline entries).

The peer benchmark opens a ticket with 20 follow-ups; our case view is measured on this case.
Events: ``created``, one ``contact_added`` per contact (as the live services write them) and
9 transitions. It is misrouted once (Gata och park returns it), waits for the resident twice
and ends accepted by Vatten och avlopp, so every part of the timeline is exercised.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from cases.demo import texts
from cases.demo.clock import HOUR
from cases.demo.recorder import NOW

if TYPE_CHECKING:
    from cases.demo.generator import History
    from cases.demo.lifecycle import Lifecycle

CONTACTS = 20
CHASE, SUPPLEMENT = texts.SUMMARY_CHASE, texts.SUMMARY_SUPPLEMENT
# (channel, direction, nature, failure demand, summary); the first one opens the case.
SCRIPT = [
    ("phone", "in", "transaction", False, "Samtal: vatten rinner över gångbanan vid Storgatan 12."),
    ("email", "in", "transaction", False, "Invånaren skickar bilder på läckan."),
    ("phone", "in", "information", True, CHASE),
    ("email", "out", "information", False, "Handläggaren bekräftar att ärendet tagits emot."),
    ("phone", "in", "information", True, CHASE),
    ("sms", "out", "information", False, "Vi behöver veta var på tomten vattnet kommer upp."),
    ("eservice", "in", "transaction", False, SUPPLEMENT),
    ("chat", "in", "information", True, CHASE),
    ("email", "in", "information", False, "En granne bekräftar att det fortfarande läcker."),
    ("phone", "out", "information", False, "Handläggaren ringer upp för att boka platsbesök."),
    ("letter", "out", "information", False, "Brev med begäran om tillträde till fastigheten."),
    ("visit", "in", "transaction", False, SUPPLEMENT),
    ("phone", "in", "information", True, CHASE),
    ("email", "out", "information", False, "Ledningen tillhör VA-huvudmannen, inte gatuenheten."),
    ("phone", "in", "information", True, CHASE),
    ("email", "in", "transaction", False, "Invånaren skickar nya bilder."),
    ("phone", "out", "information", False, "VA-enheten bekräftar att reparation är beställd."),
    ("sms", "out", "information", False, "Vattnet stängs av på Storgatan i morgon 09–12."),
    ("phone", "in", "information", True, CHASE),
    ("email", "in", "information", False, "Invånaren frågar om ersättning för skadad gräsmatta."),
]
# The transition played right after contact i.
AFTER = {1: "forward_wrong", 2: "accept_wrong", 4: "wait", 6: "resume", 9: "wait", 11: "resume",
         13: "return", 14: "forward", 16: "accept"}  # fmt: skip
STAFF_IN = frozenset({"phone", "visit", "chat"})


def play(life: Lifecycle, history: History, d: int) -> int:
    """Add the bench case on day ``d``; return its number of contacts (0 if the window is too short)."""
    clock = history.clock
    # One contact per working day from day d, in office hours (nothing for staff to move).
    days = [k for k in range(d, clock.n_days) if clock.office[k] is not None][:CONTACTS]
    times = [clock.office[k][0] + HOUR + (i * 797) % (2 * HOUR) for i, k in enumerate(days)]  # type: ignore[index]
    if len(times) < CONTACTS or times[-1] + HOUR > history.end:
        return 0
    t0 = times[0]
    category = history.leak_category(d)
    departments = history.setup.departments
    wrong, right = departments["gata-park"], category.department_id
    agent = history.setup.agents[0]
    handler = {wrong: history.setup.handlers[wrong][0], right: history.setup.handlers[right][0]}
    life.begin(t0=t0, year=clock.dates[d].year, resident=0, room=CONTACTS)
    life.event(
        t0,
        "created",
        to="new",
        actor=agent,
        data=json.dumps({"channel": "phone", "category": category.spec.code}),
    )
    current = None
    for i, (channel, direction, nature, failure, summary) in enumerate(SCRIPT):
        t = times[i]
        if direction == "out":
            staff = handler.get(current, agent)  # type: ignore[arg-type]
        else:
            staff = agent if channel in STAFF_IN else None
        life.contact(
            t,
            channel,
            direction=direction,
            nature=nature,
            failure=failure,
            summary=summary,
            agent=staff,
            first=i == 0,
        )
        life.t = life.updated + 60
        name = AFTER.get(i)
        if name in ("forward_wrong", "forward"):
            current = wrong if name == "forward_wrong" else right
            life.forward_to(agent, current, category)
        elif name in ("accept_wrong", "accept"):
            life.go(
                life.t,
                "accept",
                "accepted",
                handler[current],
                accepted=NOW,
                assignee=handler[current],
            )
        elif name == "wait":
            life.go(
                life.t,
                "wait_for_resident",
                "waiting_resident",
                handler[current],
                resume_state="accepted",
                paused=NOW,
            )
        elif name == "resume":
            paused = life.paused
            life.go(
                life.updated,
                "resume",
                "accepted",
                None,
                actor_type="resident",
                channel=channel,
                extra=f', "paused_seconds": {life.updated - paused}',
                resume_state="",
                paused=None,
                accept_due=life.accept_due and life.accept_due + life.updated - paused,
                resolve_due=life.resolve_due and life.resolve_due + life.updated - paused,
            )
        elif name == "return":
            life.go(
                life.t,
                "return_to_contact_center",
                "open",
                handler[current],
                reason="Fel förvaltning.",
                department=life.cc,
                assignee=None,
                accept_due=None,
                resolve_due=None,
                accepted=None,
            )
    description = (
        f"{SCRIPT[0][4]} Det är en vattenläcka som har pågått i flera veckor. "
        "Ärendet används i prestandamätningen av ärendevyn."
    )
    life.row(texts.BENCH_SUBJECT, description, category.id, 2, "recurring", "phone", "high", t0)
    return life.n_contacts
