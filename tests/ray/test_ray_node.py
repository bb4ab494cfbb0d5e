"""The node side of `--executor ray` run in-process (no Ray needed): clone cache, pooled slots,
agent, commit, checks with feedback, push to the remote."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))

from engine_helpers import PY, git, init_repo, script_agent

from specflow.agents.base import Limits
from specflow.config import Config
from specflow.domain.tasks import Task
from specflow.executors.ray_node import NodeJob, NodeRepo, Texts, run_node_task

VERIFY = f"{PY} -c \"import pathlib,sys; sys.exit(0 if pathlib.Path('ok.txt').exists() else 1)\""


def _remote(tmp: Path) -> tuple[Path, str]:
    src = init_repo(tmp / "src", {"README.md": "# x\n"})
    remote = tmp / "remote.git"
    git(tmp, "clone", "-q", "--bare", str(src), str(remote))
    base = git(remote, "rev-parse", "main")
    git(remote, "update-ref", "refs/specflow/base/r1/T001", base)
    return remote, base


def _job(remote: Path, base: str, agent: str, **kw: Any) -> NodeJob:
    fields: dict[str, Any] = {
        "remote": str(remote),
        "run_id": "r1",
        "feature": "001-x",
        "task": Task(id="T001", title="Do it", verify=VERIFY),
        "base": base,
        "start": base,
        "fetch_ref": "refs/specflow/base/r1/T001",
        "push_ref": "refs/specflow/task/r1/T001",
        "message": "Do it\n\nSpecflow-Task: T001\n",
        "agent_spec": agent,
        "config": Config().model_dump(),
        "model": None,
        "limits": Limits(max_seconds=60),
        "commands": [VERIFY],
        "verify_timeout_s": 60,
        "verify_retries": 1,
        "attempt": 1,
        **kw,
    }
    return NodeJob(**fields)


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPECFLOW_RAY_CACHE", str(tmp_path / "cache"))


def test_verify_failure_goes_back_to_the_agent_on_the_node(tmp_path: Path) -> None:
    remote, base = _remote(tmp_path)
    script = {"T001": {"write": {"a.txt": "a"}, "attempts": {"2": {"write": {"ok.txt": "ok"}}}}}
    items = list(run_node_task(_job(remote, base, script_agent(tmp_path, script)), Texts()))
    result = items[-1]
    assert result["type"] == "result" and result["ok"], result
    assert result["attempt"] == 2 and result["failures"] == 1
    kinds = [(i["kind"], i["attempt"]) for i in items if i["type"] == "event"]
    assert ("verify_failed", 1) in kinds and ("verify_passed", 2) in kinds
    assert ("agent_started", 2) in kinds
    briefs = [i for i in items if i["type"] == "brief"]
    assert "Verification failed" in (briefs[1]["feedback"] or "")
    # the commit is on the remote: one commit on the base, both files, message as given
    pushed = git(remote, "rev-parse", "refs/specflow/task/r1/T001")
    assert pushed == result["commit"] and git(remote, "rev-parse", f"{pushed}^") == base
    assert git(remote, "ls-tree", "--name-only", pushed).split() == ["README.md", "a.txt", "ok.txt"]
    assert "Specflow-Task: T001" in git(remote, "log", "-1", "--format=%B", pushed)
    logs = {i["name"] for i in items if i["type"] == "file"}
    assert {"agent-1.log", "agent-2.log", "verify-1.log"} <= logs


def test_no_changes_and_exhausted_retries_fail_the_task(tmp_path: Path) -> None:
    remote, base = _remote(tmp_path)
    idle = script_agent(tmp_path, {"default": {}})
    res = list(run_node_task(_job(remote, base, idle), Texts()))[-1]
    assert res == {**res, "ok": False, "reason": "agent made no changes"}
    never = script_agent(tmp_path, {"default": {"write": {"a.txt": "a"}}})
    res = list(run_node_task(_job(remote, base, never, verify_retries=0), Texts()))[-1]
    assert not res["ok"] and res["reason"].startswith("verify failed")
    assert git(remote, "for-each-ref", "refs/specflow/task") == ""  # nothing pushed


def test_slots_are_pooled_and_reset(tmp_path: Path) -> None:
    remote, base = _remote(tmp_path)
    agent = script_agent(tmp_path, {"default": {"write": {"ok.txt": "ok"}}})
    for _ in range(2):
        assert list(run_node_task(_job(remote, base, agent), Texts()))[-1]["ok"]
    repo = NodeRepo(str(remote))
    assert sorted(p.name for p in (repo.dir / "slots").iterdir() if p.is_dir()) == ["slot-1"]
    fd, path = repo.acquire()  # free again: the lock went with the task
    os.close(fd)
    assert path.name == "slot-1"


# -- the run's sandbox on the node -----------------------------------------------------------

PROBE = f"{PY} -c \"import os,sys; sys.exit(0 if os.environ.get('J19_PROBE') == 'yes' else 1)\""


def test_the_node_checks_under_the_runs_sandbox_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check passes only where the run's `[sandbox] pass_env` lets J19_PROBE in: the node
    applies the settings the driver sends, not the default sandbox."""
    from specflow.config import SandboxSection

    monkeypatch.setenv("J19_PROBE", "yes")
    remote, base = _remote(tmp_path)
    agent = script_agent(tmp_path, {"default": {"write": {"ok.txt": "ok"}}})
    runs = SandboxSection(pass_env=["J19_PROBE"]).model_dump()
    kw = {"commands": [PROBE], "verify_retries": 0}
    ok = list(run_node_task(_job(remote, base, agent, sandbox=runs, **kw), Texts()))[-1]
    assert ok["ok"], ok
    git(remote, "update-ref", "-d", "refs/specflow/task/r1/T001")
    default = list(run_node_task(_job(remote, base, agent, **kw), Texts()))[-1]
    assert not default["ok"] and "verify failed" in default["reason"], default


def test_an_unconfined_run_is_unconfined_on_the_node(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SPECFLOW_SANDBOX=off on the driver (not on the node): the node runs unconfined too; the
    run's other settings go along."""
    from specflow.config import SandboxSection
    from specflow.executors.ray_executor import sandbox_for_nodes
    from specflow.executors.ray_node import node_confinement
    from specflow.sandbox import resolve

    settings = SandboxSection(memory_mb=777, pass_env=["X"])
    monkeypatch.setenv("SPECFLOW_SANDBOX", "off")
    sent = sandbox_for_nodes(resolve(settings))
    monkeypatch.delenv("SPECFLOW_SANDBOX")
    on_node = node_confinement(sent, tmp_path)
    assert on_node.backend == "none" and on_node.settings.memory_mb == 777
    confined = node_confinement(sandbox_for_nodes(resolve(settings)), tmp_path)
    assert confined.active and confined.settings.pass_env == ["X"]
    assert confined.readable == (str(tmp_path),)  # the node's clone, for git in the checks


# -- a slot's `.git` rewritten by the agent ---------------------------------------------------

REDIRECT = """\
import pathlib, subprocess, sys

marker, target = sys.argv[1], sys.argv[2]
dot = pathlib.Path(".git")
gitdir = pathlib.Path(dot.read_text().split(":", 1)[1].strip())
bare = gitdir.parent.parent  # <clone>/worktrees/<slot>
evil = pathlib.Path("evilgit").resolve()
subprocess.run(["git", "init", "-q", "--bare", str(evil)], check=True)
(evil / "objects" / "info" / "alternates").write_text(f"{bare / 'objects'}\\n")
(evil / "HEAD").write_text((gitdir / "HEAD").read_text())
with open(evil / "config", "a") as f:
    f.write("[core]\\n\\tbare = false\\n[protocol \\"ext\\"]\\n\\tallow = always\\n")
    f.write(f"[url \\"ext::sh -c touch% {marker}% >&2\\"]\\n\\tinsteadOf = {target}\\n")
dot.write_text(f"gitdir: {evil}\\n")
pathlib.Path("ok.txt").write_text("ok\\n")
"""


def test_a_rewritten_dot_git_on_a_node_is_never_used(tmp_path: Path) -> None:
    """The agent points its slot's `.git` at a gitdir of its own, whose config turns the push
    to the remote into a command. The node's git names the gitdir it made and checks the `.git`
    file first: the task fails as tampered, nothing runs, and the slot is made anew."""
    remote, base = _remote(tmp_path)
    marker = tmp_path / "PWNED-node"
    prog = tmp_path / "redirect.py"
    prog.write_text(REDIRECT)
    agent = f"cmd:{PY} {prog} {marker} {remote}"
    res = list(run_node_task(_job(remote, base, agent), Texts()))[-1]
    assert not res["ok"] and "tampered" in res["reason"], res
    assert not marker.exists()
    assert git(remote, "for-each-ref", "refs/specflow/task") == ""
    good = script_agent(tmp_path, {"default": {"write": {"ok.txt": "ok"}}})
    assert list(run_node_task(_job(remote, base, good), Texts()))[-1]["ok"]  # made anew
