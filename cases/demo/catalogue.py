"""The static data of the demo municipality "Exempelstad kommun".

Plain data only (no ORM): ``configure`` writes it, ``generator`` reads the weights and
seasons. Channel and case-type values are the stored codes of ``cases.choices``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

CONTACT_CENTER = "kc"
MUNICIPALITY = "Exempelstad kommun"

# --- Business calendars ---------------------------------------------------------------------
# (name, country, time zone, eves closed, {weekday: (opens, closes)})
OFFICE_CALENDAR = "Exempelstad"
PHONE_CALENDAR = "Exempelstad telefon och chatt"
DANISH_CALENDAR = "Eksempelby Kommune (DK)"

_MON_THU = dict.fromkeys(range(4), ("08:00", "16:30"))
CALENDARS: list[tuple[str, str, str, bool, dict[int, tuple[str, str]]]] = [
    (OFFICE_CALENDAR, "SE", "Europe/Stockholm", True, {**_MON_THU, 4: ("08:00", "15:00")}),
    (PHONE_CALENDAR, "SE", "Europe/Stockholm", True, dict.fromkeys(range(5), ("08:00", "17:00"))),
    (
        DANISH_CALENDAR,
        "DK",
        "Europe/Copenhagen",
        True,
        {
            0: ("10:00", "15:00"),
            1: ("10:00", "15:00"),
            2: ("10:00", "15:00"),
            3: ("10:00", "17:30"),
            4: ("10:00", "13:00"),
        },
    ),
]
# The Friday after Ascension Day (klämdag): the service office is open in the morning only.
BRIDGE_DAY_HOURS = ("08:00", "12:00")
BRIDGE_DAY_NOTE = "Klämdag efter Kristi himmelsfärd: öppet 08–12"


# --- Departments ----------------------------------------------------------------------------
@dataclass(frozen=True)
class AgreementSpec:
    """The contact center's service agreement with one department."""

    contact_center_levels: list[int]
    accept_within_hours: int
    resolve_within_hours: int


@dataclass(frozen=True)
class DepartmentSpec:
    code: str
    sv: str
    da: str
    en: str
    parent: str | None = None
    agreement: AgreementSpec | None = None
    calendar: str = OFFICE_CALENDAR


_STD = AgreementSpec([1, 2], 8, 40)
_WIDE = AgreementSpec([1, 2, 3], 8, 40)
DEPARTMENTS: list[DepartmentSpec] = [
    DepartmentSpec(
        CONTACT_CENTER, "Kontaktcenter", "Kontaktcenter", "Contact center", calendar=PHONE_CALENDAR
    ),
    DepartmentSpec(
        "miljo-bygg", "Miljö och bygg", "Miljø og byggeri", "Environment and building", None, _STD
    ),
    DepartmentSpec(
        "bygglov",
        "Bygglovsenheten",
        "Byggesagsenheden",
        "Building permits unit",
        "miljo-bygg",
        AgreementSpec([1, 2], 16, 120),
    ),
    DepartmentSpec("gata-park", "Gata och park", "Vej og park", "Streets and parks", None, _WIDE),
    DepartmentSpec(
        "va",
        "Vatten och avlopp",
        "Vand og spildevand",
        "Water and sewerage",
        None,
        AgreementSpec([1, 2], 4, 24),
    ),
    DepartmentSpec(
        "avfall", "Avfall och återvinning", "Affald og genbrug", "Waste and recycling", None, _WIDE
    ),
    DepartmentSpec(
        "utbildning", "Förskola och skola", "Dagtilbud og skole", "Preschool and school", None, _STD
    ),
    DepartmentSpec(
        "forskola",
        "Förskoleenheten",
        "Dagtilbudsafdelingen",
        "Preschool unit",
        "utbildning",
        AgreementSpec([1, 2, 3], 8, 40),
    ),
    DepartmentSpec(
        "vard-omsorg",
        "Vård och omsorg",
        "Sundhed og omsorg",
        "Health and social care",
        None,
        AgreementSpec([1, 2], 8, 80),
    ),
    DepartmentSpec(
        "social",
        "Socialtjänst",
        "Socialforvaltningen",
        "Social services",
        None,
        AgreementSpec([1], 8, 80),
    ),
    DepartmentSpec(
        "kultur-fritid", "Kultur och fritid", "Kultur og fritid", "Culture and leisure", None, _WIDE
    ),
    DepartmentSpec(
        "ekonomi", "Ekonomi och avgifter", "Økonomi og opkrævning", "Finance and fees", None, _WIDE
    ),
]

# (position, deadline, at percent, notify): the same ladder in every agreement.
ESCALATION_LADDER: list[tuple[int, str, int, str]] = [
    (1, "resolve", 75, "assignee"),
    (2, "resolve", 100, "department_supervisor"),
    (3, "resolve", 150, "department_director"),
    (4, "resolve", 200, "contact_center_supervisor"),
    (5, "accept", 100, "department_supervisor"),
]


# --- Categories -----------------------------------------------------------------------------
# Month factors (January first) that shape when a category is asked about.
SEASONS: dict[str, list[float]] = {
    "flat": [1.0] * 12,
    "winter": [3.0, 2.5, 1.2, 0.3, 0.05, 0.02, 0.02, 0.02, 0.05, 0.3, 1.5, 2.5],
    "summer": [0.5, 0.5, 0.7, 1.0, 1.4, 1.7, 1.6, 1.5, 1.1, 0.8, 0.6, 0.5],
    "spring": [2.0, 2.2, 1.6, 1.0, 0.8, 0.8, 0.5, 1.0, 1.0, 0.8, 0.7, 0.6],
    "autumn": [1.0, 0.8, 0.7, 0.7, 0.8, 0.9, 1.0, 1.0, 1.2, 1.5, 1.4, 1.1],
    "billing": [1.4, 1.0, 0.9, 1.3, 1.0, 0.8, 0.7, 1.0, 0.9, 1.3, 1.0, 0.9],
}


@dataclass(frozen=True)
class CategorySpec:
    """One category; ``renamed_from`` gives the names of its previous version, if any.

    ``era`` says when it exists: "always", "before" (ends the day before the taxonomy change)
    or "after" (starts on it). ``weight`` is its relative volume, ``season`` a key of SEASONS.
    """

    code: str
    sv: str
    da: str
    en: str
    department: str
    case_type: str
    level: int
    weight: float
    season: str = "flat"
    sensitive: bool = False
    preferred: list[str] = field(default_factory=lambda: ["eservice"])
    supplementary: list[str] = field(default_factory=lambda: ["phone", "email"])
    renamed_from: tuple[str, str, str] | None = None
    era: str = "always"
    successors: tuple[str, ...] = ()


def _c(
    code: str,
    sv: str,
    da: str,
    en: str,
    dept: str,
    ctype: str,
    level: int,
    weight: float,
    **kw: object,
) -> CategorySpec:
    return CategorySpec(code, sv, da, en, dept, ctype, level, weight, **kw)  # type: ignore[arg-type]


R, L, ONGOING, X = "recurring", "life_event", "ongoing", "other"
_SENS = {"sensitive": True, "preferred": ["phone", "visit"], "supplementary": ["letter", "video"]}
_PHONE = {"preferred": ["phone"], "supplementary": ["eservice", "email"]}

# fmt: off
CATEGORIES: list[CategorySpec] = [
    # Avfall och återvinning
    _c("missed-waste-collection", "Utebliven sophämtning", "Manglende affaldsafhentning",
       "Missed waste collection", "avfall", R, 2, 60, season="summer"),
    _c("waste-bin-change", "Byte av kärlstorlek", "Skift af affaldsbeholder",
       "Change of waste bin size", "avfall", R, 3, 22),
    _c("broken-waste-bin", "Trasigt sopkärl", "Ødelagt affaldsbeholder", "Broken waste bin",
       "avfall", R, 2, 18),
    _c("bulky-waste-pickup", "Hämtning av grovavfall", "Afhentning af storskrald",
       "Bulky waste pick-up", "avfall", R, 3, 16, season="summer"),
    _c("recycling-station-litter", "Nedskräpning vid återvinningsstation",
       "Henkastet affald ved genbrugsstation", "Litter at a recycling station", "avfall", R, 2, 8,
       season="summer"),
    _c("waste-fee-question", "Fråga om avfallsavgift", "Spørgsmål om affaldsgebyr",
       "Question about the waste fee", "avfall", R, 1, 20, season="billing"),
    # Gata och park
    _c("street-light-out", "Trasig gatubelysning", "Defekt gadelys", "Street light out",
       "gata-park", R, 2, 30, season="winter"),
    _c("pothole", "Potthål i gata", "Hul i vejen", "Pothole in the road", "gata-park", R, 2, 24,
       season="spring"),
    _c("snow-clearing", "Snöröjning och halkbekämpning", "Snerydning og glatførebekæmpelse",
       "Snow clearing and gritting", "gata-park", R, 2, 30, season="winter", **_PHONE,
       renamed_from=("Snöröjning", "Snerydning", "Snow clearing")),
    _c("playground-damage", "Trasig lekplats", "Skader på legeplads", "Damaged playground",
       "gata-park", R, 2, 7, season="summer"),
    _c("fallen-tree", "Nedfallet träd", "Væltet træ", "Fallen tree", "gata-park", R, 2, 8,
       season="autumn"),
    _c("graffiti", "Klotter", "Graffiti", "Graffiti", "gata-park", R, 2, 6),
    _c("parking-permit", "Boendeparkering", "Beboerparkering", "Residents' parking permit",
       "gata-park", L, 3, 14),
    _c("illegally-parked-vehicle", "Felparkerat fordon", "Ulovligt parkeret køretøj",
       "Illegally parked vehicle", "gata-park", R, 2, 12, **_PHONE),
    _c("traffic-signal-fault", "Fel på trafiksignal", "Fejl i lyskryds", "Traffic signal fault",
       "gata-park", R, 2, 4, **_PHONE),
    # Vatten och avlopp (one category split in two at the taxonomy change)
    _c("water-sewer-fault", "Felanmälan vatten och avlopp", "Fejlmelding vand og kloak",
       "Water and sewer fault report", "va", R, 2, 30, **_PHONE, era="before",
       successors=("water-leak", "sewer-blockage")),
    _c("water-leak", "Vattenläcka", "Vandlæk", "Water leak", "va", R, 2, 18, **_PHONE, era="after"),
    _c("sewer-blockage", "Stopp i avlopp", "Tilstoppet kloak", "Blocked sewer", "va", R, 2, 12,
       **_PHONE, era="after"),
    _c("low-water-pressure", "Lågt vattentryck", "Lavt vandtryk", "Low water pressure", "va", R, 2,
       6),
    _c("water-meter-reading", "Avläsning av vattenmätare", "Aflæsning af vandmåler",
       "Water meter reading", "va", R, 1, 14, season="billing"),
    _c("water-connection", "Ny anslutning till vatten och avlopp",
       "Ny tilslutning til vand og kloak", "New water and sewer connection", "va", L, 4, 3),
    # Miljö och bygg, with the building permits unit
    _c("building-permit-question", "Fråga om bygglov", "Spørgsmål om byggetilladelse",
       "Building permit question", "bygglov", L, 1, 26, season="spring"),
    _c("building-permit-status", "Status på bygglovsärende", "Status på byggesag",
       "Status of a building permit case", "bygglov", ONGOING, 1, 12),
    _c("unauthorised-building", "Anmälan om olovligt byggande", "Anmeldelse af ulovligt byggeri",
       "Report of unauthorised building", "bygglov", X, 4, 4),
    _c("noise-complaint", "Klagomål på buller", "Klage over støj", "Noise complaint", "miljo-bygg",
       X, 4, 7),
    _c("food-inspection", "Livsmedelskontroll", "Fødevarekontrol", "Food safety inspection",
       "miljo-bygg", L, 3, 4),
    _c("damp-and-mould", "Fukt och mögel i bostad", "Fugt og skimmel i bolig",
       "Damp and mould in a home", "miljo-bygg", X, 4, 4, season="autumn"),
    _c("private-sewage-permit", "Tillstånd för enskilt avlopp",
       "Tilladelse til privat spildevandsanlæg", "Permit for a private sewage system", "miljo-bygg",
       L, 4, 3),
    # Förskola och skola, with the preschool unit
    _c("preschool-place", "Förskoleplats", "Plads i dagtilbud", "Preschool place", "forskola", L, 3,
       30, season="spring"),
    _c("preschool-fee", "Avgift för förskola", "Forældrebetaling for dagtilbud", "Preschool fee",
       "forskola", R, 2, 12, season="billing"),
    _c("school-choice", "Skolval", "Skolevalg", "School choice", "utbildning", L, 3, 14,
       season="spring"),
    _c("school-transport", "Skolskjuts", "Skolekørsel", "School transport", "utbildning", R, 3, 10,
       season="autumn"),
    _c("after-school-care", "Fritidshem", "Skolefritidsordning", "After-school care", "utbildning",
       L, 3, 8),
    _c("school-meals", "Skolmåltider", "Skolemad", "School meals", "utbildning", R, 1, 5),
    # Vård och omsorg
    _c("home-care-application", "Ansökan om hemtjänst", "Ansøgning om hjemmehjælp",
       "Home care application", "vard-omsorg", L, 4, 10, **_SENS),
    _c("safety-alarm", "Digitalt trygghetslarm", "Digitalt nødkald",
       "Digital personal safety alarm", "vard-omsorg", R, 3, 7, **_PHONE,
       renamed_from=("Trygghetslarm", "Nødkald", "Personal safety alarm")),
    _c("special-housing", "Särskilt boende", "Plejebolig", "Residential care home", "vard-omsorg",
       L, 4, 4, **_SENS),
    _c("home-adaptation", "Bostadsanpassning", "Boligændring", "Home adaptation grant",
       "vard-omsorg", L, 4, 5),
    _c("transport-service", "Färdtjänst", "Handicapkørsel", "Mobility transport service",
       "vard-omsorg", R, 3, 12, **_PHONE),
    # Socialtjänst (all sensitive)
    _c("financial-assistance", "Ekonomiskt bistånd", "Økonomisk hjælp", "Financial assistance",
       "social", L, 4, 14, **_SENS),
    _c("child-welfare-report", "Orosanmälan om barn", "Underretning om et barn",
       "Report of concern for a child", "social", X, 4, 5, **_SENS),
    _c("family-counselling", "Familjerådgivning", "Familierådgivning", "Family counselling",
       "social", L, 2, 4, **_SENS),
    _c("debt-counselling", "Budget- och skuldrådgivning", "Gældsrådgivning",
       "Budget and debt counselling", "social", L, 2, 4, **_SENS),
    # Kultur och fritid
    _c("library-card", "Lånekort och lån på biblioteket", "Lånerkort og lån på biblioteket",
       "Library card and loans", "kultur-fritid", R, 1, 16),
    _c("sports-hall-booking", "Bokning av idrottshall", "Booking af idrætshal",
       "Booking a sports hall", "kultur-fritid", R, 3, 10, season="autumn"),
    _c("association-grant", "Föreningsbidrag", "Foreningstilskud", "Grant for associations",
       "kultur-fritid", L, 3, 4, season="spring"),
    _c("swimming-pool", "Simhall och friluftsbad", "Svømmehal og friluftsbad",
       "Swimming pool and outdoor baths", "kultur-fritid", R, 1, 8, season="summer"),
    # Ekonomi och avgifter
    _c("invoice-question", "Fråga om faktura", "Spørgsmål om faktura", "Question about an invoice",
       "ekonomi", R, 2, 26, season="billing"),
    _c("direct-debit", "Autogiro", "Betalingsservice", "Direct debit", "ekonomi", R, 3, 10,
       season="billing"),
    _c("payment-plan", "Avbetalningsplan", "Afdragsordning", "Payment plan", "ekonomi", R, 3, 6),
    # Kontaktcenter itself
    _c("general-question", "Allmän fråga", "Generelt spørgsmål", "General question", "kc", X, 1, 50,
       preferred=["phone", "chat"], supplementary=["email", "visit"]),
    _c("opening-hours", "Öppettider och kontaktuppgifter", "Åbningstider og kontaktoplysninger",
       "Opening hours and contact details", "kc", R, 1, 26, preferred=["chat"],
       supplementary=["phone"]),
    _c("public-records-request", "Begäran om allmän handling", "Anmodning om aktindsigt",
       "Request for public records", "kc", X, 3, 6, preferred=["email", "eservice"],
       supplementary=["letter"]),
    _c("feedback-complaint", "Synpunkter och klagomål", "Ris og ros", "Feedback and complaints",
       "kc", X, 2, 14, preferred=["eservice"], supplementary=["email", "phone", "letter"]),
]
# fmt: on


def taxonomy_change_date(first_day: datetime.date) -> datetime.date:
    """The day the renamed and split categories start: 1 January after the first seeded day."""
    return datetime.date(first_day.year + 1, 1, 1)


# --- Staff ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class DemoUser:
    """A login for the demo; its password is ``demo-<username>`` (never use these outside a demo)."""

    username: str
    role: str
    department: str | None
    first_name: str
    last_name: str
    superuser: bool = False


DEMO_USERS: list[DemoUser] = [
    DemoUser("agent", "agent", CONTACT_CENTER, "Sara", "Lindberg"),
    DemoUser("supervisor", "supervisor", CONTACT_CENTER, "Mats", "Holmgren"),
    DemoUser("handler", "handler", "avfall", "Ali", "Yilmaz"),
    DemoUser("handler2", "handler", "miljo-bygg", "Karin", "Ekström"),
    DemoUser("depsup", "supervisor", "avfall", "Birgitta", "Sandberg"),
    DemoUser("comms", "communications", None, "Elin", "Fors"),
    DemoUser("admin", "admin", None, "Admin", "Exempelstad", superuser=True),
]

# Further staff the history is spread over; they have no usable password.
ROSTER_AGENTS = [
    ("Anna", "Lindqvist"),
    ("Johan", "Berg"),
    ("Fatima", "Hassan"),
    ("Erik", "Nyström"),
    ("Maja", "Öberg"),
    ("Oskar", "Wikström"),
    ("Leila", "Karimi"),
    ("Per", "Dahl"),
    ("Hanna", "Åberg"),
    ("Nils", "Strand"),
]
ROSTER_HANDLERS = {
    "miljo-bygg": [("Gunnar", "Lund")],
    "bygglov": [("Sofia", "Engström"), ("Henrik", "Blom")],
    "gata-park": [("Jonas", "Sjöberg"), ("Ida", "Hedlund")],
    "va": [("Robert", "Falk")],
    "avfall": [("Emma", "Viklund")],
    "utbildning": [("Linnea", "Forsberg")],
    "forskola": [("Amira", "Haddad")],
    "vard-omsorg": [("Kerstin", "Bergman"), ("Mohammed", "Ali")],
    "social": [("Eva", "Lindgren"), ("Daniel", "Norberg")],
    "kultur-fritid": [("Julia", "Sundberg")],
    "ekonomi": [("Lars", "Håkansson")],
}
