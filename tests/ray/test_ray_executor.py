"""`implement --executor ray` on a real local Ray cluster: a head and a worker node on 127.0.0.1.

Skipped when `ray` is not installed (extra `specflow-sdd[ray]`); deselect with `-m "not ray"`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("ray")
psutil = pytest.importorskip("psutil")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))

from engine_graphs import BASE_FILES, DAG12, dag12_script  # noqa: E402
from engine_helpers import PY, ROOT, branch_tasks, cli, git, make_repo, script_agent  # noqa: E402

from specflow.runs.events import read_events  # noqa: E402

from .ray_cluster import RAY_ENV, LocalCluster, short_tmp  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.slow]

BRANCH = "specflow/001-calc"
ALL12 = [f"T{i:03d}" for i in range(1, 13)]
HANG = Path(__file__).with_name("hang_once.py")


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    c = LocalCluster(short_tmp())
    try:
        c.start(workers=1, agents=2)
        yield c
    finally:
        c.stop()


def ray_repo(base: Path) -> tuple[Path, Path]:
    """The e2e project, plus `[ray] remote` naming a bare clone every node reaches."""
    repo = make_repo(base, DAG12, BASE_FILES, test_command=f"{PY} -m unittest -q")
    with open(repo / "specflow.toml", "a") as fh:
        fh.write("[ray]\nremote = '../remote.git'\n")
    git(repo, "commit", "-qam", "ray remote", "--date=2026-01-01T00:00:00")
    remote = base / "remote.git"
    git(base, "clone", "-q", "--bare", str(repo), str(remote))
    return repo, remote


def task_trees(repo: Path) -> list[tuple[str, str]]:
    """(task, tree) of each task commit on the integration branch, oldest first."""
    fmt = "--format=%T %(trailers:key=Specflow-Task,valueonly)"
    out = git(repo, "log", "--reverse", fmt, BRANCH)
    return [(ln.split()[1], ln.split()[0]) for ln in out.splitlines() if len(ln.split()) == 2]


def run_ray(repo: Path, cluster: LocalCluster, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, **RAY_ENV, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    argv = [PY, "-m", "specflow", "implement", "--executor", "ray"]
    argv += ["--ray-address", cluster.address, *args]
    return subprocess.Popen(
        argv, cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_ray_lands_the_same_content_as_local(tmp_path: Path, cluster: LocalCluster) -> None:
    agent = script_agent(tmp_path, dag12_script(0.0))
    local, _ = ray_repo(tmp_path / "local")
    p = cli(local, "implement", "-j", "1", "--agent", agent)
    assert p.returncode == 0, p.stderr
    repo, remote = ray_repo(tmp_path / "ray")
    proc = run_ray(repo, cluster, "-j", "1", "--agent", agent)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "all 12 tasks merged" in out
    # Same graph, same order (one agent): every task commit holds the same tree.
    assert task_trees(repo) == task_trees(local)
    assert sorted(branch_tasks(repo, BRANCH)) == ALL12
    # Agents ran on the cluster's nodes, not in the driver's process; logs came back.
    events = read_events(next((repo / ".specflow" / "runs").iterdir()) / "events.jsonl")
    nodes = {e.get("node") for e in events if e["kind"] == "agent_started"}
    assert nodes and None not in nodes
    run_dir = next((repo / ".specflow" / "runs").iterdir())
    assert "T005: done" in (run_dir / "tasks" / "T005" / "agent-1.log").read_text()
    # No refs left behind, here or on the remote.
    assert git(remote, "for-each-ref", "refs/specflow") == ""
    assert git(repo, "for-each-ref", "refs/specflow") == ""


def _hang_t004(tmp: Path, repo: Path, cluster: LocalCluster) -> tuple[subprocess.Popen[str], int]:
    """Start a run whose T004 agent hangs on its first try; return the run and that agent."""
    script = tmp / "agent-script.json"
    script_agent(tmp, dag12_script(0.1))  # writes the script
    marker = tmp / "T004.pid"
    agent = f"cmd:{PY} {HANG} {marker} T004 {script}"
    proc = run_ray(repo, cluster, "--agent", agent)  # -j: the cluster's agent slots
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    if not marker.exists():
        proc.kill()
        raise AssertionError(proc.communicate()[1])
    return proc, int(marker.read_text())


def _finish(proc: subprocess.Popen[str], orphan: int) -> str:
    try:
        _, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
        with contextlib.suppress(ProcessLookupError):  # the hung agent, if still there
            os.kill(orphan, signal.SIGKILL)
    return err


def _t004_starts(repo: Path) -> list[dict[str, object]]:
    events = read_events(next((repo / ".specflow" / "runs").iterdir()) / "events.jsonl")
    return [e for e in events if e["kind"] == "agent_started" and e.get("task") == "T004"]


def test_killed_worker_requeues_the_task_elsewhere(tmp_path: Path, cluster: LocalCluster) -> None:
    repo, _ = ray_repo(tmp_path)
    proc, orphan = _hang_t004(tmp_path, repo, cluster)
    worker = psutil.Process(orphan).parent()
    assert worker is not None and " ".join(worker.cmdline()).startswith("ray::")
    worker.send_signal(signal.SIGKILL)  # the Ray worker process running T004
    err = _finish(proc, orphan)
    assert proc.returncode == 0, err
    assert sorted(branch_tasks(repo, BRANCH)) == ALL12, err  # each merged exactly once
    assert "T004: node lost mid-task (WorkerCrashedError); re-queued" in err, err
    t4 = _t004_starts(repo)
    assert len(t4) == 2, err
    # Ran again in another worker process: on the other node when it has a free agent slot
    # (the re-queue prefers it), else on a fresh worker of the same node.
    assert t4[0]["worker"] == worker.pid and t4[1]["worker"] != worker.pid
    check = tmp_path / "check"
    git(repo, "worktree", "add", "-q", str(check), BRANCH)
    test = subprocess.run([PY, "-m", "unittest", "-q"], cwd=check, capture_output=True, text=True)
    assert test.returncode == 0 and "Ran 8 tests" in test.stderr, test.stderr


def test_dead_node_requeues_the_task_on_another_node(tmp_path: Path) -> None:
    """A whole node dies (raylet, workers, everything): the task runs on the other node."""
    cluster = LocalCluster(short_tmp())
    try:
        cluster.start(workers=2, agents=2, head_agents=0)  # agents only on the two workers
        repo, _ = ray_repo(tmp_path)
        proc, orphan = _hang_t004(tmp_path, repo, cluster)
        node = cluster.node_of(orphan)
        assert node is not None and node.name.startswith("worker")
        cluster.kill(node)
        err = _finish(proc, orphan)
    finally:
        cluster.stop()
    assert proc.returncode == 0, err
    assert sorted(branch_tasks(repo, BRANCH)) == ALL12, err  # each merged exactly once
    assert "T004: node lost mid-task" in err, err
    t4 = _t004_starts(repo)
    assert len(t4) == 2 and t4[0]["node"] != t4[1]["node"], err


def test_without_address_a_one_machine_ray_runs_the_agents(tmp_path: Path) -> None:
    """No address, no remote: specflow starts Ray for the run, the repository is the remote."""
    repo = make_repo(tmp_path, DAG12, BASE_FILES, test_command=f"{PY} -m unittest -q")
    agent = script_agent(tmp_path, dag12_script(0.0))
    env = {**RAY_ENV, "RAY_ADDRESS": "", "SPECFLOW_RAY_CACHE": str(tmp_path / "cache")}
    p = cli(repo, "implement", "--executor", "ray", "--agent", agent, env=env)
    assert p.returncode == 0, p.stderr
    assert "4 agents" in p.stderr  # [ray] agent_slots_per_node
    assert sorted(branch_tasks(repo, BRANCH)) == ALL12
    assert git(repo, "for-each-ref", "refs/specflow") == ""
