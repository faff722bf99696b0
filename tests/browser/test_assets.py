"""The vendored htmx is the one package-lock.json pins, and every staff page loads it."""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import BASE_DIR, _skip_or_fail

pytestmark = pytest.mark.browser

VENDORED = BASE_DIR / "static" / "vendor" / "htmx.min.js"
NODE_COPY = BASE_DIR / "node_modules" / "htmx.org" / "dist" / "htmx.min.js"


def test_it_vendors_the_locked_htmx() -> None:
    """static/vendor/htmx.min.js is committed; `make assets` must not change it."""
    if not NODE_COPY.is_file():
        _skip_or_fail(f"{NODE_COPY.relative_to(BASE_DIR)} is missing; run `make assets`")
    lock = json.loads((BASE_DIR / "package-lock.json").read_text())
    installed = json.loads(NODE_COPY.parent.parent.joinpath("package.json").read_text())
    assert installed["version"] == lock["packages"]["node_modules/htmx.org"]["version"], (
        "node_modules is not what package-lock.json pins: run `npm ci`"
    )
    assert VENDORED.read_bytes() == NODE_COPY.read_bytes(), (
        "static/vendor/htmx.min.js differs from the locked htmx.org: run `make assets` and "
        "commit the result"
    )


def test_it_loads_htmx_on_the_login_page(new_page) -> None:  # type: ignore[no-untyped-def]
    page = new_page("sv")
    page.goto("/login/")
    page.wait_for_load_state("load")
    assert page.evaluate("() => typeof window.htmx") == "object"
    src = page.locator("script[src*='vendor/htmx']").get_attribute("src")
    assert src is not None and not src.startswith(("http:", "https:", "//")), src


def test_it_has_no_external_assets(new_page) -> None:  # type: ignore[no-untyped-def]
    """No CDN: every script and stylesheet of the page comes from our own origin."""
    page = new_page("sv")
    page.goto("/login/")
    urls = page.evaluate(
        "() => [...document.querySelectorAll('script[src], link[rel=stylesheet]')]"
        ".map(e => e.src || e.href)"
    )
    assert urls, "no assets found"
    assert all(url.startswith(page.url.split("/login/")[0]) for url in urls), urls


def test_it_serves_no_axe(new_page) -> None:  # type: ignore[no-untyped-def]
    """axe-core is for the tests only: pages neither load nor serve it."""
    page = new_page("sv")
    page.goto("/login/")
    assert page.evaluate("() => typeof window.axe") == "undefined"
    assert not (BASE_DIR / "static" / "vendor" / "axe.min.js").exists()
