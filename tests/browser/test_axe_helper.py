"""The axe helper itself: it must find what it is there to find, and say where."""

from __future__ import annotations

import pytest

from tests.browser.axe import assert_accessible

pytestmark = pytest.mark.browser

BROKEN = """<!DOCTYPE html><html><head><title>Broken</title></head><body><main>
<h1>Broken</h1>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" id="no-alt">
<input type="text" id="no-label">
<p style="color:#bbb;background:#fff" id="pale">Pale text</p>
</main></body></html>"""

FINE = """<!DOCTYPE html><html lang="sv"><head><title>Bra</title></head><body>
<header><a href="#main">Hoppa</a></header><main id="main"><h1>Bra</h1>
<label for="x">Namn</label><input type="text" id="x"></main></body></html>"""


def test_it_fails_with_rule_ids_impacts_and_targets(new_page) -> None:  # type: ignore[no-untyped-def]
    page = new_page("sv")
    page.set_content(BROKEN)
    with pytest.raises(AssertionError) as failure:
        assert_accessible(page, where="the broken page")
    message = str(failure.value)
    assert "on the broken page" in message
    for rule, impact, target in [
        ("image-alt", "critical", "#no-alt"),
        ("label", "critical", "#no-label"),
        ("color-contrast", "serious", "#pale"),
        ("html-has-lang", "serious", "html"),
    ]:
        assert f"- {rule} ({impact})" in message, message
        assert f"at {target}" in message, message


def test_it_passes_a_clean_page(new_page) -> None:  # type: ignore[no-untyped-def]
    page = new_page("sv")
    page.set_content(FINE)
    assert_accessible(page, where="the fine page")
