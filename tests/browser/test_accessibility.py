"""axe-core on every page of the agent's workspace and the public e-service forms, in Swedish
and Danish, error states included: no serious or critical WCAG 2.1 A/AA violation. Plus the
landmarks and keyboard paths that axe cannot judge on its own."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from cases.models import Category, Notification
from channels_app.eservice import services
from tests.browser.axe import assert_accessible
from tests.browser.conftest import tab_to
from tests.channels.eservice.conftest import category  # noqa: F401 (a fixture)
from tests.municipality import Org

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = ["sv", "da"]


def signed_in_page(new_page, live_server, user, lang: str):  # type: ignore[no-untyped-def]
    """A page whose browser holds ``user``'s session (the keyboard login has its own test)."""
    client = Client()
    client.force_login(user)
    page = new_page(lang)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return page


def assert_landmarks(page) -> None:  # type: ignore[no-untyped-def]
    """One banner, one main, one h1; every navigation has a name."""
    assert page.locator("header.site-header").count() == 1
    assert page.get_by_role("banner").count() == 1
    assert page.get_by_role("main").count() == 1
    assert page.locator("h1").count() == 1
    for nav in page.get_by_role("navigation").all():
        assert nav.get_attribute("aria-label"), nav.evaluate("e => e.outerHTML.slice(0, 120)")


FOCUS_STYLE_JS = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const s = getComputedStyle(e);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
  const shadow = s.boxShadow && s.boxShadow !== 'none';
  return {what: e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' ' +
          (e.innerText || e.value || '').trim().slice(0, 30), visible: outline || shadow};
}"""


def assert_focus_always_visible(page, *, limit: int = 80) -> int:  # type: ignore[no-untyped-def]
    """Tab through the whole page: every element that takes the focus shows a focus ring
    (WCAG 2.4.7). Returns how many focus stops there were."""
    seen: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        state = page.evaluate(FOCUS_STYLE_JS)
        if state is None:
            continue  # the focus is in the browser's own UI between two rounds
        if state["what"] in seen[:1]:
            break  # came round again
        if seen and state["what"] == seen[-1]:
            continue  # inside a native control (a date input's day, month, year, picker)
        assert state["visible"], f"no visible focus on {state['what']} (after {seen})"
        seen.append(state["what"])
    assert seen, "nothing on the page takes the focus"
    return len(seen)


# --- Staff pages ---------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_login_page_is_accessible(new_page, screenshot, lang: str) -> None:  # type: ignore[no-untyped-def]
    page = new_page(lang)
    page.goto("/login/")
    assert page.locator("html").get_attribute("lang") == lang
    assert_landmarks(page)
    assert_accessible(page, where=f"/login/ ({lang})")
    if lang == "sv":
        screenshot(page, "login")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_failed_login_is_accessible(org: Org, new_page, lang: str) -> None:  # type: ignore[no-untyped-def]
    # Given the login page, when a wrong password is sent with the keyboard
    page = new_page(lang)
    page.goto("/login/")
    page.keyboard.type("agent")
    page.keyboard.press("Tab")
    page.keyboard.type("wrong password")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    # Then the error is announced (role=alert), the username is kept, and the page passes axe
    page.get_by_role("alert").wait_for()
    assert page.locator("#id_username").input_value() == "agent"
    assert_accessible(page, where=f"/login/ with an error ({lang})")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_case_list_is_accessible(org: Org, new_page, live_server, lang: str) -> None:  # type: ignore[no-untyped-def]
    org.new_case(subject="Soptunnan tömdes inte")
    org.new_case(subject="Bygglov för altan", category=org.permit)
    page = signed_in_page(new_page, live_server, org.agent, lang)
    page.goto("/cases/")
    page.locator("table.cases tbody tr").first.wait_for()
    assert_landmarks(page)
    assert_accessible(page, where=f"/cases/ ({lang})")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_case_detail_is_accessible(  # type: ignore[no-untyped-def]
    org: Org, new_page, live_server, routing_deferred, lang: str
) -> None:
    case = org.new_case(subject="Soptunnan tömdes inte")
    page = signed_in_page(new_page, live_server, org.agent, lang)
    page.goto(f"/cases/{case.reference}/")
    # Every action unfolded, so that axe sees their forms too
    for summary in page.locator("details.action > summary").all():
        summary.click()
    assert_landmarks(page)
    assert_accessible(page, where=f"/cases/{case.reference}/ ({lang})")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_notifications_page_is_accessible(  # type: ignore[no-untyped-def]
    org: Org, new_page, live_server, lang: str
) -> None:
    case = org.new_case(subject="Soptunnan tömdes inte")
    Notification.objects.create(
        recipient=org.agent, case=case, kind="escalation", message="Snart försenat ärende"
    )
    Notification.objects.create(
        recipient=org.agent, kind="escalation", message="Läst", read_at=case.created_at
    )
    page = signed_in_page(new_page, live_server, org.agent, lang)
    page.goto("/cases/notifications/")
    page.get_by_text("Snart försenat ärende").wait_for()
    assert_landmarks(page)
    assert_accessible(page, where=f"/cases/notifications/ ({lang})")

    # And marking one read works with the keyboard: Tab to its checkbox, Space, Tab, Enter
    tab_to(page, page.locator("input[name=id]").first)
    page.keyboard.press("Space")
    tab_to(page, page.locator("main button[type=submit]").first)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert not Notification.objects.filter(recipient=org.agent, read_at__isnull=True).exists()
    assert_accessible(page, where=f"/cases/notifications/ after marking read ({lang})")


def test_the_focus_is_always_visible(  # type: ignore[no-untyped-def]
    org: Org, new_page, live_server, routing_deferred, eservice: Category
) -> None:
    case = org.new_case(subject="Soptunnan tömdes inte")
    page = new_page("sv")
    page.goto("/login/")
    assert assert_focus_always_visible(page) >= 6
    page = signed_in_page(new_page, live_server, org.agent, "sv")
    page.goto(f"/cases/{case.reference}/")
    assert assert_focus_always_visible(page) >= 10
    page.goto(f"/e/{eservice.code}/?lang=sv")
    assert assert_focus_always_visible(page) >= 10


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_language_switcher_works_with_the_keyboard(  # type: ignore[no-untyped-def]
    new_page, lang: str
) -> None:
    other = "da" if lang == "sv" else "sv"
    page = new_page(lang)
    page.goto("/login/")
    select = page.locator("#language-select")
    tab_to(page, select, backwards=True)
    select.select_option(other)  # what arrow keys do on a focused <select>
    tab_to(page, page.locator("form.lang button"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("html").get_attribute("lang") == other


# --- Public e-service pages ----------------------------------------------------------------------
@pytest.fixture
def eservice(category: Category) -> Category:  # noqa: F811 (the fixture imported above)
    services.category_cache_clear()
    cache.clear()  # the e-service rate limit counts in the cache
    return category


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_eservice_list_is_accessible(eservice: Category, new_page, lang: str) -> None:  # type: ignore[no-untyped-def]
    page = new_page(lang)
    page.goto(f"/e/?lang={lang}")
    page.get_by_role("link", name=eservice.name_sv if lang == "sv" else eservice.name_da).wait_for()
    assert page.locator("html").get_attribute("lang") == lang
    assert_landmarks(page)
    assert_accessible(page, where=f"/e/ ({lang})")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_eservice_form_and_its_errors_are_accessible(  # type: ignore[no-untyped-def]
    eservice: Category, new_page, screenshot, lang: str
) -> None:
    page = new_page(lang)
    page.goto(f"/e/{eservice.code}/?lang={lang}")
    page.get_by_role("heading", level=1).wait_for()
    assert_landmarks(page)
    assert_accessible(page, where=f"/e/{eservice.code}/ ({lang})")
    if lang == "sv":
        screenshot(page, "eservice-form")

    # When the empty form is sent with the keyboard
    tab_to(page, page.locator("form.eservice button[type=submit]"))
    with page.expect_navigation():
        page.keyboard.press("Enter")

    # Then an error summary gets the focus, its first link leads to the field, and axe is happy
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert page.evaluate("() => document.activeElement.classList.contains('error-summary')")
    assert page.locator("[aria-invalid=true]").count() >= 1
    assert_accessible(page, where=f"/e/{eservice.code}/ with errors ({lang})")
    if lang == "sv":
        screenshot(page, "eservice-form-errors")
    first = summary.get_by_role("link").first
    target = (first.get_attribute("href") or "").lstrip("#")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.closest('.error-summary') !== null")
    page.keyboard.press("Enter")
    assert page.evaluate("() => location.hash") == f"#{target}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_quarantine_page_is_accessible(  # type: ignore[no-untyped-def]
    org: Org, new_page, live_server, lang: str
) -> None:
    from channels_app.models import InboundMessage

    InboundMessage.objects.create(
        channel="email",
        source="email:kontakt",
        external_id="broken-1",
        status="quarantined",
        reason="Broken MIME",
    )
    page = signed_in_page(new_page, live_server, org.cc_supervisor, lang)
    page.goto("/intake/quarantine/")
    page.get_by_text("Broken MIME").wait_for()
    assert_landmarks(page)
    assert_accessible(page, where=f"/intake/quarantine/ ({lang})")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_eservice_receipt_is_accessible(  # type: ignore[no-untyped-def]
    eservice: Category, new_page, lang: str
) -> None:
    page = new_page(lang)
    page.goto(f"/e/{eservice.code}/?lang={lang}")
    page.locator("#id_description").fill("Containern för plast är full vid Storgatan.")
    for field in page.locator("form.eservice [required]").all():
        if field.get_attribute("type") in ("radio", "checkbox"):
            continue
        if not field.input_value():
            field.fill("4" if field.get_attribute("type") == "number" else "Storgatan 5")
    for group in page.locator("form.eservice fieldset").all():
        radios = group.locator("input[type=radio]")
        if radios.count() and group.locator("input[type=radio][required]").count():
            radios.first.check()
    with page.expect_navigation():
        page.locator("form.eservice button[type=submit]:visible").last.click()
    assert "/receipt/" in page.url, page.url
    assert_landmarks(page)
    assert_accessible(page, where=f"e-service receipt ({lang})")
