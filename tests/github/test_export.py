"""`specflow export github` against a fake gh on PATH."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.github.conftest import FakeGh

SPEC = """# Feature Specification: Login

Let users log in.

## Requirements

### Functional Requirements

- **FR-001**: System MUST let users log in with email and password.
- **FR-002**: System MUST lock an account after five failed attempts.
"""
TASKS = """# Tasks: Login

## Phase 1: Setup

- [x] T001 Create the project skeleton in src/__init__.py

## Phase 2: Core

- [ ] T002 [US1] Add the user model in src/models/user.py
  - files: src/models/user.py
  - covers: FR-001
- [ ] T003 [US1] Add the login endpoint in src/api/login.py
  - depends: T001, T002
  - files: src/api/login.py, tests/test_login.py
  - covers: FR-001
  - verify: pytest tests/test_login.py
- [ ] T004 [P] [US2] Lock accounts in src/api/lock.py
  - depends: T003
  - covers: FR-002
  - risk: high
"""


def make_feature(root: Path, tasks: str = TASKS) -> Path:
    from specflow.artifacts import ArtifactStore
    from specflow.project import Feature, Project

    project = Project.discover(root)
    assert project is not None
    feature = Feature(project.specs_dir / "001-login")
    feature.path.mkdir(parents=True, exist_ok=True)
    (feature.path / "feature.md").write_text("Users log in.\n")
    store = ArtifactStore(project, feature)
    store.write("spec", SPEC)
    store.write("plan", "# Implementation Plan: Login\n\n## Summary\n\nSmall.\n")
    store.write("tasks", tasks)
    return feature.path


def creates(calls: list[list[str]]) -> list[list[str]]:
    return [c for c in calls if c[:2] == ["issue", "create"]]


def arg(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


def test_dry_run_prints_exact_requests_and_runs_nothing(project: Path, fake_gh: FakeGh) -> None:
    feature = make_feature(project)
    res = run_cli(["export", "github", "1", "--dry-run", "--repo", "o/r"], project)
    assert res.code == 0, res.stderr
    calls = [json.loads(line) for line in res.stdout.splitlines()]
    assert all(c[0] == "gh" for c in calls)
    labels = [c[3] for c in calls if c[1:3] == ["label", "create"]]
    assert labels == sorted(
        ["phase:1-setup", "phase:2-core", "risk:high", "specflow", "story:US1", "story:US2"]
    )
    issues = [c for c in calls if c[1:3] == ["issue", "create"]]
    # T001 is done and never exported: no issue for it
    assert [arg(c, "--title") for c in issues] == [
        "[001-login] T002 Add the user model in src/models/user.py",
        "[001-login] T003 Add the login endpoint in src/api/login.py",
        "[001-login] T004 Lock accounts in src/api/lock.py",
    ]
    assert all(arg(c, "--repo") == "o/r" for c in calls)
    assert fake_gh.calls() == []
    assert not (feature / "github.json").exists()


def test_export_creates_issues_in_order_with_dependencies(project: Path, fake_gh: FakeGh) -> None:
    feature = make_feature(project)
    res = run_cli(["export", "github", "login"], project)
    assert res.code == 0, res.stderr
    assert "3 created" in res.stdout
    made = creates(fake_gh.calls())
    assert [arg(c, "--title").split()[1] for c in made] == ["T002", "T003", "T004"]
    t2, t3, t4 = made
    assert [t3[i + 1] for i, a in enumerate(t3) if a == "--label"] == [
        "specflow",
        "phase:2-core",
        "story:US1",
    ]
    assert "risk:high" in t4 and "--repo" not in t4
    body = arg(t3, "--body")
    assert "- **FR-001**: System MUST let users log in with email and password." in body
    assert "- `src/api/login.py`" in body and "pytest tests/test_login.py" in body
    # dependencies: T001 done (no issue, ticked), T002 became #12
    assert "- [x] T001 Create the project skeleton in src/__init__.py" in body
    assert "- [ ] #12 T002 Add the user model in src/models/user.py" in body
    assert "- [ ] #13 T003 Add the login endpoint" in arg(t4, "--body")
    assert "- [x] T001" in arg(t2, "--body")  # the implicit phase order
    record = json.loads((feature / "github.json").read_text())
    assert record["issues"] == {"T002": 12, "T003": 13, "T004": 14}
    assert record["repo"] is None

    # a second export changes nothing on GitHub
    before = len(fake_gh.calls())
    res = run_cli(["export", "github", "1", "--json"], project)
    assert res.code == 0, res.stderr
    assert len(fake_gh.calls()) == before
    actions = {i["task"]: i["action"] for i in json.loads(res.stdout)["issues"]}
    assert actions == {
        "T001": "skipped",
        "T002": "unchanged",
        "T003": "unchanged",
        "T004": "unchanged",
    }


def test_reexport_updates_changed_and_closes_done_tasks(project: Path, fake_gh: FakeGh) -> None:
    feature = make_feature(project)
    assert run_cli(["export", "github", "1"], project).code == 0
    first = len(fake_gh.calls())
    changed = TASKS.replace("- [ ] T002", "- [x] T002").replace("five failed", "x")
    changed = changed.replace("Lock accounts in", "Lock accounts after failures in")
    make_feature(project, changed)
    res = run_cli(["export", "github", "1"], project)
    assert res.code == 0, res.stderr
    new = fake_gh.calls()[first:]
    assert creates(new) == []
    edits = {c[2]: c for c in new if c[:2] == ["issue", "edit"]}
    # T003's body ticks its dependency T002; T004's title changed
    assert set(edits) == {"13", "14"}
    assert "- [x] #12 T002" in arg(edits["13"], "--body")
    assert arg(edits["14"], "--title").endswith("Lock accounts after failures in src/api/lock.py")
    assert "--add-label" in edits["14"]
    assert ["issue", "close", "12", "--reason", "completed"] in new
    assert json.loads((feature / "github.json").read_text())["closed"] == ["T002"]


def test_export_to_another_repo_is_refused(project: Path, fake_gh: FakeGh) -> None:
    make_feature(project)
    assert run_cli(["export", "github", "1", "--repo", "o/r"], project).code == 0
    res = run_cli(["export", "github", "1", "--repo", "x/y"], project)
    assert res.code == 2 and "exported to o/r" in res.stderr


def test_missing_gh_is_one_line_exit_2(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_feature(project)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    res = run_cli(["export", "github", "1"], project)
    assert res.code == 2
    assert res.stderr.count("\n") == 1
    assert "'gh' is not on PATH" in res.stderr and "gh auth login" in res.stderr
    assert "cli.github.com" in res.stderr
    # the dry run needs no gh
    assert run_cli(["export", "github", "1", "--dry-run"], project).code == 0


def test_gh_failure_keeps_what_was_created(
    project: Path, fake_gh: FakeGh, monkeypatch: pytest.MonkeyPatch
) -> None:
    feature = make_feature(project)
    # gh fails on the third issue
    monkeypatch.setenv(
        "FAKE_GH_FAIL", "issue create --title [001-login] T004=HTTP 502: Bad Gateway"
    )
    res = run_cli(["export", "github", "1"], project)
    assert res.code == 1 and "HTTP 502" in res.stderr
    assert json.loads((feature / "github.json").read_text())["issues"] == {"T002": 12, "T003": 13}
    monkeypatch.delenv("FAKE_GH_FAIL")
    assert run_cli(["export", "github", "1"], project).code == 0
    # only the failed one is asked for again
    assert [arg(c, "--title").split()[1] for c in creates(fake_gh.calls())] == [
        "T002",
        "T003",
        "T004",
        "T004",
    ]


def test_existing_labels_are_fine(
    project: Path, fake_gh: FakeGh, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_feature(project)
    monkeypatch.setenv(
        "FAKE_GH_FAIL", 'label create=label with name "x" already exists; use `--force`'
    )
    assert run_cli(["export", "github", "1"], project).code == 0
    assert len(creates(fake_gh.calls())) == 3


def test_bad_repo_and_no_tasks(project: Path, fake_gh: FakeGh) -> None:
    feature = make_feature(project)
    res = run_cli(["export", "github", "1", "--repo", "not a repo"], project)
    assert res.code == 2 and "OWNER/NAME" in res.stderr
    (feature / "tasks.md").unlink()
    res = run_cli(["export", "github", "1"], project)
    assert res.code == 2 and "no tasks.md" in res.stderr
    assert os.environ["FAKE_GH_DIR"]
