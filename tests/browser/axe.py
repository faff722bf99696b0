"""axe-core in a real page: inject it, run it, and fail on serious or critical violations.

axe is read from ``node_modules/axe-core`` (``make assets``); it is never served by Django.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent.parent
AXE_PATH = Path(os.environ.get("AXE_PATH", BASE_DIR / "node_modules/axe-core/axe.min.js"))

# WCAG 2.0/2.1 A and AA, plus axe's best practices (landmarks, headings): only violations with
# a serious or critical impact fail a test; AXE_VERBOSE=1 prints the others (moderate, minor).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING_IMPACTS = ("serious", "critical")


def axe_run(page: Any, *, tags: list[str] | None = None) -> dict[str, Any]:
    """Run axe on the page as it is now and return its raw results."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_PATH))
    return page.evaluate(
        "async (tags) => await window.axe.run(document, "
        "{runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        tags or WCAG_TAGS,
    )


def blocking_violations(results: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for v in results["violations"] if v.get("impact") in BLOCKING_IMPACTS]


def format_violations(violations: list[dict[str, Any]], *, where: str) -> str:
    """One block per rule: id, impact, what it checks, and the offending nodes' selectors."""
    lines = [f"{len(violations)} serious/critical axe violation(s) on {where}:"]
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"][:10]:
            target = " ".join(" > ".join(t) if isinstance(t, list) else t for t in node["target"])
            summary = (node.get("failureSummary") or "").replace("\n", " ").strip()
            lines.append(f"    at {target}: {summary}")
        if len(v["nodes"]) > 10:
            lines.append(f"    … and {len(v['nodes']) - 10} more")
    return "\n".join(lines)


# Every id that a label or an ARIA attribute points at must exist: axe only reports a dangling
# aria-describedby as "needs review", not as a violation.
BROKEN_IDREFS_JS = """() => {
  const broken = [];
  for (const el of document.querySelectorAll('[for], [aria-describedby], [aria-labelledby], [aria-controls]')) {
    for (const attr of ['for', 'aria-describedby', 'aria-labelledby', 'aria-controls']) {
      for (const id of (el.getAttribute(attr) || '').split(/\\s+/).filter(Boolean)) {
        if (!document.getElementById(id)) broken.push(`${el.tagName.toLowerCase()}[${attr}=${id}]`);
      }
    }
  }
  return broken;
}"""


def broken_idrefs(page: Any) -> list[str]:
    return page.evaluate(BROKEN_IDREFS_JS)


def assert_accessible(page: Any, *, where: str | None = None) -> None:
    """No serious or critical WCAG 2.1 A/AA violation on the page as it is now, and no label or
    ARIA reference to a missing id."""
    broken = broken_idrefs(page)
    assert not broken, f"references to missing ids on {where or page.url}: {', '.join(broken)}"
    results = axe_run(page)
    if os.environ.get("AXE_VERBOSE") == "1":
        others = [v for v in results["violations"] if v.get("impact") not in BLOCKING_IMPACTS]
        if others:
            print(
                format_violations(others, where=where or page.url).replace(
                    "serious/critical", "other"
                )
            )
    violations = blocking_violations(results)
    if violations:
        raise AssertionError(format_violations(violations, where=where or page.url))
