"""Commits between the driver's repository and nodes, with a worktree caught half-made.

`git worktree add` writes the new worktree's HEAD before it names a commit; a push into the
repository (receive-pack) or a `git fetch` into it at that moment fails with `bad object
worktrees/slot-N/HEAD` — parallel Ray slots on one machine hit it. The fixture freezes that
moment, so what raced before fails every time here; the exchange (executors/exchange.py)
goes around it. No Ray needed: the node side runs in-process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))

from engine_helpers import git, init_repo

from specflow.agents.base import Limits
from specflow.config import Config
from specflow.domain.tasks import Task
from specflow.executors.exchange import EXCHANGE, Exchange
from specflow.executors.ray_node import NodeJob, Texts, run_node_task
from specflow.workspace.git import Git

from .ray_project import agent_for

BASE = "refs/specflow/base/r1/T001"
TASK = "refs/specflow/task/r1/T001"


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPECFLOW_RAY_CACHE", str(tmp_path / "cache"))


def repo_with_half_made_worktree(tmp: Path) -> Path:
    repo = init_repo(tmp / "repo", {"README.md": "# x\n"})
    slot = repo / ".specflow" / "worktrees" / "f" / "slot-9"
    git(repo, "worktree", "add", "-q", "--detach", str(slot), "HEAD")
    (repo / ".git" / "worktrees" / "slot-9" / "HEAD").write_text("0" * 40 + "\n")
    return repo


def node_job(remote: str, base: str, agent: str) -> NodeJob:
    return NodeJob(
        remote=remote, run_id="r1", feature="001-x", task=Task(id="T001", title="Add it"),
        base=base, start=base, fetch_ref=BASE, push_ref=TASK,
        message="Add it\n\nSpecflow-Task: T001\n", agent_spec=agent,
        config=Config().model_dump(), model=None, limits=Limits(max_seconds=60), commands=[],
        verify_timeout_s=60, verify_retries=0, attempt=1,
    )  # fmt: skip


def test_the_hazard_is_real(tmp_path: Path) -> None:
    """What specflow no longer does: push into the repository, or `git fetch` into it."""
    repo = repo_with_half_made_worktree(tmp_path)
    head = git(repo, "rev-parse", "HEAD")
    push = subprocess.run(
        ["git", "push", "-q", str(repo), f"{head}:refs/x"],
        cwd=tmp_path / "repo" / ".specflow",
        capture_output=True,
        text=True,
    )
    assert push.returncode != 0 and "bad object worktrees/slot-9/HEAD" in push.stderr


def test_one_machine_nodes_push_to_the_exchange_not_the_repository(tmp_path: Path) -> None:
    repo = repo_with_half_made_worktree(tmp_path)
    base = git(repo, "rev-parse", "HEAD")
    agent = agent_for(tmp_path)
    # Before: the node pushed into the repository itself, and failed.
    git(repo, "update-ref", BASE, base)
    old = list(run_node_task(node_job(str(repo), base, agent), Texts()))[-1]
    assert not old["ok"] and "bad object" in old["reason"], old
    git(repo, "update-ref", "-d", BASE)
    # Now: the driver's exchange is the remote.
    ex = Exchange(Git(repo), repo / ".specflow" / EXCHANGE)
    ex.ensure()
    git(repo, "push", "-q", str(ex.path), f"{base}:{BASE}")
    # it borrows the repository's objects: the start commit cost no copy
    count = git(ex.path, "count-objects", "-v")
    assert "\ncount: 0\n" in f"\n{count}\n" and "in-pack: 0" in count, count
    res = list(run_node_task(node_job(str(ex.path), base, agent), Texts()))[-1]
    assert res["ok"], res
    commit = res["commit"]
    ex.bring_in(commit, TASK)
    assert git(repo, "rev-parse", f"{commit}^") == base  # the commit is here now
    assert git(repo, "for-each-ref", "refs/specflow") == ""  # and no ref was made for it
    ex.drop([BASE, TASK])
    assert git(ex.path, "for-each-ref") == ""


def test_cluster_commits_come_in_through_the_exchange(tmp_path: Path) -> None:
    """A shared remote: the node pushes there; the driver fetches into the exchange, then
    into the repository with fetch-pack (a `git fetch` into the repository fails here)."""
    repo = repo_with_half_made_worktree(tmp_path)
    base = git(repo, "rev-parse", "HEAD")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "push", "-q", str(remote), f"{base}:{BASE}")
    res = list(run_node_task(node_job(str(remote), base, agent_for(tmp_path)), Texts()))[-1]
    assert res["ok"], res
    fetch = subprocess.run(
        ["git", "fetch", "-q", str(remote), f"{TASK}:{TASK}"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert fetch.returncode != 0 and "bad object" in fetch.stderr  # the old way
    ex = Exchange(Git(repo), repo / ".specflow" / EXCHANGE)
    ex.receive(str(remote), TASK)
    ex.bring_in(res["commit"], TASK)
    assert git(repo, "cat-file", "-t", res["commit"]) == "commit"
