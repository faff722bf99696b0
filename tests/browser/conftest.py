"""Fixtures of the browser tests: Debian's chromium driven by Playwright against ``live_server``.

Every test module here sets ``pytestmark = pytest.mark.browser``. They need Playwright (the dev extra), a Chromium binary
(``CHROMIUM_PATH``, default ``/usr/bin/chromium``; Playwright's own browser download is never
used) and axe-core in ``node_modules`` (``make assets``). When one is missing they are skipped
with the reason, except under ``CI=true`` or ``REQUIRE_SERVICES=1``: then they fail.

Screenshots of the main screens go to ``docs/screenshots/`` when ``SAVE_SCREENSHOTS=1``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.axe import AXE_PATH
from tests.conftest import services_required

BASE_DIR = Path(__file__).resolve().parent.parent.parent
SCREENSHOT_DIR = BASE_DIR / "docs" / "screenshots"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
# As root in a container: no sandbox. Without the background-networking flags Chromium keeps
# trying to reach Google's services, which this machine's closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000
PASSWORD = "pw"  # tests.factories.UserFactory's password


def _skip_or_fail(reason: str) -> None:
    if services_required():
        pytest.fail(f"CI=true/REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def chromium_path() -> str | None:
    """The Chromium binary to drive, or None if there is none."""
    wanted = os.environ.get("CHROMIUM_PATH", DEFAULT_CHROMIUM)
    if os.path.isfile(wanted) and os.access(wanted, os.X_OK):
        return wanted
    return shutil.which(wanted)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole session."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _skip_or_fail(f"Playwright is not installed ({exc}); run `make install`")
    executable = chromium_path()
    if executable is None:
        _skip_or_fail(
            f"no Chromium at {os.environ.get('CHROMIUM_PATH', DEFAULT_CHROMIUM)} "
            "(apt-get install chromium, or set CHROMIUM_PATH)"
        )
    if not AXE_PATH.is_file():
        _skip_or_fail(f"axe-core is missing ({AXE_PATH}); run `make assets`")
    # Playwright's sync API keeps an event loop in this thread; Django's ORM, used by the tests
    # themselves between browser calls, would refuse to run "in an async context" without this.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(browser: Any, live_server: Any) -> Iterator[Callable[..., Any]]:
    """``new_page(lang="sv", javascript=True)``: a page in a fresh browser context (no cookies)
    whose Django language is ``lang`` (the ``django_language`` cookie and Accept-Language)."""
    contexts: list[Any] = []

    def make(lang: str = "sv", *, javascript: bool = True) -> Any:
        context = browser.new_context(
            base_url=live_server.url,
            java_script_enabled=javascript,
            locale={"sv": "sv-SE", "da": "da-DK"}.get(lang, lang),
            viewport={"width": 1280, "height": 800},
        )
        context.add_cookies([{"name": "django_language", "value": lang, "url": live_server.url}])
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot() -> Callable[[Any, str], None]:
    """``screenshot(page, "name")``: a full-page PNG in docs/screenshots/ if SAVE_SCREENSHOTS=1."""

    def save(page: Any, name: str) -> None:
        if os.environ.get("SAVE_SCREENSHOTS") != "1":
            return
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=True)

    return save


def focused(page: Any) -> str:
    """A short description of the focused element (for assertions and failure messages)."""
    return page.evaluate(
        "() => { const e = document.activeElement; if (!e) return ''; "
        "return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + "
        "(e.getAttribute('name') ? '[name=' + e.getAttribute('name') + ']' : '') + "
        "' ' + (e.innerText || e.value || '').trim().slice(0, 40); }"
    )


def tab_to(page: Any, locator: Any, *, limit: int = 60, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until ``locator`` has the focus, as a keyboard user would."""
    handle = locator.element_handle()
    seen = []
    for _ in range(limit):
        if page.evaluate("(e) => document.activeElement === e", handle):
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        seen.append(focused(page))
    raise AssertionError(
        f"{locator} never got the focus in {limit} Tab presses; the focus went through: "
        + " | ".join(seen)
    )


def keyboard_login(page: Any, username: str, password: str = PASSWORD) -> None:
    """Log in through /login/ with the keyboard only: type, Tab, type, Tab to the button, Enter."""
    page.goto("/login/")
    page.locator("#id_username").wait_for()
    assert page.evaluate("() => document.activeElement.id") == "id_username", focused(page)
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "id_password", focused(page)
    page.keyboard.type(password)
    tab_to(page, page.locator("main button[type=submit]"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
