"""`status` and `check` on many features: each artifact's front matter is parsed once, task
counts and open questions are remembered by content, and broken front matter stays an error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import specflow.formats.frontmatter as fm
from specflow.project import Project
from specflow.stages.check import check_feature
from specflow.stages.status import feature_status, project_status
from tests.conftest import run_cli
from tests.stages.demo_feature import demo_project

SPEC = (
    "# Feature Specification: Demo\n\n## Requirements\n\n"
    "- **FR-001**: The tool MUST add [NEEDS CLARIFICATION: which numbers?].\n"
)
TASKS = "# Tasks: Demo\n\n## Phase 1: Setup\n\n- [x] T001 Add\n  - covers: FR-001\n- [ ] T002 Sub\n"


@pytest.fixture
def proj(project: Path) -> Project:
    return demo_project(project, SPEC, TASKS)


def test_each_front_matter_is_parsed_once_per_feature(
    proj: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    real = fm.split_front_matter

    def counting(text: str, path: str | None = None) -> object:
        seen.append(text.split("\n", 3)[2])  # "  artifact: spec" …
        return real(text, path)

    monkeypatch.setattr(fm, "split_front_matter", counting)
    (feature,) = proj.features()
    st = feature_status(proj, feature)
    assert (st.tasks_total, st.tasks_done, st.open_questions) == (2, 1, 1)
    assert [a.state for a in st.artifacts] == ["fresh", "fresh", "fresh"]
    assert sorted(seen) == ["  artifact: plan", "  artifact: spec", "  artifact: tasks"]
    seen.clear()
    assert check_feature(proj, feature) == []
    assert len(seen) == 3


def test_summaries_are_remembered_by_content(proj: Project) -> None:
    (feature,) = proj.features()
    cache = proj.state_dir / "cache" / "summaries.json"
    assert project_status(proj, [feature])[0].tasks_done == 1
    entries = json.loads(cache.read_text())["entries"]
    assert sorted(v for k, v in entries.items() if k.startswith("tasks:")) == [[2, 1]]
    # a changed body is a new key: never a stale answer
    path = feature.artifact("tasks")
    path.write_text(path.read_text().replace("- [ ] T002", "- [x] T002"))
    assert project_status(proj, [feature])[0].tasks_done == 2
    # an unreadable cache is rebuilt, not an error
    cache.write_text("{not json")
    assert project_status(proj, [feature])[0].tasks_done == 2
    assert json.loads(cache.read_text())["version"] == 1


def test_unclosed_front_matter_is_reported_not_read_as_body(proj: Project) -> None:
    (feature,) = proj.features()
    path = feature.artifact("plan")
    path.write_text("---\nspecflow:\n  artifact: plan\n# Implementation Plan: Demo\n")
    res = run_cli(["status", "--json"], proj.root)
    data = json.loads(res.stdout)["features"][0]
    assert "front matter is not closed" in data["error"]
    assert [a["state"] for a in data["artifacts"]][1] == "broken"
    chk = run_cli(["check"], proj.root)
    assert chk.code == 1 and "plan.md:1" in chk.stdout + chk.stderr
