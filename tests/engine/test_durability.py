"""Crashes, interrupts and concurrent runs."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

from engine_graphs import BASE_FILES, DAG12, dag12_script
from engine_helpers import PY, ROOT, branch_tasks, cli, git, make_repo, script_agent

BRANCH = "specflow/001-calc"
ALL12 = [f"T{i:03d}" for i in range(1, 13)]


def start(repo: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    return subprocess.Popen(
        [PY, "-m", "specflow", *args],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def tree(repo: Path, ref: str) -> dict[str, str]:
    """path -> blob id, without the run records (their names differ from run to run)."""
    out: dict[str, str] = {}
    for line in git(repo, "ls-tree", "-r", ref).splitlines():
        meta, path = line.split("\t", 1)
        if "/runs/" not in path:
            out[path] = meta.split()[2]
    return out


def wait_for(pred, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_kill_9_at_random_moments_then_resume(tmp_path: Path) -> None:
    ref_repo = make_repo(tmp_path / "ref", DAG12, BASE_FILES)
    ref_agent = script_agent(tmp_path / "ref", dag12_script(0.0))
    assert cli(ref_repo, "implement", "-j", "3", "--agent", ref_agent).returncode == 0
    expected = tree(ref_repo, BRANCH)

    repo = make_repo(tmp_path / "kill", DAG12, BASE_FILES)
    agent = script_agent(tmp_path / "kill", dag12_script(0.15))
    rng = random.Random(int(os.environ.get("SPECFLOW_TEST_SEED", "7")))
    args = ["implement", "-j", "3", "--agent", agent]
    kills = 0
    for _ in range(4):  # a few kills at random moments, then let it finish
        proc = start(repo, *args)
        try:
            proc.wait(timeout=rng.uniform(0.5, 1.5))
        except subprocess.TimeoutExpired:
            proc.kill()  # SIGKILL: no cleanup at all
            kills += 1
        proc.communicate()
        if proc.returncode == 0:
            break
        # --agent again: a run killed before its first event left nothing to resume from
        args = ["implement", "--resume", "--agent", agent]
    else:
        p = cli(repo, *args)
        assert p.returncode == 0, p.stderr
    assert kills >= 1
    merged = branch_tasks(repo, BRANCH)
    assert sorted(merged) == ALL12, merged  # every task once: nothing merged twice
    assert tree(repo, BRANCH) == expected
    assert git(repo, "status", "--porcelain") == ""


def test_second_run_refuses_and_ctrl_c_resumes(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, DAG12, BASE_FILES)
    agent = script_agent(tmp_path, dag12_script(0.6))
    first = start(repo, "implement", "-j", "2", "--agent", agent)
    lock = repo / ".specflow" / "locks" / "001-calc.lock"
    wait_for(lambda: lock.exists() and lock.read_text().strip() != "")
    second = cli(repo, "implement", "-j", "2", "--agent", agent)
    assert second.returncode == 2
    assert "001-calc is already being implemented by run" in second.stderr
    assert f"(pid {first.pid})" in second.stderr
    wait_for(lambda: list(repo.glob(".specflow/runs/*/tasks/T001/agent-1.log")) != [])
    time.sleep(0.2)
    first.send_signal(signal.SIGINT)
    _, err = first.communicate(timeout=30)
    assert first.returncode == 130, err
    assert "--resume" in err and "interrupted" in err
    evs = (next(repo.glob(".specflow/runs/*/events.jsonl"))).read_text()
    assert '"kind":"run_interrupted"' in evs
    # no agent left running in a worktree
    time.sleep(0.2)
    ps = subprocess.run(["pgrep", "-f", "scripted.py"], capture_output=True, text=True).stdout
    assert not any(
        str(tmp_path) in Path(f"/proc/{p}/cmdline").read_text()
        for p in ps.split()
        if Path(f"/proc/{p}").exists()
    )
    p = cli(repo, "implement", "--resume")
    assert p.returncode == 0, p.stderr
    assert sorted(branch_tasks(repo, BRANCH)) == ALL12


def _agents_running(marker: Path) -> list[int]:
    found: list[int] = []
    for proc in Path("/proc").iterdir():
        try:
            cmd = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if b"scripted.py" in cmd and str(marker).encode() in cmd:
            found.append(int(proc.name))
    return found
