"""Demo configuration of the intake channels: a mailbox, form fields, an Open311 client.

So that `make demo` shows the channels working: the e-service forms of a few categories have
extra fields, mail piped with ``ingest_email --mailbox kontakt`` becomes a case, and Open311
clients can POST with the demo key printed by ``seed_demo``.
"""

from __future__ import annotations

import datetime
import hashlib

from django.utils import timezone

from cases.models import Category, CategoryField, Department

# Fixed so that the demo instructions can name it; never used outside the demo.
OPEN311_DEMO_KEY = "demo-open311-key-not-for-production"

_BINS = [
    {
        "key": "household",
        "name_sv": "Restavfall",
        "name_da": "Restaffald",
        "name_en": "Residual waste",
    },
    {"key": "food", "name_sv": "Matavfall", "name_da": "Madaffald", "name_en": "Food waste"},
    {
        "key": "paper",
        "name_sv": "Papper och förpackningar",
        "name_da": "Papir og emballage",
        "name_en": "Paper and packaging",
    },
]

# code -> fields: (field code, kind, required, sv, da, en, choices)
FIELDS: dict[str, list[tuple[str, str, bool, str, str, str, list]]] = {
    "street-light-out": [
        (
            "location",
            "location",
            True,
            "Var står lyktstolpen?",
            "Hvor står lygtepælen?",
            "Where is the lamp post?",
            [],
        ),
        (
            "pole-number",
            "text",
            False,
            "Stolpens nummer (om du ser det)",
            "Pælens nummer (hvis du kan se det)",
            "The pole's number (if you can see it)",
            [],
        ),
        (
            "dangerous",
            "yesno",
            True,
            "Är det farligt, t.ex. hängande kablar?",
            "Er det farligt, fx hængende kabler?",
            "Is it dangerous, e.g. hanging cables?",
            [],
        ),
    ],
    "missed-waste-collection": [
        (
            "bin",
            "choice",
            True,
            "Vilket kärl tömdes inte?",
            "Hvilken beholder blev ikke tømt?",
            "Which bin was not emptied?",
            _BINS,
        ),
        (
            "collection-day",
            "date",
            False,
            "Vilken dag skulle det tömmas?",
            "Hvilken dag skulle den tømmes?",
            "On which day should it have been emptied?",
            [],
        ),
    ],
}


def configure_intake(departments: dict[str, Department]) -> str:
    """Create (idempotently) the demo mailbox, form fields and Open311 client; the demo key."""
    from channels_app.models import Mailbox, Open311Client

    today = timezone.localdate()
    for code, fields in FIELDS.items():
        category = Category.objects.valid_on(today).filter(code=code).first()
        if category is None:
            continue
        for position, (field_code, kind, required, sv, da, en, choices) in enumerate(fields):
            CategoryField.objects.update_or_create(
                category=category,
                code=field_code,
                defaults={
                    "position": position,
                    "kind": kind,
                    "required": required,
                    "label_sv": sv,
                    "label_da": da,
                    "label_en": en,
                    "choices": choices,
                },
            )
    general = Category.objects.valid_on(today).filter(code="general-question").first()
    contact_center = next(d for d in departments.values() if d.is_contact_center)
    Mailbox.objects.update_or_create(
        name="kontakt",
        defaults={
            "address": "kontakt@exempelstad.se",
            "department": contact_center,
            "default_category": general,
        },
    )
    _phone_queues()
    _routing_rules(today)
    _department_heads(departments)
    _canned_responses(today)
    Open311Client.objects.update_or_create(
        name="Demo: felanmälan-appen",
        defaults={
            "description": "The municipality's fault-report app (demo)",
            "key_sha256": hashlib.sha256(OPEN311_DEMO_KEY.encode()).hexdigest(),
        },
    )
    return OPEN311_DEMO_KEY


# Demo routing rules: (position, name, channel, subject words, sender domains, category code,
# department code). They show the kinds of rule issue 4 names; edit them in the admin.
ROUTING_RULES = [
    (
        10,
        "Bygglov i ämnet",
        "email",
        "bygglov\nbygglovet\nbyggetilladelse",
        "",
        "building-permit-question",
        "",
    ),
    (20, "Vattenläcka i ämnet", "email", "vattenläcka\nläcker vatten", "", "water-leak", ""),
    (30, "Renhållningsentreprenören", "", "", "renhallning-entreprenad.se", "", "avfall"),
]


def _routing_rules(today: datetime.date) -> None:
    from cases.models import RoutingRule

    for position, name, channel, words, domains, category_code, department_code in ROUTING_RULES:
        category = (
            Category.objects.valid_on(today).filter(code=category_code).first()
            if category_code
            else None
        )
        department = (
            Department.objects.filter(code=department_code).first() if department_code else None
        )
        if category_code and category is None:
            continue
        RoutingRule.objects.update_or_create(
            name=name,
            defaults={
                "position": position,
                "channel": channel,
                "subject_keywords": words,
                "sender_domains": domains,
                "category": category,
                "department": department,
            },
        )


def _department_heads(departments: dict[str, Department]) -> None:
    """The first supervisor of each department heads it (told when a deadline is breached)."""
    from accounts.models import Role, User

    for department in departments.values():
        if department.head_id is not None:
            continue
        head = (
            User.objects.filter(department=department, role=Role.SUPERVISOR).order_by("pk").first()
        )
        if head is not None:
            department.head = head
            department.save(update_fields=["head"])


# Demo canned responses: (title, category code or "" for every case, language, text).
CANNED_RESPONSES = [
    (
        "Tack, vi återkommer",
        "",
        "sv",
        "Hej!\n\nTack för ditt meddelande. Vi har tagit emot ärendet och återkommer så snart vi "
        "kan.\n\nVänliga hälsningar\nKontaktcenter, Exempelstad kommun",
    ),
    (
        "Tak, vi vender tilbage",
        "",
        "da",
        "Hej!\n\nTak for din henvendelse. Vi har modtaget sagen og vender tilbage hurtigst "
        "muligt.\n\nVenlig hilsen\nKontaktcenter, Exempelstad kommune",
    ),
    (
        "Thank you, we will be in touch",
        "",
        "en",
        "Hello,\n\nThank you for your message. We have received your case and will get back to "
        "you as soon as we can.\n\nKind regards\nContact centre, Exempelstad municipality",
    ),
    (
        "Missad tömning: ny hämtning",
        "missed-waste-collection",
        "sv",
        "Hej!\n\nVi beklagar att ditt kärl inte blev tömt. Entreprenören hämtar inom två "
        "arbetsdagar. Ställ gärna fram kärlet med handtaget utåt senast kl. 06.\n\nVänliga "
        "hälsningar\nKontaktcenter, Exempelstad kommun",
    ),
]


def _canned_responses(today: datetime.date) -> None:
    from cases.models import CannedResponse

    for title, code, language, body in CANNED_RESPONSES:
        category = Category.objects.valid_on(today).filter(code=code).first() if code else None
        if code and category is None:
            continue
        CannedResponse.objects.update_or_create(
            title=title, language=language, defaults={"category": category, "body": body}
        )


# The demo phone menu (knappval): key, Twilio queue name, names in sv/da/en.
PHONE_QUEUES = [
    (1, "avfall", "sophämtning och återvinning", "affald og genbrug", "waste and recycling"),
    (2, "bygglov", "bygglov och byggfrågor", "byggetilladelser", "building permits"),
    (3, "skola-forskola", "förskola och skola", "daginstitution og skole", "preschool and school"),
    (4, "ovrigt", "övriga frågor", "andre spørgsmål", "other questions"),
]


def _phone_queues() -> None:
    from channels_app.models import PhoneQueue

    for digit, code, sv, da, en in PHONE_QUEUES:
        PhoneQueue.objects.update_or_create(
            code=code, defaults={"digit": digit, "name_sv": sv, "name_da": da, "name_en": en}
        )
