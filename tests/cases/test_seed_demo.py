"""The demo seed: a small, exact run (300 contacts over 2 years) and the invariants it keeps."""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import zoneinfo
from collections import Counter
from io import StringIO

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import call_command
from django.db.models import Count, Q
from django.utils import timezone
from django_fsm import RETURN_VALUE
from stdnum.se import orgnr

from accounts.models import Role, User
from cases.models import (
    Case,
    CaseEvent,
    CaseState,
    Category,
    Contact,
    Department,
    EscalationStep,
    Resident,
    ServiceAgreement,
)

pytestmark = pytest.mark.django_db

ARGS = {"contacts": 300, "years": 2, "seed": 7, "end_date": "2026-06-30"}
STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")
END = datetime.datetime(2026, 6, 30, 23, 59, 59, tzinfo=STOCKHOLM)
FIRST_DAY = datetime.date(2024, 7, 1)


def seed(**extra: object) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **{**ARGS, **extra})
    return out.getvalue()


def digest() -> str:
    rows = Contact.objects.order_by("id").values_list(
        "case__reference", "case__state", "channel", "occurred_at"
    )
    return hashlib.sha256(repr(list(rows)).encode()).hexdigest()


@pytest.fixture
def seeded() -> str:
    return seed()


def test_it_creates_exactly_the_contacts_asked_for(seeded: str) -> None:
    assert Contact.objects.count() == 300
    assert "300 contacts" in seeded


def test_it_configures_the_municipality(seeded: str) -> None:
    assert Department.objects.filter(is_contact_center=True, code="kc").count() == 1
    assert Department.objects.filter(is_contact_center=False).count() >= 8
    assert Department.objects.exclude(parent=None).exists()
    categories = Category.objects.all()
    assert categories.count() >= 40
    assert not categories.filter(Q(name_sv="") | Q(name_da="") | Q(name_en="")).exists()
    assert categories.filter(sensitive=True, code="financial-assistance").exists()
    assert Category.objects.valid_on(datetime.date(2026, 6, 30)).count() >= 40


def test_the_taxonomy_has_a_rename_and_a_split(seeded: str) -> None:
    change = datetime.date(2025, 1, 1)
    old, new = Category.objects.filter(code="snow-clearing").order_by("valid_from")
    assert (old.valid_to, new.valid_from) == (change - datetime.timedelta(days=1), change)
    assert old.name_sv != new.name_sv
    assert list(old.successors.all()) == [new]
    split = Category.objects.get(code="water-sewer-fault")
    assert split.valid_to == change - datetime.timedelta(days=1)
    assert sorted(split.successors.values_list("code", flat=True)) == [
        "sewer-blockage",
        "water-leak",
    ]


def test_every_department_agreement_has_the_escalation_ladder(seeded: str) -> None:
    agreements = ServiceAgreement.objects.all()
    assert agreements.count() >= 8
    for agreement in agreements:
        assert agreement.valid_from == datetime.date(2024, 1, 1)
        assert agreement.categories.exists()
        ladder = EscalationStep.objects.filter(agreement=agreement, deadline="resolve").order_by(
            "position"
        )
        assert [(s.at_percent, s.notify) for s in ladder] == [
            (75, "assignee"),
            (100, "department_supervisor"),
            (150, "department_director"),
            (200, "contact_center_supervisor"),
        ]


def test_it_creates_one_demo_login_per_role(seeded: str) -> None:
    demo = {
        u.username: u
        for u in User.objects.filter(
            username__in=["agent", "supervisor", "handler", "handler2", "depsup", "comms", "admin"]
        )
    }
    assert len(demo) == 7
    assert {u.role for u in demo.values()} == set(Role.values)
    for username, user in demo.items():
        assert check_password(f"demo-{username}", user.password)
        assert f"demo-{username}" in seeded
    assert [u.username for u in demo.values() if u.is_staff] == ["admin"]
    assert demo["admin"].is_superuser
    assert demo["agent"].department.is_contact_center
    assert demo["handler"].department.code == "avfall"
    assert demo["depsup"].department.code == "avfall"
    assert demo["handler2"].department.code == "miljo-bygg"


def test_every_case_has_its_contacts_and_one_created_event(seeded: str) -> None:
    cases = Case.objects.annotate(
        n_contacts=Count("contacts", distinct=True),
        n_created=Count("events", filter=Q(events__kind="created"), distinct=True),
    )
    for case in cases:
        assert case.n_created == 1, case.reference
        if case.state == CaseState.MERGED:
            # case_merge moves the duplicate's contacts to the case it was merged into.
            assert case.n_contacts == 0 and case.merged_into_id is not None
        else:
            assert case.n_contacts >= 1, case.reference
    added = CaseEvent.objects.filter(kind="contact_added").values_list("data", flat=True)
    assert sorted(data["contact_id"] for data in added) == sorted(
        Contact.objects.values_list("id", flat=True)
    )


def test_every_transition_is_allowed_and_the_state_is_the_last_ones_target(seeded: str) -> None:
    allowed: dict[str, set[tuple[str, str]]] = {}
    for t in Case._meta.get_field("state").get_all_transitions(Case):
        targets = t.target.allowed_states if isinstance(t.target, RETURN_VALUE) else [t.target]
        allowed.setdefault(t.name, set()).update((t.source, target) for target in targets)
    events = CaseEvent.objects.filter(kind="transition").order_by("case_id", "created_at", "id")
    last: dict[int, str] = {}
    for e in events.values("case_id", "transition", "from_state", "to_state"):
        assert e["from_state"] == last.get(e["case_id"], "new"), e
        assert (e["from_state"], e["to_state"]) in allowed[e["transition"]], e
        last[e["case_id"]] = e["to_state"]
    for pk, state in Case.objects.values_list("pk", "state"):
        assert state == last.get(pk, "new")


def test_case_fields_agree_with_the_state(seeded: str) -> None:
    cc = Department.objects.get(is_contact_center=True)
    for case in Case.objects.filter(state__in=["forwarded", "accepted"]).select_related("category"):
        assert case.department_id == case.category.department_id != cc.pk
        assert case.accept_due_at and case.resolve_due_at and case.forwarded_at
    for case in Case.objects.filter(resolved_at_first_contact=True):
        assert case.events.filter(transition="resolve_at_first_contact").exists()
        assert case.contacts.filter(resolved_at_first_contact=True).exists()
    assert Case.objects.filter(state="closed").count() > Case.objects.count() / 2
    assert not Case.objects.filter(state="closed", closed_at=None).exists()
    assert not Case.objects.filter(state="waiting_resident", paused_at=None).exists()


def test_references_are_well_formed_and_unique(seeded: str) -> None:
    references = list(Case.objects.values_list("pk", "reference", "created_at"))
    assert len({r for _, r, _ in references}) == len(references)
    for pk, reference, created in references:
        match = re.fullmatch(r"KC-(\d{4})-(\d{6,})", reference)
        assert match, reference
        assert int(match[1]) == timezone.localtime(created, STOCKHOLM).year
        assert int(match[2]) == pk


def test_everything_happens_inside_the_window(seeded: str) -> None:
    start = datetime.datetime.combine(FIRST_DAY, datetime.time(), tzinfo=STOCKHOLM)
    assert not Contact.objects.filter(Q(occurred_at__lt=start) | Q(occurred_at__gt=END)).exists()
    assert not CaseEvent.objects.filter(Q(created_at__lt=start) | Q(created_at__gt=END)).exists()


def test_the_bench_case_has_50_timeline_entries(seeded: str) -> None:
    case = Case.objects.get(subject__startswith="BENCH-CASE-20")
    assert case.contacts.count() == 20
    assert case.events.count() == 30
    assert len(set(case.contacts.values_list("channel", flat=True))) >= 6


def test_the_channel_mix_shifts_to_digital(seeded: str) -> None:
    def shares(lo: datetime.datetime, hi: datetime.datetime) -> Counter[str]:
        channels = Counter(
            Contact.objects.filter(occurred_at__gte=lo, occurred_at__lt=hi).values_list(
                "channel", flat=True
            )
        )
        total = sum(channels.values())
        return Counter({c: n / total for c, n in channels.items()})

    year = datetime.timedelta(days=365)
    first = shares(END - 2 * year, END - year)
    last = shares(END - year, END)
    assert last["phone"] < first["phone"]
    assert last["eservice"] > first["eservice"]


def test_identity_numbers_are_valid(seeded: str) -> None:
    try:
        from cases.identity import normalize_personal_id
    except ImportError:  # pragma: no cover - identity module not there
        from stdnum.se import personnummer

        def normalize_personal_id(value: str, *, country: str) -> str:
            assert personnummer.is_valid(value)
            return value

    persons = Resident.objects.exclude(personal_id=None)
    assert persons.exists()
    for pid, country in persons.values_list("personal_id", "personal_id_country"):
        assert country == "SE" and len(pid) == 12
        assert normalize_personal_id(pid, country="SE") == pid
    for org in Resident.objects.exclude(org_number=None).values_list("org_number", flat=True):
        assert len(org) == 10 and orgnr.is_valid(org)
    phones = Resident.objects.values_list("phones__number", flat=True).exclude(phones__number=None)
    assert all(re.fullmatch(r"\+467\d{8}", p) for p in phones)


def test_the_same_seed_gives_the_same_data(seeded: str) -> None:
    before = digest()

    seed(reset=True)

    assert Contact.objects.count() == 300
    assert digest() == before


def test_running_again_without_reset_adds_nothing(seeded: str) -> None:
    cases, events = Case.objects.count(), CaseEvent.objects.count()

    output = seed()

    assert "skipped" in output
    assert (Contact.objects.count(), Case.objects.count(), CaseEvent.objects.count()) == (
        300,
        cases,
        events,
    )
    assert Category.objects.filter(code="snow-clearing").count() == 2


def test_it_prints_a_benchmark_line_with_json() -> None:
    output = seed(json=True)

    record = json.loads(output.strip().splitlines()[-1])
    assert record["system"] == "contactcenter" and record["workload"] == "seed"
    assert record["n_contacts"] == 300
    assert record["n_cases"] == Case.objects.count()
    assert record["n_events"] == CaseEvent.objects.count()
    assert record["db"].startswith(("sqlite", "postgresql"))
    for key in ("django", "python", "nproc", "mem_gib", "seconds_total", "contacts_per_s", "ts"):
        assert key in record
