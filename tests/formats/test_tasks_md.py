from __future__ import annotations

import pytest

from specflow.domain.tasks import Phase, Task, TaskList
from specflow.errors import ParseError
from specflow.formats.tasks_md import (
    infer_files,
    load_graph,
    mark_done,
    parse_tasks,
    render_tasks,
)

SAMPLE = """\
---
description: "Task list"
---

# Tasks: User login

**Input**: Design documents from `/specs/003-login/`

## Format: `[ID] [P?] [Story] Description`

- **[P]**: Can run in parallel
- [ ] Review the plan before starting

## Phase 1: Setup

**Purpose**: Project initialization

- [ ] T001 Create project structure
- [x] T002 [P] Configure linting in pyproject.toml
- [X] T003 [P] Add CI workflow in .github/workflows/ci.yml

---

## Phase 2: User Story 1 - Login (Priority: P1) 🎯 MVP

### Tests for User Story 1

- [ ] T004 [P] [US1] Contract test in tests/contract/test_login.py
  - verify: pytest tests/contract/test_login.py
  - risk: low
- [ ] T005 [US1] [P] Add login endpoint in src/api/login.py
  - depends: T003, T001
  - files: src/api/login.py, tests/api/test_login.py
  - covers: FR-001, FR-004
  - model: cheap-model
  - note: anything else is ignored

### Implementation

```markdown
- [ ] T999 not a task, inside a code block
```

- [ ] T006 [US1] Wire it up
  - depends: none
- [ ] T007 Polish docs
  - depends:
  - files: none

**Checkpoint**: login works

## Dependencies & Execution Order

- Setup first, then stories.
"""


def test_parse_sample() -> None:
    tl = parse_tasks(SAMPLE, "tasks.md")
    assert tl.title == "User login"
    assert [p.title for p in tl.phases] == [
        "Phase 1: Setup",
        "Phase 2: User Story 1 - Login (Priority: P1) 🎯 MVP",
    ]
    tasks = {t.id: t for t in tl.all_tasks()}
    assert list(tasks) == ["T001", "T002", "T003", "T004", "T005", "T006", "T007"]
    lines = SAMPLE.split("\n")
    for t in tasks.values():
        assert t.line is not None and f"{t.id} " in lines[t.line - 1]
    assert tasks["T001"].done is False and tasks["T002"].done and tasks["T003"].done
    assert tasks["T002"].parallel and not tasks["T001"].parallel
    assert tasks["T004"].story == "US1" and tasks["T004"].parallel
    t5 = tasks["T005"]
    assert (t5.story, t5.parallel, t5.title) == (
        "US1",
        True,
        "Add login endpoint in src/api/login.py",
    )
    assert t5.depends == ["T003", "T001"]
    assert t5.files == ["src/api/login.py", "tests/api/test_login.py"]
    assert t5.covers == ["FR-001", "FR-004"]
    assert t5.model == "cheap-model"
    assert tasks["T004"].verify == "pytest tests/contract/test_login.py"
    assert tasks["T004"].risk == "low"
    assert tasks["T001"].depends is None
    assert tasks["T006"].depends == [] and tasks["T007"].depends == []
    assert tasks["T007"].files == []
    # inferred from the title when `files:` is absent
    assert tasks["T002"].files == ["pyproject.toml"]
    assert tasks["T003"].files == [".github/workflows/ci.yml"]


def test_tasks_before_any_phase_heading_and_empty_phases() -> None:
    tl = parse_tasks("# Tasks: X\n\n- [ ] T001 a\n\n## Empty\n\ntext\n\n## Real\n\n- [ ] T002 b\n")
    assert [(p.title, [t.id for t in p.tasks]) for p in tl.phases] == [
        ("", ["T001"]),
        ("Real", ["T002"]),
    ]


def test_wrapped_title_and_label_right_below() -> None:
    text = "# Tasks: X\n\n## P\n\n- [ ] T001 Create a long\n  title in a.py\n- [ ] T002 b\n**Checkpoint**: done\n"
    t1, t2 = parse_tasks(text).all_tasks()
    assert (t1.title, t1.files, t2.title) == ("Create a long title in a.py", ["a.py"], "b")


def test_star_bullets_and_nested_task_lines() -> None:
    tl = parse_tasks("# Tasks: X\n\n## P\n\n* [ ] T001 a\n  - [ ] T002 b\n")
    assert [t.id for t in tl.all_tasks()] == ["T001", "T002"]


@pytest.mark.parametrize(
    ("line", "bad"),
    [("X12 foo", "X12"), ("T12 foo", "T12"), ("T004ab foo", "T004ab"), ("TXXX [P] foo", "TXXX")],
)
def test_malformed_task_id(line: str, bad: str) -> None:
    text = f"# Tasks: X\n\n## P\n\n- [ ] T001 ok\n- [ ] {line}\n"
    with pytest.raises(ParseError) as err:
        parse_tasks(text, "specs/x/tasks.md")
    assert err.value.line == 6
    assert bad in err.value.message
    assert str(err.value).startswith("specs/x/tasks.md:6:")


def test_checklists_are_not_tasks() -> None:
    text = "# Tasks: X\n\n## P\n\n- [ ] Tests pass\n- [ ] TaskStatus enum has 4 values\n- [x] P1 done\n"
    assert parse_tasks(text).phases == []


def test_bad_risk_names_the_sub_bullet_line() -> None:
    text = "# Tasks: X\n\n## P\n\n- [ ] T001 a\n  - files: a.py\n  - risk: extreme\n"
    with pytest.raises(ParseError) as err:
        parse_tasks(text)
    assert err.value.line == 7
    assert "extreme" in err.value.message


def test_depends_and_covers_keep_ids_only() -> None:
    text = (
        "# Tasks: X\n\n## P\n\n- [ ] T001 a\n- [ ] T002 b\n"
        "  - depends: T001 (schema), and `T001`\n  - covers: FR-001 and SC-002.\n"
    )
    t2 = parse_tasks(text).all_tasks()[1]
    assert (t2.depends, t2.covers) == (["T001", "T001"], ["FR-001", "SC-002"])
    with pytest.raises(ParseError) as err:
        parse_tasks(text.replace("T001 (schema), and `T001`", "the schema task"))
    assert err.value.line == 7


def test_missing_title() -> None:
    with pytest.raises(ParseError) as err:
        parse_tasks("\n\n## Phase 1\n\n- [ ] T001 a\n")
    assert err.value.line == 3


def test_duplicate_ids_raise_with_both_lines() -> None:
    text = "# Tasks: X\n\n## P\n\n- [ ] T001 a\n- [ ] T002 b\n- [ ] T001 c\n"
    with pytest.raises(ParseError) as err:
        load_graph(text, "tasks.md")
    assert err.value.line == 7
    assert "duplicate task id T001" in err.value.message
    assert "line 5" in err.value.message


def test_unknown_dependency() -> None:
    text = "# Tasks: X\n\n## P\n\n- [ ] T001 a\n- [ ] T002 b\n  - depends: T009\n"
    with pytest.raises(ParseError) as err:
        load_graph(text)
    assert err.value.line == 6
    assert "unknown task T009" in err.value.message


def test_cycle() -> None:
    text = (
        "# Tasks: X\n\n## P\n\n"
        "- [ ] T001 a\n  - depends: T003\n"
        "- [ ] T002 b\n  - depends: T001\n"
        "- [ ] T003 c\n  - depends: T002\n"
    )
    with pytest.raises(ParseError) as err:
        load_graph(text, "tasks.md")
    assert err.value.line == 5  # the cycle is reported from its first task in the file
    assert "dependency cycle" in err.value.message
    assert "T001" in err.value.message and "T003" in err.value.message


def test_load_graph_uses_speckit_reading() -> None:
    g = load_graph(SAMPLE)
    assert g.deps["T001"] == []
    assert g.deps["T002"] == ["T001"]
    assert g.deps["T004"] == ["T001", "T002", "T003"]
    assert g.deps["T005"] == ["T003", "T001"]


# -- render -------------------------------------------------------------------------------


def test_render_is_spec_kit_style() -> None:
    tl = TaskList(
        title="Login",
        phases=[
            Phase(
                title="Phase 1: Setup",
                tasks=[
                    Task(id="T001", title="Create structure"),
                    Task(
                        id="T002",
                        title="Lint config in pyproject.toml",
                        parallel=True,
                        done=True,
                        files=["pyproject.toml"],
                    ),
                ],
            ),
            Phase(
                title="Phase 2: Story",
                tasks=[
                    Task(
                        id="T003",
                        title="Add endpoint in src/api/login.py",
                        story="US1",
                        parallel=True,
                        depends=[],
                        files=["src/api/login.py"],
                        covers=["FR-001"],
                        verify="pytest -q",
                        risk="high",
                        model="m",
                    ),
                    Task(id="T004", title="Docs in README.md", files=[]),
                ],
            ),
        ],
    )
    assert render_tasks(tl) == (
        "# Tasks: Login\n"
        "\n"
        "## Phase 1: Setup\n"
        "\n"
        "- [ ] T001 Create structure\n"
        "- [x] T002 [P] Lint config in pyproject.toml\n"
        "\n"
        "## Phase 2: Story\n"
        "\n"
        "- [ ] T003 [P] [US1] Add endpoint in src/api/login.py\n"
        "  - depends: none\n"
        "  - covers: FR-001\n"
        "  - verify: pytest -q\n"
        "  - risk: high\n"
        "  - model: m\n"
        "- [ ] T004 Docs in README.md\n"
        "  - files: none\n"
    )
    assert parse_tasks(render_tasks(tl)).model_dump() == tl.model_dump()


def test_render_parse_sample_round_trip() -> None:
    tl = parse_tasks(SAMPLE)
    again = parse_tasks(render_tasks(tl))
    assert again.model_dump() == tl.model_dump()


# -- mark_done ----------------------------------------------------------------------------


def test_mark_done_changes_only_those_boxes() -> None:
    out = mark_done(SAMPLE, {"T001", "T005", "T002"})
    before, after = SAMPLE.split("\n"), out.split("\n")
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert [after[i] for i in changed] == [
        "- [x] T001 Create project structure",
        "- [x] T005 [US1] [P] Add login endpoint in src/api/login.py",
    ]
    assert out.replace("[x] T001", "[ ] T001").replace("[x] T005", "[ ] T005") == SAMPLE
    tasks = {t.id: t for t in parse_tasks(out).all_tasks()}
    assert tasks["T001"].done and tasks["T005"].done and not tasks["T006"].done


def test_mark_done_keeps_crlf_and_no_final_newline() -> None:
    text = "# Tasks: X\r\n\r\n## P\r\n\r\n- [ ] T001 a\r\n  * [ ] T002 b  \r\n- [ ] T003 c"
    out = mark_done(text, {"T002", "T003"})
    assert out == "# Tasks: X\r\n\r\n## P\r\n\r\n- [ ] T001 a\r\n  * [x] T002 b  \r\n- [x] T003 c"


def test_mark_done_ignores_code_blocks_and_unknown_ids_raise() -> None:
    out = mark_done(SAMPLE, {"T006"})
    assert "- [ ] T999 not a task" in out
    with pytest.raises(ParseError):
        mark_done(SAMPLE, {"T999"})


def test_mark_done_nothing_to_do() -> None:
    assert mark_done(SAMPLE, set()) == SAMPLE
    assert mark_done(SAMPLE, {"T002"}) == SAMPLE


# -- files inference ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "files"),
    [
        ("Add login endpoint in src/api/login.py", ["src/api/login.py"]),
        (
            "Create `src/lib/auth.types.ts` from `data-model.md`.",
            ["src/lib/auth.types.ts", "data-model.md"],
        ),
        (
            "Configure Tailwind in frontend/tailwind.config.js and (frontend/app/globals.css)",
            ["frontend/tailwind.config.js", "frontend/app/globals.css"],
        ),
        ("Create .gitignore and .env.example", [".gitignore", ".env.example"]),
        ("Add backend/Dockerfile", ["backend/Dockerfile"]),
        ("Set up Node.js and Next.js, e.g. version 3.11, and/or I/O", []),
        ("Create tests/ directory and backend/src/{api,core}", []),
        ("See https://example.com/a.py and @specs/x/schema.md", []),
        ("Run --file=src/db/schema.sql", []),
        ("Edit a.py, a.py again", ["a.py"]),
    ],
)
def test_infer_files(title: str, files: list[str]) -> None:
    assert infer_files(title) == files
