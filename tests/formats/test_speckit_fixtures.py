"""Real Spec Kit files from public repositories (see tests/fixtures/speckit/SOURCES.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from specflow.formats import parse_artifact, render_artifact
from specflow.formats.tasks_md import load_graph, mark_done

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "speckit"
TASK_FILES = sorted(FIXTURES.glob("*/tasks.md"))
TASK_LINE = re.compile(r"^\s*[-*+] \[[ xX]\] (T\d+)\b")


def _task_lines(text: str) -> list[tuple[int, str]]:
    """(1-based line, id) of every task line outside fenced code, by plain line scanning."""
    out: list[tuple[int, str]] = []
    fence: str | None = None
    for n, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip()
        if stripped.startswith(("```", "~~~")):
            mark = stripped[:3]
            fence = None if fence == mark else fence or mark
            continue
        m = TASK_LINE.match(line)
        if m and fence is None:
            out.append((n, m.group(1)))
    return out


def test_there_are_enough_fixtures() -> None:
    assert len(TASK_FILES) >= 3
    assert len({p.parent.name for p in TASK_FILES}) == len(TASK_FILES)


@pytest.mark.parametrize("path", TASK_FILES, ids=lambda p: p.parent.name)
def test_real_tasks_parse_into_an_acyclic_graph(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    graph = load_graph(text, str(path))
    expected = _task_lines(text)
    assert len(expected) >= 20
    assert [(t.line, t.id) for t in graph.tasklist.all_tasks()] == expected
    assert set(graph.tasks) == {tid for _, tid in expected}
    assert len(graph.order()) == len(expected)  # acyclic: a full topological order exists
    assert sum(len(w) for w in graph.waves()) == len(expected)
    assert graph.critical_path()
    # rendering keeps every task, and reading it back gives the same model
    again = parse_artifact("tasks", render_artifact("tasks", graph.tasklist))
    assert again.model_dump() == graph.tasklist.model_dump()


@pytest.mark.parametrize("path", TASK_FILES, ids=lambda p: p.parent.name)
def test_mark_done_on_real_files(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    graph = load_graph(text)
    open_ids = {t.id for t in graph.tasklist.all_tasks() if not t.done}
    out = mark_done(text, open_ids)
    assert len(out) == len(text)
    assert all(t.done for t in load_graph(out).tasklist.all_tasks())
    diff = [(a, b) for a, b in zip(text.splitlines(), out.splitlines(), strict=True) if a != b]
    assert len(diff) == len(open_ids)
    assert all(a.replace("[ ]", "[x]", 1) == b for a, b in diff)


def test_real_spec() -> None:
    path = FIXTURES / "nprbst-speck" / "spec.md"
    spec = parse_artifact("spec", path.read_text(encoding="utf-8"), str(path))
    assert spec.title == "Atomic Transform Rollback"
    assert [s.priority for s in spec.stories] == ["P1", "P1", "P2", "P2"]
    assert all(s.scenarios and s.why and s.independent_test for s in spec.stories)
    assert len(spec.requirements) >= 10 and len(spec.success_criteria) >= 3
    assert spec.entities and spec.edge_cases
    assert parse_artifact("spec", render_artifact("spec", spec)) == spec


def test_real_spec_with_suffixed_ids() -> None:
    path = FIXTURES / "ethanharstad-scheduler" / "spec.md"
    spec = parse_artifact("spec", path.read_text(encoding="utf-8"), str(path))
    assert "FR-002b" in spec.requirement_ids()


@pytest.mark.parametrize("repo", ["nprbst-speck", "ethanharstad-scheduler"])
def test_real_plans(repo: str) -> None:
    path = FIXTURES / repo / "plan.md"
    plan = parse_artifact("plan", path.read_text(encoding="utf-8"), str(path))
    keys = [c.key for c in plan.technical_context]
    assert keys[:2] == ["Language/Version", "Primary Dependencies"]
    assert len(plan.constitution_check) >= 5
    assert all(g.status in ("pass", "n/a") for g in plan.constitution_check)
    assert (
        plan.summary and "```text" in plan.structure and "**Structure Decision**" in plan.structure
    )
    assert parse_artifact("plan", render_artifact("plan", plan)) == plan
