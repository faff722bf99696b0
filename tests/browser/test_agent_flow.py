"""An agent's day with the keyboard alone, in a real browser: log in, find a case, open it,
add a note, act on it, log out. No mouse: only Tab, Shift+Tab, Enter and Space."""

from __future__ import annotations

import pytest

from cases.models import Case, CaseEvent
from tests.browser.axe import assert_accessible
from tests.browser.conftest import keyboard_login, tab_to
from tests.municipality import Org

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("lang", ["sv", "da"])
def test_an_agent_works_a_case_with_the_keyboard_only(  # type: ignore[no-untyped-def]
    org: Org, new_page, screenshot, routing_deferred, lang: str
) -> None:
    # Given a new case at the contact center (not routed: it stays new, so the agent may open it)
    case = org.new_case(subject="Soptunnan tömdes inte på Storgatan 1")
    page = new_page(lang)

    # When the agent logs in with the keyboard
    keyboard_login(page, "agent")

    # Then they land in the work queues, and the contact center's queue shows the case
    assert "/cases/queue/" in page.url, page.url
    link = page.get_by_role("link", name=case.reference, exact=True)
    link.wait_for()
    assert page.locator("html").get_attribute("lang") == lang
    if lang == "sv":
        screenshot(page, "case-list")

    # When they open it with Tab and Enter
    tab_to(page, link)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.get_by_role("heading", level=1).filter(has_text=case.reference).wait_for()

    # And add a note with the keyboard
    note = page.locator("form[action$='/note/'] textarea")
    tab_to(page, note)
    page.keyboard.type("Ringde tillbaka, lämnade besked.")
    tab_to(page, page.locator("form[action$='/note/'] button[type=submit]"))
    with page.expect_navigation():
        page.keyboard.press("Enter")

    # Then the note is in the timeline and stored
    page.locator(".timeline").get_by_text("Ringde tillbaka, lämnade besked.").wait_for()
    assert CaseEvent.objects.filter(case=case, reason="Ringde tillbaka, lämnade besked.").exists()
    assert_accessible(page, where=f"case detail after a note ({lang})")

    # When they open the case (an action behind a <details>): Tab to it, Enter to unfold it,
    # Tab to its button, Enter to send
    action = page.locator("form[action$='/do/open/']")
    summary = page.locator("details.action", has=action).locator("summary")
    tab_to(page, summary)
    page.keyboard.press("Enter")
    tab_to(page, action.locator("button[type=submit]"))
    with page.expect_navigation():
        page.keyboard.press("Enter")

    # Then the case is open, and the page says so
    case.refresh_from_db()
    assert case.state == "open"
    page.locator(".messages").wait_for()
    assert_accessible(page, where=f"case detail after a transition ({lang})")
    if lang == "sv":
        screenshot(page, "case-detail")

    # When they log out with the keyboard
    tab_to(page, page.locator("form[action$='/logout/'] button"), backwards=True)
    with page.expect_navigation():
        page.keyboard.press("Enter")

    # Then they are back at the login page, and the case list is closed to them
    assert "/login/" in page.url, page.url
    page.goto("/cases/")
    assert "/login/" in page.url, page.url
    assert Case.objects.get(pk=case.pk).state == "open"


def test_the_agent_pages_work_without_javascript(  # type: ignore[no-untyped-def]
    org: Org, new_page, routing_deferred
) -> None:
    # Given a browser with JavaScript switched off, and a new case
    case = org.new_case(subject="Gatlampa trasig")
    page = new_page("da", javascript=False)

    # When the agent logs in, opens the case, adds a note and resolves it at first contact
    keyboard_login(page, "agent")
    page.get_by_role("link", name=case.reference, exact=True).click()
    page.locator("form[action$='/note/'] textarea").fill("Utan JavaScript.")
    page.locator("form[action$='/note/'] button[type=submit]").click()
    page.locator(
        "details.action", has=page.locator("form[action$='/do/resolve_at_first_contact/']")
    ).locator("summary").click()
    page.locator("form[action$='/do/resolve_at_first_contact/'] button[type=submit]").click()

    # Then everything was done by plain form posts
    case.refresh_from_db()
    assert case.state == "resolved_first_contact"
    assert CaseEvent.objects.filter(case=case, reason="Utan JavaScript.").exists()
