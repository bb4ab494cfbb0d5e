"""`specflow implement --tmux`: CLI agents run in windows of a tmux session `specflow-<feature>`,
one per task, with their output still captured; `specflow attach` finds the window.

Each test runs its own tmux server (TMUX_TMPDIR in a short temp dir) and kills it afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from specflow.runs.events import read_events
from tests.agents.test_clis import FAKES, repo_with_limit
from tests.engine.engine_helpers import PY, ROOT, branch_tasks, cli

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

TASKS = """# Tasks

## Phase 1: Notes

- [ ] T001 [P] Write the first note in notes/t1.md
- [ ] T002 [P] Write the second note in notes/t2.md
"""


@pytest.fixture
def tmux_env() -> Iterator[dict[str, str]]:
    short = tempfile.mkdtemp(prefix="sft")  # tmux socket paths must stay short
    env = {"TMUX_TMPDIR": short, "TMUX": ""}
    yield env
    subprocess.run(
        ["tmux", "kill-server"], env={**os.environ, **env}, capture_output=True, check=False
    )
    shutil.rmtree(short, ignore_errors=True)


def windows(env: dict[str, str]) -> list[str]:
    res = subprocess.run(
        ["tmux", "list-windows", "-a", "-F", "#{session_name} #{window_name}"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    return res.stdout.split("\n") if res.returncode == 0 else []


def _pane_has_run_id(repo: Path, task: str) -> bool:
    for run in (repo / ".specflow" / "runs").glob("*"):
        for ev in read_events(run / "events.jsonl"):
            if ev["kind"] == "agent_process" and ev.get("task") == task:
                try:
                    environ = Path(f"/proc/{ev['pid']}/environ").read_bytes().split(b"\0")
                except OSError:
                    return False
                return f"SPECFLOW_RUN_ID={run.name}".encode() in environ
    return False


def test_cli_agent_runs_in_a_tmux_window_and_merges(
    tmp_path: Path, tmux_env: dict[str, str]
) -> None:
    repo = repo_with_limit(tmp_path, TASKS, limit=3)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "NO_COLOR": "1",
        "PATH": f"{FAKES}{os.pathsep}{os.environ['PATH']}",
        "FAKE_SLEEP": "1.5",
        "FAKE_MODE_T002": "hang",
        **tmux_env,
    }
    proc = subprocess.Popen(
        [PY, "-m", "specflow", "implement", "-j", "2", "--agent", "claude", "--tmux"],
        cwd=repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: set[str] = set()
    attach_out = ""
    marked = False
    deadline = time.monotonic() + 30
    while proc.poll() is None and time.monotonic() < deadline:
        seen.update(w for w in windows(tmux_env) if w)
        if "specflow-001-calc T001" in seen and not attach_out:
            p = cli(repo, "attach", "T001", "--print", env=tmux_env)
            assert p.returncode == 0, p.stderr
            attach_out = p.stdout.strip()
        if not marked:
            marked = _pane_has_run_id(repo, "T002")
        time.sleep(0.1)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 1, err  # T002 hung past the limit
    assert {"specflow-001-calc T001", "specflow-001-calc T002"} <= seen
    assert "attach-session -t =specflow-001-calc:@" in attach_out
    assert marked  # a later run can recognise (and stop) the pane if this run is killed
    assert attach_out.startswith("tmux -S ")
    assert branch_tasks(repo, "specflow/001-calc") == ["T001"]
    assert "T002 FAILED: agent failed: time limit (3 s)" in err
    assert windows(tmux_env) == []  # every window closed: the hung agent's was killed
    # the output was captured as without tmux, and parsed into the run's events
    run_dir = next((repo / ".specflow" / "runs").iterdir())
    assert '"type": "result"' in (run_dir / "tasks" / "T001" / "agent-1.log").read_text()
    evs = read_events(run_dir / "events.jsonl")
    report = next(e for e in evs if e["kind"] == "agent_report" and e["task"] == "T001")
    assert report["ok"] is True and report["cost_usd"] == 0.0123
    assert any(e["kind"] == "agent_tmux" and e["window"] == "T002" for e in evs)
    # finished and unknown tasks: one clear line each
    p = cli(repo, "attach", "T001", "--print", env=tmux_env)
    assert p.returncode == 2 and p.stderr.count("\n") == 1
    assert "T001 has finished (merged)" in p.stderr
    p = cli(repo, "attach", "T042", env=tmux_env)
    assert p.returncode == 2 and "task T042 is not part of run" in p.stderr


def test_attach_to_a_run_without_tmux_says_so(tmp_path: Path, tmux_env: dict[str, str]) -> None:
    repo = repo_with_limit(tmp_path, TASKS, limit=3)
    env = {
        "PATH": f"{FAKES}{os.pathsep}{os.environ['PATH']}",
        "FAKE_MODE_T002": "hang",
        **tmux_env,
    }
    proc = subprocess.Popen(
        [PY, "-m", "specflow", "implement", "-j", "2", "--agent", "codex"],
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        events = repo / ".specflow" / "runs"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            evs = [e for d in events.glob("*") for e in read_events(d / "events.jsonl")]
            if any(e["kind"] == "agent_process" and e.get("task") == "T002" for e in evs):
                break
            time.sleep(0.1)
        p = cli(repo, "attach", "T002", "--print", env=tmux_env)
        assert p.returncode == 2, p.stdout
        assert "T002 is not running in tmux" in p.stderr and "--tmux" in p.stderr
    finally:
        proc.wait(timeout=30)
