"""Projects and runs for the Ray tests: the e2e calc project with a bare remote, the installed
`specflow` command, and a snapshot of everything a run could leave in a repository."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))

from engine_graphs import BASE_FILES, DAG12, dag12_script
from engine_helpers import PY, git, make_repo, script_agent

from specflow.runs.events import read_events

from .ray_cluster import BIN, clean_env

if TYPE_CHECKING:
    from .ray_cluster import LocalCluster

SPECFLOW = BIN / "specflow"  # the installed command
HANG = Path(__file__).with_name("hang_once.py")
BRANCH = "specflow/001-calc"
ALL12 = [f"T{i:03d}" for i in range(1, 13)]
ALL13 = [*ALL12, "T013"]
DAG2 = DAG12[: DAG12.index("- [ ] T003")]  # T001, then T002 (which adds a test)
DAG13 = (
    DAG12
    + """- [ ] T013 [P] Add a NOTICE.md
  - depends: T009, T011
  - files: NOTICE.md
"""
)


def dag13_script(sleep: float) -> dict[str, object]:
    script = dag12_script(sleep)
    script["T013"] = {"sleep": sleep, "write": {"NOTICE.md": "calc is free software\n"}}
    return script


def ray_repo(
    base: Path, tasks_md: str = DAG12, *, agent: str | None = None, remote: bool = True
) -> tuple[Path, Path]:
    """The e2e project, with `[ray] remote` naming ../remote.git (a bare clone of it when
    `remote`), and `[implement] agent` when given."""
    repo = make_repo(base, tasks_md, BASE_FILES, test_command=f"{PY} -m unittest -q")
    toml = repo / "specflow.toml"
    text = toml.read_text()
    if agent:
        text = text.replace("[implement]\n", f"[implement]\nagent = {agent!r}\n")
    toml.write_text(text + "[ray]\nremote = '../remote.git'\n")
    git(repo, "commit", "-qam", "ray remote", "--date=2026-01-01T00:00:00")
    if remote:
        git(base, "clone", "-q", "--bare", str(repo), str(base / "remote.git"))
    return repo, base / "remote.git"


def agent_for(base: Path, sleep: float = 0.0, tasks: int = 12) -> str:
    return script_agent(base, dag13_script(sleep) if tasks == 13 else dag12_script(sleep))


def specflow(
    repo: Path, env: dict[str, str], *args: str, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """The installed `specflow` command, as a user runs it."""
    return subprocess.run(
        [str(SPECFLOW), *args],
        cwd=repo,
        env={**clean_env(), **env, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def snapshot(repo: Path) -> tuple[str, ...]:
    """Refs, worktrees, status (ignored files too) and top-level entries of `repo`."""
    return (
        git(repo, "for-each-ref"),
        git(repo, "worktree", "list", "--porcelain"),
        git(repo, "status", "--porcelain", "--ignored"),
        " ".join(sorted(p.name for p in repo.iterdir())),
    )


def run_ray(repo: Path, cluster: LocalCluster, *args: str) -> subprocess.Popen[str]:
    argv = [str(SPECFLOW), "implement", "--executor", "ray"]
    argv += ["--ray-address", cluster.address, *args]
    env = {**clean_env(), **cluster.env, "NO_COLOR": "1"}
    return subprocess.Popen(
        argv, cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def hang_t004(tmp: Path, repo: Path, cluster: LocalCluster) -> tuple[subprocess.Popen[str], int]:
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


def finish(proc: subprocess.Popen[str], orphan: int) -> str:
    try:
        _, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
        with contextlib.suppress(ProcessLookupError):  # the hung agent, if still there
            os.kill(orphan, signal.SIGKILL)
    return err


def t004_starts(repo: Path) -> list[dict[str, object]]:
    events = read_events(next((repo / ".specflow" / "runs").iterdir()) / "events.jsonl")
    return [e for e in events if e["kind"] == "agent_started" and e.get("task") == "T004"]
