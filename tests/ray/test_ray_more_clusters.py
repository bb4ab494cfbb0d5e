"""More clusters: one without agent slots at first whose node then dies mid-task, one without
authentication, and the one-machine Ray specflow starts itself. Each starts its own Ray, on
127.0.0.1, and checks that nothing of it is left running afterwards."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("ray")
pytest.importorskip("psutil")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))

from engine_graphs import BASE_FILES, DAG12
from engine_helpers import PY, ROOT, branch_tasks, git, make_repo

from .ray_cluster import LocalCluster, clean_env, loopback_only, ray_env, short_tmp, sweep
from .ray_project import (
    ALL12,
    BRANCH,
    DAG2,
    agent_for,
    finish,
    hang_t004,
    ray_repo,
    snapshot,
    specflow,
    t004_starts,
)

pytestmark = [pytest.mark.ray, pytest.mark.slow]


def test_dead_node_requeues_the_task_on_another_node(tmp_path: Path) -> None:
    """Before any node offers agents: one line, exit 2, nothing created. Then two nodes with
    agents; one dies mid-task (raylet, workers, everything): the task runs on the other."""
    cluster = LocalCluster(short_tmp())
    try:
        cluster.start(workers=0, head_agents=0)
        repo, _ = ray_repo(tmp_path)
        before = snapshot(repo)
        args = ("implement", "--executor", "ray", "--ray-address", cluster.address)
        p = specflow(repo, cluster.env, *args, "--agent", "cmd:true")
        lines = p.stderr.strip().splitlines()
        assert p.returncode == 2 and len(lines) == 1, p.stderr
        assert "no 'agent' resource" in lines[0] and cluster.address in lines[0], p.stderr
        assert snapshot(repo) == before
        cluster.add_worker(agents=2)
        cluster.add_worker(agents=2)
        assert loopback_only(cluster.root) == []
        proc, orphan = hang_t004(tmp_path, repo, cluster)
        node = cluster.node_of(orphan)
        assert node is not None and node.name.startswith("worker")
        cluster.kill(node)
        err = finish(proc, orphan)
    finally:
        left = cluster.stop()
    assert left == [], left
    assert proc.returncode == 0, err
    assert sorted(branch_tasks(repo, BRANCH)) == ALL12, err  # each merged exactly once
    assert "T004: node lost mid-task" in err, err
    t4 = t004_starts(repo)
    assert len(t4) == 2 and t4[0]["node"] != t4[1]["node"], err


def test_cluster_without_auth(tmp_path: Path) -> None:
    """RAY_AUTH_MODE=disabled on the node: the driver connects without a token (one is set
    here, for another cluster: it is not sent) and the run lands its tasks."""
    cluster = LocalCluster(short_tmp(), auth="disabled")
    try:
        cluster.start(workers=0, head_agents=2)
        assert loopback_only(cluster.root) == []
        repo, _ = ray_repo(tmp_path, DAG2, agent=agent_for(tmp_path))
        env = {**cluster.env, "RAY_AUTH_TOKEN": "some-other-clusters-token"}
        p = specflow(repo, env, "implement", "--executor", "ray", "--ray-address", cluster.address)
    finally:
        left = cluster.stop()
    assert left == [], left
    assert p.returncode == 0, p.stderr
    assert branch_tasks(repo, BRANCH) == ["T001", "T002"]


def test_without_address_a_one_machine_ray_runs_the_agents(tmp_path: Path) -> None:
    """No address, no remote: specflow starts Ray for the run (Ray's defaults: it creates a
    token in ~/.ray/auth_token), nodes exchange commits through the driver's private
    exchange, and Ray stops with the run. A worktree of the repository is caught half-made
    all along (what parallel slots raced into: test_ray_exchange.py): nothing is pushed or
    fetched into the repository, so nothing trips on it. The user sets nothing for Ray, yet
    every socket of that Ray is on 127.0.0.1 while the run goes on."""
    root = short_tmp()
    (root / "home").mkdir()
    repo = make_repo(tmp_path, DAG12, BASE_FILES, test_command=f"{PY} -m unittest -q")
    git(repo, "worktree", "add", "-q", "--detach", str(tmp_path / "half-made"), "HEAD")
    (repo / ".git" / "worktrees" / "half-made" / "HEAD").write_text("0" * 40 + "\n")
    env = {**clean_env(), **ray_env(root), "SPECFLOW_RAY_CACHE": str(tmp_path / "cache")}
    env.pop("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER")  # as a user has it: unset
    env.update(PYTHONPATH=str(ROOT), NO_COLOR="1")
    exposed: set[str] = set()
    try:
        argv = [PY, "-m", "specflow", "implement", "--executor", "ray"]
        proc = subprocess.Popen(
            [*argv, "--agent", agent_for(tmp_path)],
            cwd=repo,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        while proc.poll() is None:
            exposed.update(loopback_only(root))
            time.sleep(0.3)
        _, stderr = proc.communicate(timeout=300)
    finally:
        left = sweep(root)
    assert left == [], left
    assert proc.returncode == 0, stderr
    assert exposed == set(), exposed
    p = subprocess.CompletedProcess(argv, proc.returncode, "", stderr)
    assert "4 agents" in p.stderr  # [ray] agent_slots_per_node
    assert sorted(branch_tasks(repo, BRANCH)) == ALL12
    assert git(repo, "for-each-ref", "refs/specflow") == ""
    assert git(repo / ".specflow" / "ray" / "exchange.git", "for-each-ref") == ""
    assert (root / "home" / ".ray" / "auth_token").read_text().strip()  # token auth was on
