"""`implement` checks what it can before it creates anything: one line, exit 2, and the
repository (status, branches, worktrees, run folders) exactly as it was."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import git, run_cli

TASKS = """# Tasks: x

## Phase 1: Build

- [ ] T001 First
  - files: a.txt
  - verify: {verify}
"""


def _repo(tmp_path: Path, *, toml: str = "", verify: str = "true") -> Path:
    repo = tmp_path / "repo"
    (repo / "specs" / "001-x").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "specflow.toml").write_text("[project]\nname = 'x'\n" + toml)
    (repo / "specs" / "001-x" / "tasks.md").write_text(TASKS.format(verify=verify))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "specs")
    return repo


def _state(repo: Path) -> tuple[str, str, str, list[str]]:
    runs = repo / ".specflow" / "runs"
    return (
        git(repo, "status", "--porcelain", "--untracked-files=all"),
        git(repo, "for-each-ref"),
        git(repo, "worktree", "list", "--porcelain"),
        sorted(p.name for p in runs.iterdir()) if runs.is_dir() else [],
    )


AGENT = f"cmd:{sys.executable} -c pass"


@pytest.mark.parametrize(
    ("toml", "verify", "args", "said"),
    [
        ('test_command = "pytest -k \'x"\n', "true", [], "test_command does not parse"),
        ("", "python3 -c 'unclosed", [], "T001 verify: does not parse"),
        ("", "true", ["--agent", "builtin"], "SPECFLOW_MODEL"),
        ("", "true", ["--agent", AGENT, "--tmux"], "--tmux needs a CLI agent"),
        ("", "true", ["--agent", "cmd:"], "empty agent command"),
    ],
)
def test_bad_setup_is_refused_before_anything_exists(
    tmp_path: Path, toml: str, verify: str, args: list[str], said: str
) -> None:
    repo = _repo(tmp_path, toml=toml, verify=verify)
    before = _state(repo)
    res = run_cli(["implement", *(args or ["--agent", AGENT])], repo)
    assert res.code == 2, res.stdout + res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and said in lines[0], res.stderr
    assert _state(repo) == before


def test_a_branch_specflow_did_not_make_is_refused(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    git(repo, "switch", "-q", "-c", "specflow/001-x")
    (repo / "mine.txt").write_text("my own work\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "my own work")
    git(repo, "switch", "-q", "main")
    before = _state(repo)
    res = run_cli(["implement", "--agent", AGENT], repo)
    assert res.code == 2
    assert "specflow/001-x exists and specflow did not make it from main" in res.stderr
    assert "git branch -m specflow/001-x" in res.stderr
    assert _state(repo) == before


def test_specs_committed_on_another_branch_than_the_base(tmp_path: Path) -> None:
    repo = _repo(tmp_path, toml="base_branch = 'main'\n")
    git(repo, "switch", "-q", "-c", "work")
    tasks = repo / "specs" / "001-x" / "tasks.md"
    tasks.write_text(tasks.read_text() + "- [ ] T002 Second\n")
    git(repo, "commit", "-qam", "T002 on work")
    before = _state(repo)
    res = run_cli(["implement", "--agent", AGENT], repo)
    assert res.code == 2
    assert "specs/001-x/tasks.md not committed on main" in res.stderr
    assert "then merge work into main, or set [project] base_branch" in res.stderr
    assert _state(repo) == before
