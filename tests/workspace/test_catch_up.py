"""Later runs start from the base: the integration branch takes the base's new commits first,
tasks.md merging without conflicts when one side ticks and the other edits; a branch specflow
did not make is refused."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from specflow.errors import InputError
from specflow.workspace.git import IDENTITY, Git
from specflow.workspace.integration import catch_up, commit_file, not_ours
from specflow.workspace.tasks_merge import merge_tasks, tick, ticked
from tests.conftest import git

TASKS = """---
specflow:
  artifact: tasks
---
# Tasks: x

## Phase 1: Build

- [ ] T001 First
  - files: a.txt
- [ ] T002 Second
  - depends: T001
- [ ] T003 Third
"""
REF = "refs/heads/specflow/001-x"
REL = "specs/001-x/tasks.md"


def sh(repo: Path, *args: str) -> str:
    return git(repo, *args).strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "repo"
    (r / "specs" / "001-x").mkdir(parents=True)
    sh(r, "init", "-q", "-b", "main")
    (r / REL).write_text(TASKS)
    (r / "a.txt").write_text("a\n")
    sh(r, "add", "-A")
    sh(r, "commit", "-qm", "specs")
    return r


def _commit_on_main(repo: Path, rel: str, text: str, msg: str) -> str:
    (repo / rel).write_text(text)
    sh(repo, "commit", "-qam", msg)
    return sh(repo, "rev-parse", "HEAD")


def test_merge_tasks_ticks_on_one_side_edits_on_the_other() -> None:
    ours = tick(TASKS, {"T001", "T002"})
    assert ticked(ours) == {"T001", "T002"}
    theirs = TASKS.replace("- [ ] T002 Second", "- [ ] T002 Second, renamed") + "- [ ] T004 New\n"
    merged = merge_tasks(TASKS, ours, theirs)
    assert merged == theirs.replace("- [ ] T001", "- [x] T001").replace(
        "- [ ] T002 Second, renamed", "- [x] T002 Second, renamed"
    )
    assert merge_tasks(TASKS, theirs, ours) == merged  # either side
    # the user removed T002 on the base: its tick has nowhere to go, nothing else breaks
    removed = TASKS.replace("- [ ] T002 Second\n  - depends: T001\n", "")
    assert merge_tasks(TASKS, ours, removed) == removed.replace("- [ ] T001", "- [x] T001")
    # an untick by the user stays
    both = tick(TASKS, {"T001"})
    assert merge_tasks(both, tick(both, {"T002"}), TASKS) == tick(TASKS, {"T002"})
    # both sides changed more than ticks: a real conflict
    assert merge_tasks(TASKS, ours + "- [ ] T005 Mine\n", theirs) is None


def test_catch_up_fast_forwards_a_merged_branch(repo: Path) -> None:
    git = Git(repo, IDENTITY)
    tip = sh(repo, "rev-parse", "HEAD")
    sh(repo, "update-ref", REF, tip)
    assert catch_up(git, REF, "main", tip, tip) is None  # nothing new
    new = _commit_on_main(repo, REL, TASKS + "- [ ] T004 New\n", "add T004")
    done = catch_up(git, REF, "main", new, tip)
    assert done is not None and (done.how, done.commits, done.tip) == ("fast-forward", 1, new)
    assert sh(repo, "rev-parse", REF) == new


def test_catch_up_merges_ticks_and_new_tasks_without_conflict(repo: Path) -> None:
    git = Git(repo, IDENTITY)
    base = sh(repo, "rev-parse", "HEAD")
    sh(repo, "update-ref", REF, base)
    # the run: T001 and T002 merged and ticked on the integration branch
    commit_file(git, REF, REL, tick(TASKS, {"T001", "T002"}), "T001 and T002\n")
    tip = sh(repo, "rev-parse", REF)
    # meanwhile on main: T002 reworded (the line next to a tick) and T004 added
    edited = TASKS.replace("- [ ] T002 Second", "- [ ] T002 Second, reworded") + "- [ ] T004 New\n"
    new = _commit_on_main(repo, REL, edited, "edit tasks")
    # git's own merge conflicts here; specflow's does not
    assert (
        subprocess.run(
            ["git", "merge-tree", "--write-tree", tip, new], cwd=repo, capture_output=True
        ).returncode
        == 1
    )
    done = catch_up(git, REF, "main", new, tip)
    assert done is not None and done.how == "merge" and done.resolved == [REL]
    merged = sh(repo, "show", f"{REF}:{REL}") + "\n"
    assert merged == tick(edited, {"T001", "T002"})
    parents = sh(repo, "log", "-1", "--format=%P", REF).split()
    assert parents == [tip, new]
    # and merging the integration branch back into main is an ordinary clean merge
    sh(repo, "merge", "-q", "--no-edit", "specflow/001-x")
    assert (repo / REL).read_text() == tick(edited, {"T001", "T002"})


def test_catch_up_leaves_other_conflicts_to_the_user(repo: Path) -> None:
    git = Git(repo, IDENTITY)
    base = sh(repo, "rev-parse", "HEAD")
    sh(repo, "update-ref", REF, base)
    commit_file(git, REF, "a.txt", "from the run\n", "T001\n\nSpecflow-Task: T001\n")
    tip = sh(repo, "rev-parse", REF)
    new = _commit_on_main(repo, "a.txt", "from the user\n", "user edit")
    with pytest.raises(InputError, match=r"specflow/001-x and main conflict in a\.txt"):
        catch_up(git, REF, "main", new, tip)
    assert sh(repo, "rev-parse", REF) == tip  # nothing changed


def test_a_branch_specflow_did_not_make_is_named(repo: Path) -> None:
    git = Git(repo, IDENTITY)
    base = sh(repo, "rev-parse", "HEAD")
    sh(repo, "update-ref", REF, base)
    assert not_ours(git, REF, base) is None  # made, nothing on it yet
    commit_file(git, REF, "a.txt", "T001 done\n", "T001\n\nSpecflow-Task: T001\n")
    assert not_ours(git, REF, base) is None
    sh(repo, "branch", "-f", "specflow/001-x", "main")
    commit_file(git, REF, "a.txt", "mine\n", "my own work\n")
    assert "none of them is specflow's" in (not_ours(git, REF, base) or "")
    orphan = sh(repo, "commit-tree", sh(repo, "rev-parse", "HEAD^{tree}"), "-m", "unrelated")
    sh(repo, "update-ref", REF, orphan)
    assert "no history in common" in (not_ours(git, REF, base) or "")


def test_implement_merges_the_base_in_first_and_says_so(tmp_path: Path) -> None:
    """Through the installed command: a run not merged yet, then on main a task reworded next
    to a tick and a task added; the next run merges main in (tasks.md by specflow), builds
    the new task on it, and the branch merges back into main cleanly."""
    import os
    import sys

    from tests.conftest import GIT_ENV

    repo = tmp_path / "repo"
    (repo / "specs" / "001-x").mkdir(parents=True)
    sh(repo, "init", "-q", "-b", "main")
    (repo / "specflow.toml").write_text("[project]\nname = 'x'\n")
    body = TASKS.split("---\n", 2)[2]
    (repo / REL).write_text(body)
    sh(repo, "add", "-A")
    sh(repo, "commit", "-qm", "specs")
    agent = tmp_path / "agent.py"
    agent.write_text(
        "import os, pathlib\n"
        "pathlib.Path(os.environ['SPECFLOW_TASK_ID'] + '.txt').write_text('done\\n')\n"
    )
    specflow = str(Path(sys.executable).parent / "specflow")
    env = {**os.environ, **GIT_ENV}

    def implement() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [specflow, "implement", "--agent", f"cmd:{sys.executable} {agent}"],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    assert implement().returncode == 0
    edited = body.replace("- [ ] T002 Second", "- [ ] T002 Second, reworded")
    (repo / REL).write_text(edited + "- [ ] T004 Fourth\n  - depends: T002\n")
    sh(repo, "commit", "-qam", "tasks: reword T002, add T004")
    main_tip = sh(repo, "rev-parse", "HEAD")
    p = implement()
    assert p.returncode == 0, p.stdout + p.stderr
    assert "specflow/001-x: took 1 new commit(s) from main (merge)" in p.stderr, p.stderr
    sh(repo, "merge-base", "--is-ancestor", main_tip, "specflow/001-x")
    on_branch = sh(repo, "show", f"specflow/001-x:{REL}")
    assert "- [x] T002 Second, reworded" in on_branch and "- [x] T004 Fourth" in on_branch
    sh(repo, "merge", "-q", "--no-edit", "specflow/001-x")  # clean
    assert sorted(ticked((repo / REL).read_text())) == ["T001", "T002", "T003", "T004"]
