"""Kiro specs written for these tests, each with quirks seen in real projects (docs/importing.md)."""

from __future__ import annotations

import re

import pytest

from specflow.domain.tasks import TaskGraph
from specflow.formats import parse_artifact
from specflow.importers.kiro import import_kiro
from tests.importers.conftest import FIXTURES, checkboxes

KIRO = FIXTURES / "kiro"
SPECS = sorted(KIRO.glob("*/.kiro/specs/*"))


def _feature(name: str):  # type: ignore[no-untyped-def]
    folder = next(p for p in SPECS if p.name == name)
    (feature,) = import_kiro(folder)
    return feature, folder


def test_there_are_enough_samples() -> None:
    assert len({p.parts[-4] for p in SPECS}) >= 2 and len(SPECS) >= 3


@pytest.mark.parametrize("folder", SPECS, ids=lambda p: p.name)
def test_every_task_id_state_and_requirement_is_kept(folder) -> None:  # type: ignore[no-untyped-def]
    (feature,) = import_kiro(folder)
    source = (folder / "tasks.md").read_text(encoding="utf-8")
    marks = checkboxes(source)
    tasks = parse_artifact("tasks", feature.text("tasks.md"))
    graph = TaskGraph(tasks)
    assert len(graph.tasks) == len(marks) == len(feature.tasks)
    assert [t.done for t in tasks.all_tasks()] == [m in "xX" for m in marks]
    assert [t.id for t in tasks.all_tasks()] == [f"T{i:03d}" for i in range(1, len(marks) + 1)]
    assert len(graph.order()) == len(marks)  # acyclic
    numbers = re.findall(r"^\s*- \[.\]\*?\s+(\d+(?:\.\d+)*)", source, re.M)
    assert list(feature.id_map) == numbers
    for number, tid in feature.id_map.items():
        assert (
            graph.tasks[tid].title.endswith(f"({number})")
            or f"({number}," in graph.tasks[tid].title
        )
    spec = parse_artifact("spec", feature.text("spec.md"))
    criteria = (folder / "requirements.md").read_text(encoding="utf-8")
    assert len(spec.requirements) == feature.requirements >= 4
    assert all(re.search(r"\(Kiro \d+(\.\d+)?\)$", r.text) for r in spec.requirements)
    assert spec.stories and len(spec.stories) == len(
        re.findall(r"^#+ Requirement \d+", criteria, re.M)
    )
    known = set(spec.requirement_ids())
    assert all(c in known for t in graph.tasks.values() for c in t.covers)
    plan = parse_artifact("plan", feature.text("plan.md"))
    assert plan.title == feature.title


def test_nested_subtasks_and_sequential_dependencies() -> None:
    feature, _ = _feature("library-website")
    ids = feature.id_map
    graph = TaskGraph(parse_artifact("tasks", feature.text("tasks.md")))
    assert graph.deps[ids["1"]] == []
    assert graph.deps[ids["2"]] == [ids["1"]]
    assert graph.deps[ids["3"]] == [ids["2"]]
    assert graph.deps[ids["3.1"]] == [ids["3"]]  # first sub-task waits for its parent
    assert graph.deps[ids["3.2"]] == [ids["3.1"]]  # then the previous sibling
    assert graph.deps[ids["4"]] == [ids["3.3"]]  # the next top-level task waits for all of 3
    # _Requirements: 1.4, 1.5_ on 3.1 -> the FRs made from acceptance criteria 1.4 and 1.5
    spec = parse_artifact("spec", feature.text("spec.md"))
    text = {r.id: r.text for r in spec.requirements}
    covers = graph.tasks[ids["3.1"]].covers
    assert [text[c][-10:] for c in covers] == ["(Kiro 1.4)", "(Kiro 1.5)"]
    # detail lines stay under their task
    body = feature.text("tasks.md")
    assert "  - Implement the menu button with an accessible label" in body
    assert "  - _Requirements: 1.4, 1.5_" in body


def test_flat_numbering_optional_tasks_and_validates_lines() -> None:
    feature, _ = _feature("duplicate-cleanup")
    graph = TaskGraph(parse_artifact("tasks", feature.text("tasks.md")))
    ids = feature.id_map
    optional = graph.tasks[ids["1.2"]]
    assert optional.title.endswith("(1.2, optional)") and not optional.done
    assert graph.deps[ids["1.1"]] == [ids["1"]]
    assert graph.deps[ids["2"]] == [ids["1.2"]]
    assert len(optional.covers) == 5  # **Validates: Requirements 1.1, 1.2, 1.3, 1.4, 1.5**


def test_unknown_requirement_references_are_warned_not_covered() -> None:
    feature, _ = _feature("5-sync-polish")
    assert feature.slug == "sync-polish"
    assert any("6.7" in w for w in feature.warnings)


def test_a_waves_dependency_graph_is_followed() -> None:
    feature, _ = _feature("lock-examples")
    graph = TaskGraph(parse_artifact("tasks", feature.text("tasks.md")))
    ids = feature.id_map
    assert graph.deps[ids["1"]] == []
    assert graph.deps[ids["2"]] == graph.deps[ids["3"]] == [ids["1"]]  # wave 2 runs in parallel
    assert graph.deps[ids["4"]] == [ids["2"], ids["3"]]
    assert graph.waves()[1] == [ids["2"], ids["3"]]


def test_wrapped_titles_are_read_whole() -> None:
    feature, _ = _feature("lock-examples")
    title = TaskGraph(parse_artifact("tasks", feature.text("tasks.md"))).tasks["T001"].title
    assert title == (
        "Replace wall-clock expiry with Log_Index_Based_Expiry in "
        "`include/raft/examples/distributed_lock_state_machine.hpp` (1)"
    )
    assert TaskGraph(parse_artifact("tasks", feature.text("tasks.md"))).tasks["T001"].files == [
        "include/raft/examples/distributed_lock_state_machine.hpp"
    ]


def test_criteria_with_wrapped_lines_and_nested_bullets() -> None:
    from specflow.importers.kiro_requirements import read_requirements

    text = (
        "# Requirements Document\n\n## Requirements\n\n### Requirement 2: Types\n\n"
        "**User Story:** As a user, I want types, so that I can build.\n\n"
        "#### Acceptance Criteria\n\n"
        "1. WHEN a struct is defined THEN it SHALL have\n   these fields:\n"
        "   - `group_id`: the group.\n   - `live_count`: live nodes.\n"
        "2. IF the count is zero THEN the system SHALL\n   report it.\n"
    )
    (req,) = read_requirements(text).requirements
    assert [(n, t) for n, t, _ in req.criteria] == [
        ("2.1", "WHEN a struct is defined THEN it SHALL have these fields:"),
        ("2.2", "IF the count is zero THEN the system SHALL report it."),
    ]
    assert req.criteria[0][2] == ["   - `group_id`: the group.", "   - `live_count`: live nodes."]


def test_done_and_started_boxes_keep_their_state(tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / ".kiro" / "specs" / "states"
    spec.mkdir(parents=True)
    (spec / "requirements.md").write_text(
        "# Requirements Document\n\n## Requirements\n\n### Requirement 1\n\n"
        "**User Story:** As a user, I want x, so that y.\n\n#### Acceptance Criteria\n\n"
        "1. THE system SHALL do x\n"
    )
    (spec / "tasks.md").write_text(
        "# Implementation Plan\n\n- [x] 1. Done\n- [-] 2. Started\n- [ ] 3. Open\n"
        "- [✓] 4. Ticked another way\n"
    )
    (feature,) = import_kiro(spec)
    tasks = parse_artifact("tasks", feature.text("tasks.md")).all_tasks()
    assert [t.done for t in tasks] == [True, False, False, True]
    assert "  - status: in progress" in feature.text("tasks.md")
