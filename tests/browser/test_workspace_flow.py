"""The workspace in a real browser: an agent takes a case from the queue with the keyboard,
replies by e-mail and resolves it at first contact; an agent forwards a case and the
department's handler accepts and resolves it; a handler of another department cannot open it.
And axe on the workspace's pages in Swedish and Danish, error states included."""

from __future__ import annotations

import pytest

from cases.choices import Channel
from cases.models import Case, CaseState, Notification
from cases.services.actors import Actor
from cases.services.cases import ContactInput, case_create
from cases.services.residents import resident_create
from cases.services.transitions import case_forward
from channels_app.models import Call, CallbackRequest, OutboundMessage, PhoneQueue
from tests.browser.axe import assert_accessible
from tests.browser.conftest import keyboard_login, tab_to
from tests.browser.test_accessibility import assert_landmarks, signed_in_page
from tests.municipality import Org

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LANGUAGES = ["sv", "da"]


def residents_case(org: Org, subject: str, category=None) -> Case:  # type: ignore[no-untyped-def]
    eva = resident_create(actor=Actor.staff(org.agent), name="Eva Ek", emails=["eva@example.se"])
    return case_create(
        actor=Actor.staff(org.agent),
        subject=subject,
        contact=ContactInput(channel=Channel.EMAIL),
        resident=eva,
        category=category or org.bins,
    )


def unfold_and_run(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Tab to an action's summary, Enter to unfold it, Tab to its button, Enter to send."""
    action = page.locator(f"form[action$='/do/{name}/']")
    tab_to(page, page.locator("details.action", has=action).locator("summary"))
    page.keyboard.press("Enter")
    tab_to(page, action.locator("button[type=submit]"))
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_an_agent_takes_a_case_replies_by_email_and_resolves_it_at_first_contact(  # type: ignore[no-untyped-def]
    org: Org, new_page, screenshot, routing_deferred
) -> None:
    case = residents_case(org, "Soptunnan tömdes inte på Storgatan 1")
    page = new_page("sv")

    # The agent logs in and lands in the work queues
    keyboard_login(page, "agent")
    assert "/cases/queue/" in page.url, page.url
    page.locator(f'tr[data-ref="{case.reference}"]').wait_for()
    assert_accessible(page, where="work queues (sv)")
    screenshot(page, "work-queues")

    # j selects the first case, t takes it
    page.keyboard.press("j")
    with page.expect_navigation():
        page.keyboard.press("t")
    case.refresh_from_db()
    assert (case.state, case.assignee) == (CaseState.OPEN, org.agent)

    # Open it: j to the row, Enter on its link
    page.goto("/cases/queue/?queue=mine")
    page.keyboard.press("j")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.get_by_role("heading", level=1).filter(has_text=case.reference).wait_for()

    # Reply by e-mail with the keyboard
    tab_to(page, page.locator("#reply-body"))
    page.keyboard.type("Vi tömmer tunnan i morgon förmiddag.")
    tab_to(page, page.locator("form[action$='/reply/'] button[type=submit]"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    reply = OutboundMessage.objects.get(case=case, kind="reply")
    assert (reply.channel, reply.to) == ("email", "eva@example.se")
    assert reply.body == "Vi tömmer tunnan i morgon förmiddag."

    # and resolve it at first contact
    unfold_and_run(page, "resolve_at_first_contact")
    case.refresh_from_db()
    assert case.state == CaseState.RESOLVED_FIRST_CONTACT
    assert_accessible(page, where="case after resolving (sv)")
    screenshot(page, "case-resolved")


def test_a_forwarded_case_is_accepted_and_resolved_by_the_department(  # type: ignore[no-untyped-def]
    org: Org, new_page, live_server, routing_deferred
) -> None:
    case = residents_case(org, "Bygglov för altan", category=org.permit)

    # The agent forwards it to the category's department
    agent = signed_in_page(new_page, live_server, org.agent, "sv")
    agent.goto(f"/cases/{case.reference}/")
    unfold_and_run(agent, "forward")
    case.refresh_from_db()
    assert (case.state, case.department) == (CaseState.FORWARDED, org.building)

    # The handler finds it on the department desk and takes it (accepts it)
    page = new_page("sv")
    keyboard_login(page, "buildinghandler")
    assert "/cases/queue/" in page.url
    row = page.locator(f'tr[data-ref="{case.reference}"]')
    row.wait_for()
    assert "Building" in row.inner_text() or "building" in row.inner_text().lower()
    page.keyboard.press("j")
    with page.expect_navigation():
        page.keyboard.press("t")
    case.refresh_from_db()
    assert (case.state, case.assignee) == (CaseState.ACCEPTED, org.building_handler)

    # and resolves it from the case view
    page.goto(f"/cases/{case.reference}/")
    unfold_and_run(page, "resolve")
    case.refresh_from_db()
    assert case.state == CaseState.RESOLVED


def test_a_handler_of_another_department_cannot_open_the_case(  # type: ignore[no-untyped-def]
    org: Org, new_page, live_server, routing_deferred
) -> None:
    case = residents_case(org, "Bygglov för altan", category=org.permit)
    case_forward(actor=Actor.staff(org.agent), case_id=case.pk)

    page = signed_in_page(new_page, live_server, org.waste_handler, "sv")
    response = page.goto(f"/cases/{case.reference}/")

    assert response is not None and response.status == 404
    assert case.reference not in page.content()
    page.goto("/cases/queue/")
    assert page.locator(f'tr[data-ref="{case.reference}"]').count() == 0


# --- axe on the workspace's pages ---------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_work_queues_and_supervisor_view_are_accessible(  # type: ignore[no-untyped-def]
    org: Org, new_page, live_server, screenshot, routing_deferred, lang: str
) -> None:
    residents_case(org, "Soptunnan")
    residents_case(org, "Bygglov", category=org.permit)
    page = signed_in_page(new_page, live_server, org.agent, lang)
    page.goto("/cases/queue/?queue=contact_center")
    page.locator("#queue-list tbody tr").first.wait_for()
    assert_landmarks(page)
    assert_accessible(page, where=f"work queues ({lang})")

    boss = signed_in_page(new_page, live_server, org.cc_supervisor, lang)
    boss.goto("/cases/supervisor/")
    boss.locator("#overview").wait_for()
    assert_landmarks(boss)
    assert_accessible(boss, where=f"supervisor view ({lang})")
    if lang == "sv":
        screenshot(boss, "supervisor")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_contact_log_and_its_errors_are_accessible(  # type: ignore[no-untyped-def]
    org: Org, new_page, live_server, screenshot, lang: str
) -> None:
    page = signed_in_page(new_page, live_server, org.agent, lang)
    page.goto("/cases/log/")
    assert_landmarks(page)
    assert_accessible(page, where=f"contact log ({lang})")
    if lang == "sv":
        screenshot(page, "log-contact")

    # An invalid phone number: the error says what to fix, next to the field
    page.locator("#id_phone").fill("12")
    page.locator("#id_subject").fill("Fråga")
    with page.expect_navigation():
        page.locator("form.stack button[type=submit]").click()
    page.locator("#id_phone-error").wait_for()
    assert Case.objects.count() == 0
    assert_accessible(page, where=f"contact log with errors ({lang})")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_letter_queue_and_phone_tasks_are_accessible(  # type: ignore[no-untyped-def]
    org: Org, new_page, live_server, lang: str
) -> None:
    Notification.objects.create(recipient=org.agent, kind="x", message="Frist")
    case = residents_case(org, "Bygglov för altan", category=org.permit)
    for channel, to in (("letter", "Storgatan 1\n123 45 Exempelstad"), ("phone", "+46701234567")):
        OutboundMessage.objects.create(
            channel=channel,
            case=case,
            resident=case.resident,
            to=to,
            subject="Ditt ärende har skickats vidare",
            body="Hej Eva!\n\nDitt ärende har skickats vidare till bygglovsenheten.",
            kind="notice:forwarded",
            auto_generated=True,
        )
    page = signed_in_page(new_page, live_server, org.agent, lang)
    for url in (
        "/intake/notices/letters/",
        "/intake/notices/calls/",
        "/intake/notices/letters/print/",
    ):
        page.goto(url)
        assert page.get_by_text(case.reference).count() >= 1, url
        assert_accessible(page, where=f"{url} ({lang})")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_callback_list_is_accessible_and_works_with_the_keyboard(  # type: ignore[no-untyped-def]
    org: Org, new_page, live_server, lang: str
) -> None:
    queue = PhoneQueue.objects.create(
        code="avfall", digit=1, name_sv="avfall", name_da="affald", name_en="waste"
    )
    call = Call.objects.create(call_sid="CA1", from_number="+46701234567", to_number="+46766920000")
    request = CallbackRequest.objects.create(
        call=call, number=call.from_number, queue=queue, language="sv", queue_position=4
    )
    page = signed_in_page(new_page, live_server, org.agent, lang)
    page.goto("/intake/voice/callbacks/")
    assert page.get_by_text("+46701234567").count() >= 1
    assert_accessible(page, where=f"callbacks ({lang})")
    # The first button of the row (reached) by keyboard: focus it, press Enter
    button = page.locator("form button[value=answered]")
    button.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    request.refresh_from_db()
    assert request.completed_by == org.agent
    assert_accessible(page, where=f"callbacks after one is done ({lang})")


def test_the_case_views_shortcuts_move_the_focus(  # type: ignore[no-untyped-def]
    org: Org, new_page, live_server, routing_deferred
) -> None:
    case = residents_case(org, "Soptunnan")
    page = signed_in_page(new_page, live_server, org.agent, "sv")
    page.goto(f"/cases/{case.reference}/")

    page.keyboard.press("r")
    assert page.evaluate("() => document.activeElement.id") == "reply-body"
    page.keyboard.type("nr")  # typing in the reply box is text, not shortcuts
    assert page.locator("#reply-body").input_value() == "nr"
    page.locator("#reply-body").blur()
    page.keyboard.press("n")
    assert page.evaluate("() => document.activeElement.name") == "text"
    page.locator("form[action$='/note/'] textarea").blur()
    with page.expect_navigation():
        page.keyboard.press("g")
    assert "/cases/queue/" in page.url
