"""Spec Kit files written for these tests, each reproducing quirks seen in real projects
(docs/importing.md lists them and where they were seen)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from specflow.formats import parse_artifact, render_artifact
from specflow.formats.tasks_md import load_graph, mark_done

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "speckit"
TASK_FILES = sorted(FIXTURES.glob("*/tasks.md"))
TASK_LINE = re.compile(r"^\s*(?:[-*+]|\d+[.)]) \[[ xX]\] (T\d{3,}[A-Za-z]?(?:\.\d+)*)(?=\s|$)")


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
    assert len(TASK_FILES) >= 6
    assert len({p.parent.name for p in TASK_FILES}) == len(TASK_FILES)


@pytest.mark.parametrize("path", TASK_FILES, ids=lambda p: p.parent.name)
def test_real_tasks_parse_into_an_acyclic_graph(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    graph = load_graph(text, str(path))
    expected = _task_lines(text)
    assert len(expected) >= 5
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
    path = FIXTURES / "complete-set" / "spec.md"
    spec = parse_artifact("spec", path.read_text(encoding="utf-8"), str(path))
    assert spec.title == "Shelf Bookmarks"
    assert [s.priority for s in spec.stories] == ["P1", "P1", "P2", "P2"]
    assert all(s.scenarios and s.why and s.independent_test for s in spec.stories)
    assert len(spec.requirements) >= 10 and len(spec.success_criteria) >= 3
    assert spec.entities and spec.edge_cases
    assert parse_artifact("spec", render_artifact("spec", spec)) == spec


def test_real_spec_with_suffixed_ids() -> None:
    path = FIXTURES / "inline-deps" / "spec.md"
    spec = parse_artifact("spec", path.read_text(encoding="utf-8"), str(path))
    assert "FR-002b" in spec.requirement_ids()


@pytest.mark.parametrize("repo", ["complete-set", "inline-deps"])
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


def test_ids_as_people_write_them_are_all_kept() -> None:
    path = FIXTURES / "ids-in-the-wild" / "tasks.md"
    graph = load_graph(path.read_text(encoding="utf-8"), str(path))
    ids = [t.id for t in graph.tasklist.all_tasks()]
    assert ids == [
        "T001", "T002", "T003", "T003A", "T004a",
        "T005", "T005.1", "T005.2", "T200.1", "T200.2", "T201", "T202",
    ]  # fmt: skip
    tasks = graph.tasks
    assert tasks["T003"].title.endswith("that the list screen calls")  # a wrapped title
    assert tasks["T003"].files == ["src/services/catalogue.py"]
    assert tasks["T001"].title.startswith("Создать модель книги")
    assert tasks["T005"].done and tasks["T005.1"].done and not tasks["T005.2"].done
    assert graph.deps["T200.2"] == ["T003A", "T004a"]
    assert graph.deps["T200.1"] == ["T005.2"]


def test_checklist_items_are_not_tasks_and_story_tags_stay_in_titles() -> None:
    checklist = load_graph((FIXTURES / "checklist-mixed" / "tasks.md").read_text())
    assert list(checklist.tasks) == ["T001", "T002", "T003", "T004", "T005"]
    tags = load_graph((FIXTURES / "front-matter-tags" / "tasks.md").read_text().lstrip("\n"))
    assert tags.tasks["T001"].title.startswith("[AUTH-US1] Sign-up form")
    assert tags.tasks["T003"].parallel and tags.tasks["T003"].story is None


@pytest.mark.parametrize(
    ("line", "bad"),
    [("T12 short", "T12"), ("T004ab two letters", "T004ab"), ("T005-x dash", "T005-x")],
)
def test_an_unreadable_id_is_an_error_with_its_line(line: str, bad: str) -> None:
    from specflow.errors import ParseError

    text = f"# Tasks: X\n\n## P\n\n- [ ] T001 fine\n- [ ] {line}\n"
    with pytest.raises(ParseError, match=rf"x.md:6: malformed task id '{bad}'"):
        load_graph(text, "x.md")
