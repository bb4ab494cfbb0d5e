"""The gate: changes verified as they will land, several at once, landed in order.

The check (`check.py`, committed in the project) sleeps a little, so verifications overlap, and
fails when the worktree holds both `a.txt` and `b.txt` (two changes that are each fine but break
together) or any `bad.txt`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from engine_helpers import PY, ROOT, branch_tasks, cli, git, make_repo, script_agent

BRANCH = "specflow/001-calc"
CHECK = """\
import os, sys, time
time.sleep(float(os.environ.get("CHECK_SLEEP", "0.3")))
if os.path.exists("bad.txt"):
    sys.exit("bad.txt is here")
if os.path.exists("a.txt") and os.path.exists("b.txt"):
    sys.exit("a.txt and b.txt do not go together")
"""
FILES = {"check.py": CHECK, "README.md": "calc\n"}


def tasks(n: int) -> str:
    return "# Tasks\n\n" + "".join(f"- [ ] T{i:03d} [P] Task {i}\n" for i in range(1, n + 1))


def own_files(n: int, **extra: object) -> dict[str, object]:
    """Each task writes its own file."""
    return {f"T{i:03d}": {"write": {f"T{i:03d}.txt": "x\n"}, **extra} for i in range(1, n + 1)}


def events(repo: Path) -> list[dict[str, object]]:
    (path,) = (repo / ".specflow" / "runs").glob("*/events.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines()]


def verified(repo: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    for ev in events(repo):
        if ev["kind"] == "verify_started":
            out[str(ev["task"])] = out.get(str(ev["task"]), 0) + 1
    return out


def implement(
    repo: Path, script: dict[str, object], *, parallel: int, check_sleep: float
) -> subprocess.CompletedProcess[str]:
    agent = script_agent(repo.parent, script)
    env = {"CHECK_SLEEP": str(check_sleep)}
    return cli(repo, "implement", "-j", str(parallel), "--agent", agent, env=env)


def kill_9_after(repo: Path, agent: str, kind: str, *, parallel: int, check_sleep: float) -> None:
    """Start `implement`, SIGKILL it once its events hold a `kind` event."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "CHECK_SLEEP": str(check_sleep)}
    proc = subprocess.Popen(
        [PY, "-m", "specflow", "implement", "-j", str(parallel), "--agent", agent],
        cwd=repo,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        runs = list((repo / ".specflow" / "runs").glob("*/events.jsonl"))
        if runs and f'"{kind}"' in runs[0].read_text():
            break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def every_state_passes(repo: Path) -> None:
    """Every commit the branch went through since main passes the check (run on its tree)."""
    for sha in git(repo, "rev-list", f"main..{BRANCH}").split():
        files = set(git(repo, "ls-tree", "-r", "--name-only", sha).split())
        assert "bad.txt" not in files, sha
        assert not {"a.txt", "b.txt"} <= files, sha


def test_changes_that_fail_only_together_never_land_together(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, tasks(2), FILES, test_command=f"{PY} check.py")
    script = {"T001": {"write": {"a.txt": "a\n"}}, "T002": {"write": {"b.txt": "b\n"}}}
    p = cli(repo, "implement", "-j", "2", "--agent", script_agent(tmp_path, script))
    assert p.returncode == 1, p.stderr
    merged = branch_tasks(repo, BRANCH)
    assert len(merged) == 1, merged  # the first to land wins; the other fails on top of it
    failed = next(e for e in events(repo) if e["kind"] == "task_failed")
    assert failed["task"] != merged[0] and str(failed["reason"]).startswith("verify failed")
    outputs = [e["output"] for e in events(repo) if e["kind"] == "verify_failed"]
    assert outputs and all("do not go together" in str(o) for o in outputs)
    every_state_passes(repo)


def test_each_change_is_verified_once_when_nothing_fails(tmp_path: Path) -> None:
    """Four tasks land one on top of the other; each is verified once, on the state it lands
    on (speculatively, on top of the changes ahead of it)."""
    repo = make_repo(tmp_path, tasks(4), FILES, test_command=f"{PY} check.py")
    p = cli(repo, "implement", "-j", "4", "--agent", script_agent(tmp_path, own_files(4)))
    assert p.returncode == 0, p.stderr
    assert sorted(branch_tasks(repo, BRANCH)) == ["T001", "T002", "T003", "T004"]
    assert verified(repo) == {"T001": 1, "T002": 1, "T003": 1, "T004": 1}
    kinds = [e["kind"] for e in events(repo)]
    assert "merge_retry" not in kinds
    # one commit per task, its box ticked in the same commit
    subjects = git(repo, "log", "--format=%s", f"main..{BRANCH}").splitlines()
    assert sorted(subjects[1:]) == ["Task 1", "Task 2", "Task 3", "Task 4"]  # + the run record
    last = git(repo, "show", f"{BRANCH}:specs/001-calc/tasks.md")
    assert last.count("- [x]") == 4


def test_a_failure_ahead_is_dropped_and_those_behind_it_verified_again(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, tasks(3), FILES, test_command=f"{PY} check.py")
    script = {
        **own_files(1),
        "T002": {"write": {"bad.txt": "x\n"}, "sleep": 0.2},
        "T003": {"write": {"T003.txt": "x\n"}, "sleep": 0.4},
    }
    p = implement(repo, script, parallel=3, check_sleep=1.0)
    assert p.returncode == 1, p.stderr
    assert sorted(branch_tasks(repo, BRANCH)) == ["T001", "T003"]
    failed = [e for e in events(repo) if e["kind"] == "task_failed"]
    assert [e["task"] for e in failed] == ["T002"]
    outputs = {
        str(e["task"]): str(e["output"]) for e in events(repo) if e["kind"] == "verify_failed"
    }
    assert list(outputs) == ["T002"] and "bad.txt is here" in outputs["T002"]
    every_state_passes(repo)


def test_kill_9_while_verifying_then_resume(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, tasks(6), FILES, test_command=f"{PY} check.py")
    agent = script_agent(tmp_path, own_files(6, sleep=0.1))
    kill_9_after(repo, agent, "verify_passed", parallel=3, check_sleep=0.5)
    before = branch_tasks(repo, BRANCH)
    p = cli(repo, "implement", "--resume", "--agent", agent, env={"CHECK_SLEEP": "0.1"})
    assert p.returncode == 0, p.stderr
    merged = branch_tasks(repo, BRANCH)
    assert sorted(merged) == [f"T{i:03d}" for i in range(1, 7)]  # each once
    assert set(before) <= set(merged)
    every_state_passes(repo)
    assert git(repo, "status", "--porcelain") == ""


def test_the_next_agent_starts_while_checks_run_never_more_agents_than_asked(
    tmp_path: Path,
) -> None:
    """`-j 1` means one agent at a time, not one task: while a task's checks run in the gate
    (in its own worktree), the next task's agent already works in another."""
    repo = make_repo(tmp_path, tasks(3), FILES, test_command=f"{PY} check.py")
    p = implement(repo, own_files(3, sleep=0.4), parallel=1, check_sleep=1.0)
    assert p.returncode == 0, p.stderr
    assert sorted(branch_tasks(repo, BRANCH)) == ["T001", "T002", "T003"]
    spans = agent_spans(repo)
    one_at_a_time(spans)
    merged = {str(e["task"]): float(e["t"]) for e in events(repo) if e["kind"] == "task_merged"}
    first = min(spans, key=lambda k: spans[k][0])[0]
    others = [start for (task, _), (start, _) in spans.items() if task != first]
    assert min(others) < merged[first]  # the second agent ran while the first was checked
    assert set(verified(repo).values()) == {1}
    every_state_passes(repo)


def test_a_task_sent_back_by_the_gate_waits_for_an_agent_seat(tmp_path: Path) -> None:
    """T002 is fine alone but fails on top of T001 (a.txt with b.txt): the gate sends it back
    while T003's agent holds the one seat; its next attempt waits for that seat."""
    repo = make_repo(tmp_path, tasks(3), FILES, test_command=f"{PY} check.py")
    script = {
        "T001": {"write": {"a.txt": "x\n"}, "sleep": 0.3},
        "T002": {"write": {"b.txt": "x\n"}, "sleep": 0.3},
        "T003": {"write": {"T003.txt": "x\n"}, "sleep": 1.0},
    }
    p = implement(repo, script, parallel=1, check_sleep=0.5)
    assert p.returncode == 1, p.stderr
    assert sorted(branch_tasks(repo, BRANCH)) == ["T001", "T003"]
    spans = agent_spans(repo)
    assert ("T002", 2) in spans  # sent back, tried again
    one_at_a_time(spans)
    every_state_passes(repo)


def agent_spans(repo: Path) -> dict[tuple[str, int], tuple[float, float]]:
    """(task, attempt) -> when its agent ran."""
    starts: dict[tuple[str, int], float] = {}
    spans: dict[tuple[str, int], tuple[float, float]] = {}
    for e in events(repo):
        if e["kind"] not in ("agent_started", "agent_finished"):
            continue
        key = (str(e["task"]), int(str(e.get("attempt", 1))))
        if e["kind"] == "agent_started":
            starts[key] = float(str(e["t"]))
        elif e["kind"] == "agent_finished":
            spans[key] = (starts[key], float(str(e["t"])))
    return spans


def one_at_a_time(spans: dict[tuple[str, int], tuple[float, float]]) -> None:
    ordered = sorted(spans.values())
    for (_, end), (start, _) in zip(ordered, ordered[1:]):
        assert start >= end, ordered  # never two agents at once


def test_work_committed_before_kill_9_lands_on_resume_without_its_agent(tmp_path: Path) -> None:
    """Killed while T001's committed work sat in the gate: `--resume` sends that commit to the
    gate again (verified as it lands) instead of running T001's agent a second time."""
    repo = make_repo(tmp_path, tasks(2), FILES, test_command=f"{PY} check.py")
    log = tmp_path / "agents.log"
    agent = script_agent(tmp_path, {**own_files(2, sleep=0.1), "_log": str(log)})
    kill_9_after(repo, agent, "verify_started", parallel=1, check_sleep=3)
    committed = [str(e["task"]) for e in events(repo) if e["kind"] == "task_committed"]
    assert "T001" in committed and branch_tasks(repo, BRANCH) == []
    p = cli(repo, "implement", "--resume", "--agent", agent, env={"CHECK_SLEEP": "0.1"})
    assert p.returncode == 0, p.stderr
    assert sorted(branch_tasks(repo, BRANCH)) == ["T001", "T002"]
    runs_of = [line.split()[0] for line in log.read_text().splitlines()]
    assert runs_of.count("T001") == 1  # its agent ran once, before the kill
    restored = [e for e in events(repo) if e["kind"] == "task_restored"]
    assert [(e["task"], e["by"]) for e in restored][:1] == [("T001", "resume")]
    every_state_passes(repo)
