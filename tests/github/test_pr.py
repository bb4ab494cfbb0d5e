"""`open_pull_request` (for `implement --pr`) and `specflow export pr`, with a fake gh."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import git, run_cli
from tests.github.conftest import FakeGh
from tests.github.test_export import SPEC, arg, make_feature

RECORD = {
    "run": "20261125-120000-abcd",
    "feature": "001-login",
    "agent": "builtin",
    "parallel": 2,
    "status": "failed",
    "tasks": {
        "T002": {"status": "merged", "usage": {"cost_usd": 0.01}},
        "T003": {"status": "merged", "usage": {"cost_usd": 0.02}},
        "T004": {"status": "failed", "reason": "verify failed:\n2 tests failed"},
    },
    "not_run": [],
    "usage": {"prompt_tokens": 1000, "completion_tokens": 234, "cost_usd": 0.0312},
}


@pytest.fixture
def feature(project: Path, tmp_path: Path) -> Path:
    path = make_feature(project)
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "specs")
    git(project, "branch", "specflow/001-login")
    remote = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(project, "remote", "add", "origin", str(remote))
    return path


def _open(project: Path, dry_run: bool, record: dict | None = RECORD, **kw: object):  # type: ignore[no-untyped-def]
    from specflow.github.pr import open_pull_request
    from specflow.project import Project

    proj = Project.discover(project)
    assert proj is not None
    return open_pull_request(proj, proj.resolve_feature("1"), record, dry_run=dry_run, **kw)


def test_dry_run_plans_push_and_create(project: Path, feature: Path, fake_gh: FakeGh) -> None:
    plan = _open(project, True)
    push, create = plan.calls
    assert push == [
        "git",
        "push",
        "origin",
        "refs/heads/specflow/001-login:refs/heads/specflow/001-login",
    ]
    assert create[:7] == ["gh", "pr", "create", "--base", "main", "--head", "specflow/001-login"]
    assert arg(create, "--title") == "Login (001-login)"
    body = arg(create, "--body")
    assert "Let users log in." in body
    assert "- **FR-002**: System MUST lock an account after five failed attempts." in body
    assert "- [x] T001 Create the project skeleton" in body  # done in tasks.md
    assert "- [x] T003 Add the login endpoint" in body  # merged in the run
    assert (
        "- [ ] T004 Lock accounts in src/api/lock.py — **failed**: verify failed: 2 tests failed"
        in body
    )
    assert "tasks merged: 2, failed: 1" in body and "cost: $0.0312 (1234 tokens)" in body
    assert fake_gh.calls() == []
    assert "\n" not in plan.dry_run_text().splitlines()[0]
    assert json.loads(plan.dry_run_text().splitlines()[1]) == create


def test_opens_the_pull_request(project: Path, feature: Path, fake_gh: FakeGh) -> None:
    (feature / "github.json").write_text(json.dumps({"issues": {"T002": 7, "T003": 8}}))
    plan = _open(project, False, base="develop", repo="o/r", draft=True)
    assert plan.url == "https://github.com/o/r/pull/12"
    [call] = fake_gh.calls()
    assert call[:4] == ["pr", "create", "--repo", "o/r"]
    assert arg(call, "--base") == "develop" and arg(call, "--head") == "specflow/001-login"
    assert call[-1] == "--draft"
    body = arg(call, "--body")
    assert "T002 Add the user model in src/models/user.py (#7)" in body
    assert "Closes #7, Closes #8" in body
    # the branch really reached the remote
    assert git(project, "ls-remote", "origin").strip().endswith("refs/heads/specflow/001-login")


def test_existing_pull_request_is_edited(
    project: Path, feature: Path, fake_gh: FakeGh, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "FAKE_GH_FAIL",
        'pr create=a pull request for branch "specflow/001-login" into branch "main" already '
        "exists:\nhttps://github.com/o/r/pull/5",
    )
    plan = _open(project, False, record=None, push=False)
    assert plan.updated and plan.url == "https://github.com/o/r/pull/5"
    _create, edit = fake_gh.calls()
    assert edit[:3] == ["pr", "edit", "https://github.com/o/r/pull/5"]
    assert "### Run" not in arg(edit, "--body")


def test_no_integration_branch(project: Path, fake_gh: FakeGh) -> None:
    make_feature(project)
    from specflow.errors import InputError

    with pytest.raises(InputError, match="no integration branch specflow/001-login"):
        _open(project, False)
    assert _open(project, True).calls[-1][:3] == ["gh", "pr", "create"]


def test_cli_reads_the_run_record_from_the_branch(
    project: Path, feature: Path, fake_gh: FakeGh
) -> None:
    from specflow.project import Project
    from specflow.workspace.git import Git
    from specflow.workspace.integration import commit_file

    proj = Project.discover(project)
    assert proj is not None
    rel = f"specs/001-login/runs/{RECORD['run']}.json"
    commit_file(Git(project), "refs/heads/specflow/001-login", rel, json.dumps(RECORD), "run\n")
    res = run_cli(["export", "pr", "1", "--dry-run"], project)
    assert res.code == 0, res.stderr
    create = json.loads(res.stdout.splitlines()[-1])
    assert "Run `20261125-120000-abcd`" in arg(create, "--body")
    res = run_cli(["export", "pr", "1", "--run", "nope", "--dry-run"], project)
    assert res.code == 2 and "no run record nope" in res.stderr
    res = run_cli(["export", "pr", "1"], project)
    assert res.code == 0, res.stderr
    assert "opened https://github.com/o/r/pull/12" in res.stdout
    assert SPEC.splitlines()[2] in arg(fake_gh.calls()[0], "--body")


def test_the_one_call_for_implement(project: Path, feature: Path, fake_gh: FakeGh) -> None:
    from specflow.github.pr import pull_request_after_run
    from specflow.project import Project
    from specflow.workspace.git import Git
    from specflow.workspace.integration import commit_file

    proj = Project.discover(project)
    assert proj is not None
    dry = pull_request_after_run(proj, "001-login", None, dry_run=True)
    assert "### Run" not in arg(dry.calls[-1], "--body") and fake_gh.calls() == []
    rel = f"specs/001-login/runs/{RECORD['run']}.json"
    commit_file(Git(project), "refs/heads/specflow/001-login", rel, json.dumps(RECORD), "run\n")
    plan = pull_request_after_run(proj, "001-login", str(RECORD["run"]), dry_run=False, draft=True)
    assert plan.url == "https://github.com/o/r/pull/12"
    assert "tasks merged: 2, failed: 1" in arg(fake_gh.calls()[0], "--body")


def test_implement_pr_runs_the_graph_then_opens_the_pull_request(
    project: Path, fake_gh: FakeGh, tmp_path: Path
) -> None:
    """`specflow implement --pr`: every task lands, then one `gh pr create` for the branch,
    its body built from the spec, the ticked tasks and the run record."""
    import sys

    tasks = (
        "# Tasks: Login\n\n## Phase 1: Core\n\n"
        "- [ ] T001 Add a.txt\n  - files: a.txt\n  - covers: FR-001\n"
        "- [ ] T002 Add b.txt\n  - depends: T001\n  - files: b.txt\n  - covers: FR-002\n"
    )
    make_feature(project, tasks)
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "specs")
    remote = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(project, "remote", "add", "origin", str(remote))
    agent = tmp_path / "agent.py"
    agent.write_text(
        "import os, pathlib\n"
        "t = os.environ['SPECFLOW_TASK_ID']\n"
        "pathlib.Path({'T001': 'a.txt', 'T002': 'b.txt'}[t]).write_text(t + '\\n')\n"
    )
    dry = run_cli(
        ["implement", "1", "--dry-run", "--pr", "--agent", f"cmd:{sys.executable} {agent}"], project
    )
    assert dry.code == 0, dry.stderr
    assert '"pr", "create"' in dry.stdout and fake_gh.calls() == []
    res = run_cli(["implement", "1", "--pr", "--agent", f"cmd:{sys.executable} {agent}"], project)
    assert res.code == 0, res.stderr
    assert "pull request: https://github.com/o/r/pull/" in res.stdout
    creates = [c for c in fake_gh.calls() if c[:2] == ["pr", "create"]]
    assert len(creates) == 1
    argv = creates[0]
    assert arg(argv, "--head") == "specflow/001-login"
    body = arg(argv, "--body")
    assert "FR-001" in body and "T002" in body and "[x]" in body
    # the branch was pushed for the pull request
    assert git(remote, "branch", "--list", "specflow/001-login").strip()
