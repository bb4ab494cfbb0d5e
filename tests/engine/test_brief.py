from __future__ import annotations

from pathlib import Path

from specflow.agents.brief import MAX_FILE_CHARS, BriefInput, build_brief
from specflow.domain.tasks import Task

SPEC = """# Spec: login

## Requirements

- **FR-001**: Users MUST be able to log in with email and password.
- **FR-002**: The system MUST lock an account after 5 failed attempts.
  (counted per hour)
- **FR-003**: Unrelated requirement.

## User Story 1 - Log in (US1)

As a user I want to log in.
"""

PLAN = """---
specflow:
  artifact: plan
---

# Plan

## Technical context

Python 3.11, FastAPI.

## Design notes for src/api/login.py

Use bcrypt.

## Something else

Nothing to do with it.
"""


def test_brief_has_task_requirements_excerpts_files_feedback(tmp_path: Path) -> None:
    (tmp_path / "src" / "api").mkdir(parents=True)
    (tmp_path / "src" / "api" / "login.py").write_text("def login():\n    pass\n")
    (tmp_path / "big.txt").write_text("x" * (MAX_FILE_CHARS * 3))
    task = Task(
        id="T012",
        title="Add login endpoint in src/api/login.py",
        story="US1",
        files=["src/api/login.py", "big.txt", "new.py", "../outside.txt"],
        covers=["FR-001", "FR-002", "FR-404"],
        verify="pytest tests/api",
    )
    brief = build_brief(
        BriefInput(
            task=task,
            feature="003-login",
            worktree=tmp_path,
            spec_text=SPEC,
            plan_text=PLAN,
            feedback="E   AssertionError: 401 != 200",
            attempt=2,
        )
    )
    assert brief.startswith("# Task T012: Add login endpoint in src/api/login.py")
    assert "Done when this passes: `pytest tests/api`" in brief
    assert "## Feedback from attempt 1" in brief and "401 != 200" in brief
    assert "**FR-001**: Users MUST" in brief and "(counted per hour)" in brief
    assert "FR-003" not in brief and "FR-404: (not found in spec.md)" in brief
    assert "Use bcrypt." in brief and "Nothing to do with it." not in brief
    assert "artifact: plan" not in brief
    assert "def login():" in brief and "`new.py`\n\n(does not exist yet)" in brief
    assert "outside.txt`\n" not in brief.split("## Current content", 1)[1]
    assert len(brief) < 20_000  # bounded: the big file is cut
