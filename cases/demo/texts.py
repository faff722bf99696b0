"""Swedish words for the demo history: subjects per category, descriptions, contact notes, names."""

from __future__ import annotations

import random

from cases.demo.rand import between, pick

SEARCH_WORD = "vattenläcka"

STREETS = [
    "Storgatan",
    "Kyrkogatan",
    "Björkvägen",
    "Skolgatan",
    "Åsgatan",
    "Strandvägen",
    "Östra Långgatan",
    "Järnvägsgatan",
    "Ängsvägen",
    "Parkvägen",
    "Lilla Torget",
    "Södra Allén",
    "Tallvägen",
    "Drottninggatan",
    "Sjövägen",
    "Ekbacken",
    "Hamngatan",
    "Norra Vägen",
    "Vallgatan",
    "Smedjegatan",
    "Älvgatan",
    "Klövervägen",
]
AREAS = [
    "Centrum",
    "Norrmalm",
    "Söderby",
    "Östermalm",
    "Västerhöjd",
    "Ängby",
    "Brunnsäng",
    "Hagaberg",
    "Sjöstaden",
    "Kvarnbacken",
    "Lövsta",
    "Åkerby",
]
FIRST_NAMES = [
    "Anna",
    "Erik",
    "Maria",
    "Lars",
    "Karin",
    "Anders",
    "Eva",
    "Johan",
    "Sara",
    "Per",
    "Lena",
    "Mikael",
    "Elin",
    "Nils",
    "Ingrid",
    "Oskar",
    "Maja",
    "Björn",
    "Åsa",
    "Göran",
    "Fatima",
    "Ahmed",
    "Zeynep",
    "Jonas",
    "Sofia",
    "Kerstin",
    "Mohammed",
    "Aisha",
    "Olga",
    "Mehmet",
    "Ebba",
    "Hugo",
    "Alice",
    "William",
    "Astrid",
    "Liam",
]
LAST_NAMES = [
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Larsson",
    "Olsson",
    "Persson",
    "Svensson",
    "Gustafsson",
    "Pettersson",
    "Jonsson",
    "Lindström",
    "Bergström",
    "Åberg",
    "Öberg",
    "Ekström",
    "Hassan",
    "Yilmaz",
    "Korhonen",
    "Mohamed",
    "Virtanen",
    "Kovalenko",
    "Lindholm",
    "Sandberg",
    "Holm",
]
BUSINESS_SUFFIXES = [
    "Bygg AB",
    "Fastigheter AB",
    "Måleri AB",
    "Trädgård & Anläggning AB",
    "Café AB",
    "Handel AB",
]
ASSOCIATIONS = [
    "IF",
    "Bostadsrättsförening",
    "Hembygdsförening",
    "Scoutkår",
    "Fotbollsklubb",
    "Pensionärsförening",
]

SUBJECTS: dict[str, list[str]] = {
    "missed-waste-collection": [
        "Sophämtningen uteblev",
        "Kärlet har inte tömts",
        "Matavfallet hämtades inte",
    ],
    "waste-bin-change": [
        "Vill byta till mindre kärl",
        "Byte av kärlstorlek",
        "Beställa kärl för matavfall",
    ],
    "broken-waste-bin": [
        "Trasigt lock på sopkärlet",
        "Sopkärlet har spruckit",
        "Hjul saknas på kärlet",
    ],
    "bulky-waste-pickup": [
        "Beställa hämtning av grovavfall",
        "Grovsopor att hämta",
        "Hämtning av gammal soffa",
    ],
    "recycling-station-litter": [
        "Skräpigt vid återvinningsstationen",
        "Fulla containrar vid återvinningen",
    ],
    "waste-fee-question": [
        "Fråga om avfallsavgiften",
        "Varför har avgiften höjts?",
        "Avgift för sommarhus",
    ],
    "street-light-out": [
        "Gatlampan är släckt",
        "Trasig gatubelysning",
        "Belysningen blinkar på gångvägen",
    ],
    "pothole": ["Potthål i körbanan", "Djupt hål i gatan", "Trasig asfalt vid övergångsstället"],
    "snow-clearing": ["Snöröjning saknas", "Halt på gångbanan", "Plogvall blockerar infarten"],
    "playground-damage": [
        "Trasig gunga på lekplatsen",
        "Lekplatsen behöver ses över",
        "Vasst skräp i sandlådan",
    ],
    "fallen-tree": [
        "Träd har fallit över gångvägen",
        "Stor gren ligger på vägen",
        "Träd riskerar att falla",
    ],
    "graffiti": ["Klotter på skolans vägg", "Klotter i gångtunneln", "Klotter på busskuren"],
    "parking-permit": [
        "Ansöka om boendeparkering",
        "Förnya parkeringstillstånd",
        "Fråga om boendeparkering",
    ],
    "illegally-parked-vehicle": [
        "Felparkerad bil blockerar",
        "Övergivet fordon",
        "Bil parkerad på gångbanan",
    ],
    "traffic-signal-fault": [
        "Trafikljuset fungerar inte",
        "Gångknappen är trasig",
        "Trafiksignalen blinkar gult",
    ],
    "water-sewer-fault": [
        "Vattenläcka i gatan",
        "Stopp i avloppet",
        "Det rinner vatten från brunnen",
        "Avloppet luktar",
    ],
    "water-leak": ["Vattenläcka i gatan", "Vattenläcka vid brunn", "Vatten sprutar upp ur marken"],
    "sewer-blockage": [
        "Stopp i avloppet",
        "Avloppet svämmar över",
        "Källaren översvämmad av avloppsvatten",
    ],
    "low-water-pressure": ["Lågt vattentryck", "Inget vatten i kranen", "Vattentrycket varierar"],
    "water-meter-reading": [
        "Rapportera mätarställning",
        "Fråga om vattenmätaren",
        "Byte av vattenmätare",
    ],
    "water-connection": [
        "Ansluta nybygge till VA",
        "Fråga om anslutningsavgift",
        "Ny servisledning",
    ],
    "building-permit-question": [
        "Behövs bygglov för altan?",
        "Fråga om attefallshus",
        "Bygglov för carport",
    ],
    "building-permit-status": ["Status på min bygglovsansökan", "När får jag beslut om bygglov?"],
    "unauthorised-building": ["Anmälan om olovligt byggande", "Granne bygger utan lov"],
    "noise-complaint": [
        "Buller från grannfastighet",
        "Störande ljud från fläkt",
        "Buller från byggarbetsplats",
    ],
    "food-inspection": ["Registrera livsmedelsverksamhet", "Fråga om livsmedelskontroll"],
    "damp-and-mould": [
        "Mögel i lägenheten",
        "Fuktskada i badrummet",
        "Hyresvärden åtgärdar inte fukt",
    ],
    "private-sewage-permit": ["Ansöka om enskilt avlopp", "Byta trekammarbrunn"],
    "preschool-place": ["Ansöka om förskoleplats", "Byte av förskola", "Fråga om kö till förskola"],
    "preschool-fee": [
        "Fråga om förskoleavgift",
        "Ändrad inkomst för avgift",
        "Faktura för förskola",
    ],
    "school-choice": ["Skolval inför hösten", "Byta skola", "Fråga om skolplacering"],
    "school-transport": [
        "Ansöka om skolskjuts",
        "Skolbussen kom inte",
        "Skolskjuts vid växelvis boende",
    ],
    "after-school-care": ["Plats på fritidshem", "Säga upp fritidsplats", "Lovfritids"],
    "school-meals": ["Specialkost i skolan", "Synpunkt på skolmaten"],
    "home-care-application": [
        "Ansöka om hemtjänst",
        "Utökad hemtjänst",
        "Hemtjänst efter sjukhusvistelse",
    ],
    "safety-alarm": [
        "Ansöka om trygghetslarm",
        "Trygghetslarmet fungerar inte",
        "Byte av larmklocka",
    ],
    "special-housing": ["Ansöka om särskilt boende", "Kö till särskilt boende"],
    "home-adaptation": ["Ansöka om bostadsanpassning", "Ramp vid entrén", "Ta bort trösklar"],
    "transport-service": [
        "Ansöka om färdtjänst",
        "Försenad färdtjänstresa",
        "Riksfärdtjänst till sommaren",
    ],
    "financial-assistance": [
        "Ansöka om ekonomiskt bistånd",
        "Fråga om försörjningsstöd",
        "Nödprövning",
    ],
    "child-welfare-report": ["Orosanmälan", "Oro för ett barn i grannskapet"],
    "family-counselling": ["Boka familjerådgivning", "Samtal om samarbetssvårigheter"],
    "debt-counselling": ["Hjälp med skulder", "Boka budgetrådgivning"],
    "library-card": ["Förlorat lånekort", "Förlänga lån", "Fjärrlån av bok"],
    "sports-hall-booking": ["Boka idrottshall", "Avboka träningstid", "Fråga om hallhyra"],
    "association-grant": ["Ansöka om föreningsbidrag", "Redovisning av bidrag"],
    "swimming-pool": ["Öppettider i simhallen", "Simskola för barn", "Friluftsbadets säsong"],
    "invoice-question": ["Fråga om faktura", "Felaktig faktura", "Har betalat men fått påminnelse"],
    "direct-debit": ["Anmäla autogiro", "Avsluta autogiro"],
    "payment-plan": ["Begära avbetalningsplan", "Kan jag dela upp betalningen?"],
    "general-question": [
        "Allmän fråga",
        "Vem ska jag vända mig till?",
        "Fråga om kommunens service",
    ],
    "opening-hours": ["Öppettider för medborgarkontoret", "Telefonnummer till förvaltningen"],
    "public-records-request": ["Begäran om allmän handling", "Begär ut beslut och protokoll"],
    "feedback-complaint": [
        "Klagomål på bemötande",
        "Beröm till personalen",
        "Synpunkt på handläggningstid",
    ],
}
SPAM_SUBJECTS = [
    "Grattis, du har vunnit!",
    "Billiga lån utan UC",
    "SEO för er webbplats",
    "Re: Faktura 88213",
]

DETAILS = [
    "Problemet har funnits sedan i måndags.",
    "Jag har anmält detta tidigare utan att något hänt.",
    "Flera grannar har märkt samma sak.",
    "Det är besvärligt för äldre och barnfamiljer.",
    "Jag kan skicka bilder om det behövs.",
    "Det började efter helgens regn.",
    "Jag hittade inget svar på webbplatsen.",
    "Ärendet brådskar.",
    "Jag har väntat i tre veckor på besked.",
    "Min granne har rullstol och kommer inte förbi.",
]
REQUESTS = [
    "Kan ni åtgärda detta snarast?",
    "Jag vill bli kontaktad per telefon.",
    "Tacksam för svar via e-post.",
    "När kan jag få besked?",
    "Vem handlägger mitt ärende?",
]
LEAK_SENTENCE = "Jag misstänker en vattenläcka i närheten."

SUMMARIES_FIRST = {
    "phone": "Samtal: {s}. ",
    "visit": "Besök på medborgarkontoret: {s}. ",
    "chat": "Chatt: {s}. ",
    "video": "Videomöte: {s}. ",
    "letter": "Brev registrerat: {s}. ",
}
SUMMARY_FCR = [
    "Besvarat direkt.",
    "Gav information och länk till e-tjänsten.",
    "Hjälpte till med ansökan.",
]
SUMMARY_OPEN = [
    "Dokumenterat och skickat vidare.",
    "Behöver utredas.",
    "Återkommer till invånaren.",
]
SUMMARY_CHASE = "Invånaren frågar efter status i ärendet."
SUMMARY_SUPPLEMENT = "Invånaren har skickat in kompletterande uppgifter."
SUMMARY_FEEDBACK = "Återkoppling till invånaren om beslut och åtgärd."
SUMMARY_REOPEN = "Invånaren meddelar att felet kvarstår."
BENCH_SUBJECT = "BENCH-CASE-20 Vattenläcka i gatan – Storgatan 12, Centrum"


def case_text(rng: random.Random, code: str, with_word: bool) -> tuple[str, str]:
    """A subject and a short description for a case in category ``code``."""
    topic = pick(rng, SUBJECTS[code])
    street = pick(rng, STREETS)
    number = between(rng, 1, 120)
    area = pick(rng, AREAS)
    subject = f"{topic} – {street} {number}, {area}"
    parts = [f"{topic} vid {street} {number} i {area}.", pick(rng, DETAILS)]
    if with_word and SEARCH_WORD not in topic.lower():
        parts.append(LEAK_SENTENCE)
    parts.append(pick(rng, REQUESTS))
    return subject, " ".join(parts)


def has_word(code: str) -> float:
    """Share of a category's subjects that already contain the search word."""
    topics = SUBJECTS[code]
    return sum(SEARCH_WORD in t.lower() for t in topics) / len(topics)
