"""The documentation tells the truth about the state machine.

The graph in docs/ARCHITECTURE.md is generated from ``Case.state``'s transitions by
``manage.py state_graph``; these tests fail when someone changes a transition and forgets to
regenerate it, or when a transition service or state is missing from the graph.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from cases.management.commands.state_graph import END_MARKER, START_MARKER, render_state_graph
from cases.models import CaseState
from cases.services.transitions import TRANSITIONS

EDGE = re.compile(r"^\s*(\S+) --> (\S+) : (\S+)$")
NODE = re.compile(r"^\s*(\w+) : .+$")


def edges(graph: str) -> list[tuple[str, str, str]]:
    return [m.groups() for line in graph.splitlines() if (m := EDGE.match(line))]  # type: ignore[misc]


def test_the_state_graph_in_the_architecture_doc_is_up_to_date() -> None:
    call_command("state_graph", check="docs/ARCHITECTURE.md")


def test_every_transition_service_appears_as_an_edge_label() -> None:
    labels = {name for _source, _target, name in edges(render_state_graph())}

    assert set(TRANSITIONS) <= labels
    # And nothing in the graph lacks a service: the model and the services agree.
    assert labels <= set(TRANSITIONS)


def test_every_case_state_appears_as_a_node() -> None:
    graph = render_state_graph()
    declared = {m.group(1) for line in graph.splitlines() if (m := NODE.match(line))}
    connected = {state for source, target, _ in edges(graph) for state in (source, target)}

    assert set(CaseState.values) <= declared
    assert set(CaseState.values) <= connected
    assert connected <= set(CaseState.values)


def test_return_value_targets_are_expanded_to_each_possible_state() -> None:
    resumes = {(s, t) for s, t, name in edges(render_state_graph()) if name == "resume"}

    assert resumes == {
        (CaseState.WAITING.value, CaseState.OPEN.value),
        (CaseState.WAITING.value, CaseState.ACCEPTED.value),
    }


def test_the_edges_are_sorted_so_the_output_is_deterministic() -> None:
    found = edges(render_state_graph())

    assert found == sorted(set(found))


def test_check_fails_on_a_stale_block_and_write_repairs_it(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(
        f"# Title\n\n{START_MARKER}\n```mermaid\nstateDiagram-v2\n```\n{END_MARKER}\n\nAfter.\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match="stale"):
        call_command("state_graph", check=str(doc))

    call_command("state_graph", write=str(doc))

    call_command("state_graph", check=str(doc))
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# Title\n\n")
    assert text.endswith(f"{END_MARKER}\n\nAfter.\n")
    assert render_state_graph() in text


def test_check_fails_without_markers(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text("# No graph here\n", encoding="utf-8")

    with pytest.raises(CommandError, match="block"):
        call_command("state_graph", check=str(doc))
