"""Print the case state machine as a Mermaid ``stateDiagram-v2`` block, read from the model.

The graph is generated from the ``@transition`` declarations on ``Case`` (django-fsm-2), never
written by hand, so the picture in docs/ARCHITECTURE.md cannot drift from the code:

    python manage.py state_graph                              # print the block
    python manage.py state_graph --write docs/ARCHITECTURE.md # replace the block in the file
    python manage.py state_graph --check docs/ARCHITECTURE.md # fail if the file is stale

The block in the file sits between ``<!-- state-graph:start -->`` and
``<!-- state-graph:end -->``; ``tests/test_docs.py`` runs ``--check`` on every test run.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django_fsm import State

from cases.models import Case, CaseState

START_MARKER = "<!-- state-graph:start -->"
END_MARKER = "<!-- state-graph:end -->"

# django-fsm's wildcard sources: any state, and any state other than the target.
_ANY_STATE = "*"
_ANY_OTHER_STATE = "+"


def _targets(target: Any) -> list[str]:
    """The states a transition can end in. ``RETURN_VALUE``/``GET_STATE`` name several."""
    if isinstance(target, State):
        allowed = list(target.allowed_states) or list(CaseState.values)
        return [str(state) for state in allowed]
    return [str(target)]


def _sources(source: Any, targets: list[str]) -> list[str]:
    if source == _ANY_STATE:
        return list(CaseState.values)
    if source == _ANY_OTHER_STATE:
        return [state for state in CaseState.values if state not in targets]
    return [str(source)]


def state_edges() -> list[tuple[str, str, str]]:
    """Every ``(source, target, transition name)`` of ``Case.state``, sorted, without repeats."""
    field = Case._meta.get_field("state")
    edges: set[tuple[str, str, str]] = set()
    for transition in field.get_all_transitions(Case):  # type: ignore[attr-defined]
        targets = _targets(transition.target)
        for source in _sources(transition.source, targets):
            for target in targets:
                edges.add((source, target, transition.name))
    return sorted(edges)


def _node_lines(states: Iterable[tuple[str, str]]) -> list[str]:
    return [f"    {value} : {label}" for value, label in states]


def render_state_graph() -> str:
    """The Mermaid block (with its code fence), identical on every machine and in every locale."""
    field = Case._meta.get_field("state")
    with translation.override("en"):
        states = [(value, str(label)) for value, label in CaseState.choices]
    lines = ["```mermaid", "stateDiagram-v2", f"    [*] --> {field.default}"]
    lines += _node_lines(states)
    lines += [f"    {source} --> {target} : {name}" for source, target, name in state_edges()]
    lines.append("```")
    return "\n".join(lines)


def _split(text: str, path: Path) -> tuple[str, str, str]:
    """``(before the start marker, between the markers, from the end marker on)``."""
    start = text.find(START_MARKER)
    end = text.find(END_MARKER)
    if start == -1 or end == -1 or end < start:
        raise CommandError(
            f"{path} has no {START_MARKER} … {END_MARKER} block to compare or replace."
        )
    inner_start = start + len(START_MARKER)
    return text[:inner_start], text[inner_start:end], text[end:]


def _resolve(path: str) -> Path:
    # Relative to the working directory first (the shell's expectation), else to the project
    # (so tests and `call_command` work from any directory).
    candidate = Path(path)
    if candidate.is_absolute() or candidate.exists():
        return candidate
    return Path(settings.BASE_DIR) / candidate


class Command(BaseCommand):
    help = (
        "Print the case state machine as a Mermaid stateDiagram-v2 block generated from "
        "Case.state's transitions; --check PATH fails if PATH's block is stale, --write PATH "
        "replaces it."
    )

    def add_arguments(self, parser: Any) -> None:
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            "--check",
            metavar="PATH",
            help=f"Exit non-zero if the block between {START_MARKER} and {END_MARKER} in PATH "
            "differs from the generated graph.",
        )
        group.add_argument(
            "--write",
            metavar="PATH",
            help="Replace the block between the markers in PATH with the generated graph.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        graph = render_state_graph()
        if options.get("check"):
            self._check(_resolve(options["check"]), graph)
        elif options.get("write"):
            self._write(_resolve(options["write"]), graph)
        else:
            self.stdout.write(graph)

    def _read(self, path: Path) -> str:
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc

    def _check(self, path: Path, graph: str) -> None:
        _before, inner, _after = _split(self._read(path), path)
        if inner.strip() == graph.strip():
            self.stdout.write(f"The state graph in {path} is up to date.")
            return
        diff = "\n".join(
            difflib.unified_diff(
                inner.strip().splitlines(),
                graph.splitlines(),
                fromfile=f"{path} (documented)",
                tofile="Case.state (generated)",
                lineterm="",
            )
        )
        raise CommandError(
            f"The state graph in {path} is stale. Run "
            f"`python manage.py state_graph --write {path}`.\n{diff}"
        )

    def _write(self, path: Path, graph: str) -> None:
        before, inner, after = _split(self._read(path), path)
        if inner.strip() == graph.strip():
            self.stdout.write(f"The state graph in {path} is already up to date.")
            return
        path.write_text(f"{before}\n{graph}\n{after}", encoding="utf-8")
        self.stdout.write(f"Wrote the state graph to {path}.")
