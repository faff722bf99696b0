"""The public pages: the list, the form's markup (WCAG basics), languages, 404, query budget."""

from __future__ import annotations

import datetime
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cases.models import Category
from channels_app.eservice import services
from channels_app.models import InboundMessage
from tests.channels.eservice.conftest import JPEG_BYTES, add_field, upload
from tests.channels.eservice.test_form import TOKEN, form_data, post
from tests.factories import CategoryFactory, DepartmentFactory
from tests.municipality import Org

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_categories() -> None:
    services.category_cache_clear()


class Markup(HTMLParser):
    """Collects the form controls, labels, ids and aria references of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()
        self.ids: set[str] = set()
        self.fieldsets: list[dict[str, str | None]] = []
        self.legends = 0
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if a.get("id"):
            self.ids.add(a["id"] or "")
        if tag in ("input", "textarea", "select") and a.get("type") not in ("hidden", "submit"):
            self.controls.append({"tag": tag, **a})
        if tag == "label" and a.get("for"):
            self.label_for.add(a["for"] or "")
        if tag == "fieldset":
            self.fieldsets.append(a)
        if tag == "legend":
            self.legends += 1


def parse(html: str) -> Markup:
    markup = Markup()
    markup.feed(html)
    return markup


# --- The list ------------------------------------------------------------------------------------
def test_the_list_groups_categories_by_department_in_the_chosen_language(
    client: Client, category: Category, org: Org
) -> None:
    expired = CategoryFactory(
        code="old-form",
        department=org.waste,
        name_sv="Gammalt formulär",
        valid_to=datetime.date(2020, 1, 1),
    )
    response = client.get("/e/?lang=sv")
    body = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="sv">' in body
    assert '<h2 id="dept-waste">Avfall</h2>' in body
    assert 'href="/e/recycling/?lang=sv">Full återvinningsstation</a>' in body
    assert 'href="/e/missed-bin/?lang=sv"' in body
    assert expired.name_sv not in body
    assert body.index("Avfall") > body.index("<h1>E-tjänster</h1>")
    english = client.get("/e/?lang=en").content.decode()
    assert "Overflowing recycling station" in english and '<html lang="en">' in english


def test_the_list_is_one_query(
    client: Client, category: Category, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    DepartmentFactory.create_batch(3)
    with django_assert_max_num_queries(1):
        assert client.get("/e/").status_code == 200


def test_every_page_has_a_language_switcher(client: Client, category: Category) -> None:
    body = client.get("/e/?lang=da").content.decode()
    assert '<nav class="lang-switch" aria-label="Sprog">' in body
    assert 'href="/e/?lang=sv" lang="sv" hreflang="sv">Svenska</a>' in body
    assert 'href="/e/?lang=da" lang="da" hreflang="da" aria-current="true">Dansk</a>' in body
    # On a form the languages are buttons of the form, so that nothing typed is lost.
    body = client.get("/e/recycling/?lang=da").content.decode()
    assert '<nav class="lang-switch" aria-label="Sprog">' in body
    assert (
        '<button type="submit" class="link" form="eservice-form" name="switch_lang" value="sv" lang="sv">'
        "Svenska</button>" in body
    )
    assert (
        '<button type="submit" class="link" form="eservice-form" name="switch_lang" value="da" lang="da" '
        'aria-current="true">Dansk</button>' in body
    )


def test_the_browser_language_is_used_without_a_parameter(
    client: Client, category: Category
) -> None:
    body = client.get("/e/recycling/", HTTP_ACCEPT_LANGUAGE="da").content.decode()
    assert '<html lang="da">' in body and "Fuld genbrugsstation" in body


# --- The form -------------------------------------------------------------------------------------
def test_the_form_in_danish(client: Client, category: Category) -> None:
    response = client.get("/e/recycling/?lang=da")
    body = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Language"] == "da"
    assert "<h1>Fuld genbrugsstation</h1>" in body
    assert "Beskriv din henvendelse" in body
    assert "Antal sække (valgfrit)" in body
    assert "Plastik" in body and "Papir" in body
    assert "Hvordan vil du have, at vi kontakter dig?" in body
    assert '<input type="hidden" name="lang" value="da">' in body
    assert 'action="/e/recycling/?lang=da"' in body
    assert 'enctype="multipart/form-data"' in body


def test_a_danish_submission_explains_errors_in_danish(client: Client, category: Category) -> None:
    body = post(
        client, form_data(description="", **{"f-bags": "mange"}), lang="da"
    ).content.decode()
    assert "Der er et problem" in body
    assert "Beskriv din henvendelse." in body
    assert "Angiv et tal, for eksempel 12 eller 3,5." in body
    assert "<title>Fejl: Fuld genbrugsstation" in body


def test_every_form_control_has_a_label(client: Client, category: Category) -> None:
    markup = parse(client.get("/e/recycling/?lang=sv").content.decode())
    assert len(markup.controls) > 15
    unlabelled = [c for c in markup.controls if c.get("id") not in markup.label_for]
    assert unlabelled == []
    assert not any(c.get("placeholder") for c in markup.controls)  # no placeholder-only labels


def test_choice_groups_are_fieldsets_with_legends(client: Client, category: Category) -> None:
    markup = parse(client.get("/e/recycling/?lang=sv").content.decode())
    # material, others, blocked, and how to reach you
    assert len(markup.fieldsets) == 4
    assert markup.legends == 4


def test_the_honeypot_is_hidden_from_people_and_assistive_technology(
    client: Client, category: Category
) -> None:
    body = client.get("/e/recycling/").content.decode()
    markup = parse(body)
    honeypot = next(c for c in markup.controls if c.get("name") == "website")
    assert honeypot["tabindex"] == "-1" and honeypot["autocomplete"] == "off"
    assert '<div class="hp" aria-hidden="true">' in body
    assert '<label for="id_website">' in body


def test_each_form_carries_a_fresh_random_token(client: Client, category: Category) -> None:
    import re

    tokens = {
        re.search(
            r'name="token" value="([^"]+)"', client.get("/e/recycling/").content.decode()
        ).group(1)  # type: ignore[union-attr]
        for _ in range(3)
    }
    assert len(tokens) == 3 and all(len(t) >= 32 for t in tokens)


def test_errors_are_tied_to_their_fields(client: Client, category: Category) -> None:
    add_field(category, "kind", "choice", required=True, choices=[{"key": "a", "name_sv": "A"}])
    html = post(client, form_data(description="", **{"f-where": "95,10"})).content.decode()
    markup = parse(html)
    invalid = [c for c in markup.controls if c.get("aria-invalid") == "true"]
    assert {c["name"] for c in invalid} == {"description", "f-where", "f-kind"}
    for control in invalid:
        described = (control.get("aria-describedby") or "").split()
        if control.get("type") == "radio":  # the group's fieldset carries the description
            fieldset = next(f for f in markup.fieldsets if f["id"] == "id_f-kind")
            described = (fieldset.get("aria-describedby") or "").split()
        assert any(d.endswith("-error") for d in described), control
        assert all(d in markup.ids for d in described), control
    summary = next(a for t, a in markup.tags if t == "div" and a.get("class") == "error-summary")
    assert summary["role"] == "alert" and summary["tabindex"] == "-1"
    assert "autofocus" in summary
    # The summary links to the first option of a group.
    assert 'href="#id_f-kind-0"' in html


def test_an_unknown_category_is_a_404_in_the_residents_language(
    client: Client, category: Category
) -> None:
    response = client.get("/e/no-such-form/?lang=da")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Siden blev ikke fundet" in body
    assert 'href="/e/?lang=da"' in body
    assert client.post("/e/no-such-form/?lang=sv", form_data()).status_code == 404
    assert not InboundMessage.objects.exists()


def test_an_expired_category_is_a_404_and_its_successor_answers(client: Client, org: Org) -> None:
    CategoryFactory(code="permit", department=org.building, valid_to=datetime.date(2020, 12, 31))
    assert client.get("/e/permit/?lang=sv").status_code == 404
    CategoryFactory(code="permit", department=org.building, valid_from=datetime.date(2021, 1, 1))
    services.category_cache_clear()
    assert client.get("/e/permit/?lang=sv").status_code == 200


def test_a_category_not_yet_valid_is_a_404(client: Client, org: Org) -> None:
    CategoryFactory(code="future", department=org.building, valid_from=datetime.date(2100, 1, 1))
    assert client.get("/e/future/").status_code == 404


# --- Limits through the form ----------------------------------------------------------------------
def test_too_many_files_are_refused_with_a_clear_message(
    client: Client, category: Category, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.INBOUND_MAX_ATTACHMENTS = 2
    files = [upload(f"bild{i}.jpg", JPEG_BYTES) for i in range(3)]
    body = post(client, form_data(**{"f-photos": files})).content.decode()
    assert "Du kan skicka högst 2 filer; du valde 3." in body
    assert not InboundMessage.objects.exists()


def test_a_file_over_the_size_limit_is_refused_naming_it(
    client: Client, category: Category, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.INBOUND_ATTACHMENT_MAX_BYTES = 100
    body = post(
        client, form_data(**{"f-photos": [upload("stor.jpg", JPEG_BYTES * 3)]})
    ).content.decode()
    assert "”stor.jpg” är" in body and "en fil får vara högst 100" in body
    assert not InboundMessage.objects.exists()


# --- The receipt ----------------------------------------------------------------------------------
def test_the_receipt_page_says_what_happens_next_and_how_long_it_takes(
    client: Client, category: Category, org: Org
) -> None:
    from tests.factories import AgreementFactory

    AgreementFactory(department=org.waste, categories=[category], resolve_within_hours=20)
    location = post(client, form_data())["Location"]
    response = client.get(location)
    body = response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    assert '<meta name="robots" content="noindex, nofollow">' in body
    assert "Vad händer nu" in body
    assert "inom 3 arbetsdagar" in body
    assert "Vi har också skickat ett kvitto till din e-postadress." in body


def test_the_receipt_follows_the_language_parameter(client: Client, category: Category) -> None:
    post(client, form_data())
    body = client.get(f"/e/recycling/receipt/{TOKEN}/?lang=en").content.decode()
    assert "We have received your errand" in body and "Reference" in body


# --- The query budget -----------------------------------------------------------------------------
DATA_STATEMENTS_NEW_RESIDENT = 14
DATA_STATEMENTS_KNOWN_RESIDENT = 12


def _data_statements(ctx: CaptureQueriesContext) -> list[str]:
    """What the database works on: savepoints and PostgreSQL advisory locks left out (the
    savepoints of the outermost blocks are BEGIN/COMMIT in production, not in a test)."""
    return [
        q["sql"]
        for q in ctx.captured_queries
        if not q["sql"].startswith(
            ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "SELECT pg_advisory")
        )
    ]


def test_a_submission_that_creates_a_case_stays_within_its_query_budget(
    client: Client, category: Category, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    """Record, claim, read back, resident (find + create with address), contact center, case +
    reference, two events, contact, receipt row, mark processed. The category is cached."""
    client.get("/e/recycling/")  # the form was shown: the category is in the cache
    locks = 1 if connection.vendor == "postgresql" else 0
    with (
        django_assert_max_num_queries(DATA_STATEMENTS_NEW_RESIDENT + 8 + locks),
        CaptureQueriesContext(connection) as ctx,
    ):
        assert post(client, form_data(token="n" * 20)).status_code == 303
    assert len(_data_statements(ctx)) <= DATA_STATEMENTS_NEW_RESIDENT

    with CaptureQueriesContext(connection) as ctx:
        assert post(client, form_data(token="k" * 20, description="Igen.")).status_code == 303
    assert len(_data_statements(ctx)) <= DATA_STATEMENTS_KNOWN_RESIDENT


def test_a_double_click_costs_two_queries(client: Client, category: Category) -> None:
    client.get("/e/recycling/")
    post(client, form_data())
    with CaptureQueriesContext(connection) as ctx:
        post(client, form_data())
    assert len(_data_statements(ctx)) == 2, [
        s[:90] for s in _data_statements(ctx)
    ]  # the refused insert and reading the first record


def test_the_form_is_never_kept_in_a_shared_cache(client: Client, category: Category) -> None:
    assert client.get("/e/recycling/")["Cache-Control"] == "private, no-cache"


# --- Switching language on the form -------------------------------------------------------------
def _value(markup: Markup, name: str) -> str | None:
    control = next(a for t, a in markup.tags if t in ("input",) and a.get("name") == name)
    return control.get("value")


def test_switching_language_on_a_page_with_errors_keeps_the_input_and_translates_the_errors(
    client: Client, category: Category
) -> None:
    # Given a resident sent the Swedish form with two mistakes
    typed = form_data(
        description="",
        name="Åsa Ström",
        **{"f-bags": "mange", "f-station": "Storgatan 5", "f-material": "plastic"},
    )
    page = post(client, typed, lang="sv").content.decode()
    assert "Något behöver rättas" in page
    assert '<input type="hidden" name="errors_shown" value="1">' in page

    # When they press "Dansk" (a button of the same form: the browser posts what they typed)
    response = post(client, {**typed, "errors_shown": "1", "switch_lang": "da"}, lang="sv")

    # Then the same form comes back in Danish, with everything they typed and the errors in Danish
    body = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Language"] == "da"
    assert '<html lang="da">' in body
    assert "Der er et problem" in body
    assert "Beskriv din henvendelse." in body
    assert "Angiv et tal, for eksempel 12 eller 3,5." in body
    markup = parse(body)
    assert _value(markup, "name") == "Åsa Ström"
    assert _value(markup, "f-station") == "Storgatan 5"
    assert _value(markup, "f-bags") == "mange"
    assert _value(markup, "token") == TOKEN  # still the same submission
    assert _value(markup, "lang") == "da"
    assert 'action="/e/recycling/?lang=da"' in body
    plastic = next(a for t, a in markup.tags if t == "input" and a.get("value") == "plastic")
    assert "checked" in plastic
    # and nothing was sent
    assert not InboundMessage.objects.exists()


def test_switching_language_before_sending_keeps_the_text_without_errors(
    client: Client, category: Category
) -> None:
    # Given a resident has started typing on a fresh Swedish form
    typed = form_data(description="Containern är full", email="", contact_preference="")

    # When they press "English"
    response = post(client, {**typed, "switch_lang": "en", "f-bags": ""}, lang="sv")

    # Then the form is in English with their text, and no errors (they have sent nothing)
    body = response.content.decode()
    assert response.status_code == 200 and '<html lang="en">' in body
    assert ">Containern är full</textarea>" in body
    assert "There is a problem" not in body and 'aria-invalid="true"' not in body
    assert not InboundMessage.objects.exists()


def test_a_file_chosen_before_switching_language_is_asked_for_again(
    client: Client, category: Category
) -> None:
    typed = form_data(**{"switch_lang": "en", "f-photos": upload("IMG_1.jpg", JPEG_BYTES)})
    body = post(client, typed, lang="sv").content.decode()
    assert "For your safety the files were not kept; choose them again." in body
    assert not InboundMessage.objects.exists()


def test_enter_in_a_field_still_sends_the_form_not_a_language(
    client: Client, category: Category
) -> None:
    # Pressing Enter in a text field "clicks" the form's first submit button in document
    # order; the language buttons come before the form, so the first one must be a Send.
    for body in (
        client.get("/e/recycling/?lang=sv").content.decode(),
        post(client, form_data(description="")).content.decode(),
    ):
        markup = parse(body)
        buttons = [a for t, a in markup.tags if t == "button" and a.get("type") == "submit"]
        first = buttons[0]
        assert first.get("form") == "eservice-form" and first.get("name") is None
        # hidden from sight and from assistive technology, and not in the tab order
        assert first.get("class") == "visually-hidden"
        assert first.get("aria-hidden") == "true" and first.get("tabindex") == "-1"
        languages = [b for b in buttons if b.get("name") == "switch_lang"]
        assert [b["value"] for b in languages] == ["sv", "da", "en"]
        # every language button is reachable by keyboard and says its language in that language
        assert all(b.get("tabindex") is None and b.get("lang") == b["value"] for b in languages)
        assert buttons[-1].get("class") == "primary"  # the visible Send, in the form


def test_a_refused_files_hostile_name_is_shown_as_text(client: Client, category: Category) -> None:
    name = '<img src=x onerror="alert(1)">.pdf'
    data = form_data()
    data["f-photos"] = upload(name, b"MZ\x90\x00" + b"\x00" * 40)
    body = post(client, data).content.decode()
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;.pdf" in body
    assert "<img src=x" not in body and 'onerror="alert(1)">' not in body
