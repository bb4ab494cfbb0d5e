"""`implement --executor ray` on real local Ray clusters, on 127.0.0.1, with Ray's default
token authentication.

The shared cluster is the two-node walk-through of docs/ray.md, its `ray` lines run as
written (port aside). Skipped when `ray` is not installed (extra `specflow-sdd[ray]`);
deselect with `-m "not ray"`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("ray")
psutil = pytest.importorskip("psutil")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))

from engine_helpers import PY, ROOT, branch_tasks, cli, git  # noqa: E402

from specflow.runs.events import read_events  # noqa: E402

from .ray_cluster import (  # noqa: E402
    BIN,
    LocalCluster,
    clean_env,
    free_port,
    loopback_only,
    processes,
    wrapper_bin,
)
from .ray_project import (  # noqa: E402
    ALL12,
    ALL13,
    BRANCH,
    DAG2,
    DAG13,
    agent_for,
    finish,
    hang_t004,
    ray_repo,
    run_ray,
    snapshot,
    specflow,
    t004_starts,
)

pytestmark = [pytest.mark.ray, pytest.mark.slow]

DOCS = ROOT / "docs" / "ray.md"


def walkthrough() -> list[str]:
    """The command lines of docs/ray.md's two-node walk-through."""
    block = DOCS.read_text().split("<!-- walkthrough:", 1)[1].split("```sh\n", 1)[1]
    return [ln for ln in block.split("```", 1)[0].splitlines() if ln.strip()]


def is_ray(line: str) -> bool:
    """A `ray ...` command line (maybe after VAR=value assignments)."""
    return re.match(r"^(\w+=\S*\s+)*ray\s", line) is not None


def shell(line: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=240
    )


def start_walkthrough(c: LocalCluster) -> None:
    """Run the walk-through's `ray` lines (`ray stop` aside: it would stop every Ray here)."""
    (c.root / "home").mkdir(parents=True, exist_ok=True)
    port = free_port()
    c.address = f"127.0.0.1:{port}"
    path = f"{wrapper_bin(c.root)}:{BIN}:{os.environ['PATH']}"
    env = {**clean_env(), **c.env, "PATH": path}
    for line in walkthrough():
        if is_ray(line) and "ray stop" not in line:
            p = shell(line.replace("6379", str(port)), c.root, env)
            assert p.returncode == 0, f"{line}\n{p.stderr[-3000:]}"
    c.wait_for(4, 120)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


@pytest.fixture(scope="session")
def cluster() -> Iterator[LocalCluster]:
    """docs/ray.md's walk-through cluster: a token, a head and a second node with two agent
    slots each. One per test run, shared by the pytest workers that use it (xdist spreads a
    file's tests over workers); the last one to let go stops it and checks nothing is left."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", f"solo{os.getpid()}")[:12]
    c = LocalCluster(Path(tempfile.gettempdir()) / f"sfray-walk-{run}")
    c.root.mkdir(exist_ok=True)
    users, address = c.root / "users", c.root / "address"
    with locked(c.root / "lock"):
        if not address.exists():
            try:
                start_walkthrough(c)
            except BaseException:
                c.stop()
                raise
            address.write_text(c.address)
        c.address = address.read_text()
        count = int(users.read_text()) if users.exists() else 0
        users.write_text(str(count + 1))
    try:
        yield c
    finally:
        with locked(c.root / "lock"):
            count = int(users.read_text()) - 1
            users.write_text(str(count))
            left = c.stop() if count == 0 else []
            if count == 0:
                address.unlink()
    assert left == [], f"Ray processes left running: {left}"


def test_walkthrough_cluster_is_on_loopback_with_token_auth(cluster: LocalCluster) -> None:
    assert loopback_only(cluster.root) == []
    token = (cluster.root / "home" / ".ray" / "auth_token").read_text().strip()
    assert token
    # The head's command had no RAY_AUTH_MODE: Ray found the token and turned it on by itself.
    assert not re.search(r"^(\w+=\S*\s+)*ray start --head", "\n".join(walkthrough()), re.M)[1]
    head = [p for p in processes(cluster.root) if p.name() == "gcs_server"]
    assert len(head) == 1 and head[0].environ().get("RAY_AUTH_MODE") == "token"
    # A client without the token is turned away.
    probe = "import ray._raylet as r; r.InnerGcsClient.standalone(%r, None, 5000)"
    env = {**clean_env(), **cluster.env, "RAY_AUTH_MODE": "disabled"}
    p = subprocess.run(
        [PY, "-c", probe % cluster.address], env=env, capture_output=True, text=True, timeout=60
    )
    assert p.returncode != 0 and "InvalidAuthToken" in p.stderr, p.stderr


def test_the_driver_must_run_on_a_node_of_the_cluster(cluster: LocalCluster) -> None:
    """Ray drivers attach to a node on their own machine: one of this cluster's raylets runs
    here, none of a cluster at another port does."""
    from specflow.errors import InputError
    from specflow.executors.ray_connect import check_local_node

    host, port = cluster.address.rsplit(":", 1)
    check_local_node((host, int(port)), cluster.address, "token")
    with pytest.raises(InputError, match="runs no node of the Ray cluster") as err:
        check_local_node((host, free_port()), "elsewhere:6379", "token")
    assert "RAY_AUTH_MODE=token ray start --address=elsewhere:6379" in str(err.value.hint)


def test_docs_walkthrough_lands_13_tasks_once(tmp_path: Path, cluster: LocalCluster) -> None:
    """The issue's check: the walk-through's remote and `specflow implement` lines on a 13-task
    graph; wrong addresses first, each one line and exit 2 with the repository untouched."""
    repo, remote = ray_repo(tmp_path, DAG13, agent=agent_for(tmp_path, tasks=13), remote=False)
    port = cluster.address.rsplit(":", 1)[1]
    lines = [ln.replace("6379", port) for ln in walkthrough() if not is_ray(ln)]
    env = {**clean_env(), **cluster.env, "PATH": f"{BIN}:{os.environ['PATH']}"}
    assert lines[0].startswith("git clone") and lines[1].startswith("specflow implement")
    assert shell(lines[0], repo, env).returncode == 0 and remote.is_dir()

    raylet_port = next(
        c.laddr.port
        for p in processes(cluster.root)
        if p.name() == "raylet"
        for c in p.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    )
    before = snapshot(repo)
    wrong = {
        f"127.0.0.1:{free_port()}": "nothing listens at",
        f"127.0.0.1:{raylet_port}": "no Ray head answers at",
        f"no-such-host.invalid:{port}": "unknown host",
    }
    for address, says in wrong.items():
        t0 = time.monotonic()
        p = specflow(repo, cluster.env, "implement", "--executor", "ray", "--ray-address", address)
        lines_err = p.stderr.strip().splitlines()
        assert p.returncode == 2 and len(lines_err) == 1 and says in lines_err[0], p.stderr
        assert p.stdout == "" and time.monotonic() - t0 < 30, p.stderr
        assert snapshot(repo) == before, address

    run = shell(lines[1], repo, env)
    assert run.returncode == 0, run.stderr
    assert "all 13 tasks merged" in run.stdout, run.stdout
    assert sorted(branch_tasks(repo, BRANCH)) == ALL13  # every task, each exactly once
    assert "gcs_client" not in run.stderr and "Traceback" not in run.stderr, run.stderr
    assert git(remote, "for-each-ref", "refs/specflow") == ""
    assert git(repo, "for-each-ref", "refs/specflow") == ""


def test_the_token_comes_from_where_ray_looks(tmp_path: Path, cluster: LocalCluster) -> None:
    """No token here, or a wrong one: one line, exit 2, nothing created. The right one in
    RAY_AUTH_TOKEN (no ~/.ray/auth_token): the run works."""
    repo, _ = ray_repo(tmp_path, DAG2, agent=agent_for(tmp_path))
    token = (cluster.root / "home" / ".ray" / "auth_token").read_text().strip()
    elsewhere = tmp_path / "home"
    elsewhere.mkdir()
    before = snapshot(repo)
    cases = {
        "": "wants a token, and none is set here",
        "not-the-token": "refused the token from RAY_AUTH_TOKEN",
    }
    for value, says in cases.items():
        env = {**cluster.env, "HOME": str(elsewhere), "RAY_AUTH_TOKEN": value}
        p = specflow(repo, env, "implement", "--executor", "ray", "--ray-address", cluster.address)
        lines = p.stderr.strip().splitlines()
        assert p.returncode == 2 and len(lines) == 1 and says in lines[0], p.stderr
        assert snapshot(repo) == before
    env = {**cluster.env, "HOME": str(elsewhere), "RAY_AUTH_TOKEN": token}
    p = specflow(repo, env, "implement", "--executor", "ray", "--ray-address", cluster.address)
    assert p.returncode == 0, p.stderr
    assert branch_tasks(repo, BRANCH) == ["T001", "T002"]


def task_trees(repo: Path) -> list[tuple[str, str]]:
    """(task, tree) of each task commit on the integration branch, oldest first."""
    fmt = "--format=%T %(trailers:key=Specflow-Task,valueonly)"
    out = git(repo, "log", "--reverse", fmt, BRANCH)
    return [(ln.split()[1], ln.split()[0]) for ln in out.splitlines() if len(ln.split()) == 2]


def test_ray_lands_the_same_content_as_local(tmp_path: Path, cluster: LocalCluster) -> None:
    agent = agent_for(tmp_path)
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


def test_killed_worker_requeues_the_task_elsewhere(tmp_path: Path, cluster: LocalCluster) -> None:
    repo, _ = ray_repo(tmp_path)
    proc, orphan = hang_t004(tmp_path, repo, cluster)
    worker = psutil.Process(orphan).parent()
    assert worker is not None and " ".join(worker.cmdline()).startswith("ray::")
    worker.send_signal(signal.SIGKILL)  # the Ray worker process running T004
    err = finish(proc, orphan)
    assert proc.returncode == 0, err
    assert sorted(branch_tasks(repo, BRANCH)) == ALL12, err  # each merged exactly once
    assert "T004: node lost mid-task (WorkerCrashedError); re-queued" in err, err
    t4 = t004_starts(repo)
    assert len(t4) == 2, err
    # Ran again in another worker process: on the other node when it has a free agent slot
    # (the re-queue prefers it), else on a fresh worker of the same node.
    assert t4[0]["worker"] == worker.pid and t4[1]["worker"] != worker.pid
    check = tmp_path / "check"
    git(repo, "worktree", "add", "-q", str(check), BRANCH)
    test = subprocess.run([PY, "-m", "unittest", "-q"], cwd=check, capture_output=True, text=True)
    assert test.returncode == 0 and "Ran 8 tests" in test.stderr, test.stderr
