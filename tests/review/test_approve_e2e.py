"""Trust policy end to end: a high-risk task waits for `specflow approve` while the low-risk
ones land, with and without a live run."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from review_helpers import events_of, kinds, trust_repo

from tests.engine.engine_helpers import PY, ROOT, branch_tasks, cli, git, script_agent

BRANCH = "specflow/001-calc"
TASKS = """# Tasks

- [ ] T001 [P] Docs
  - files: docs/calc.md
- [ ] T002 [P] Login check
  - files: src/auth/login.py
  - risk: high
- [ ] T003 [P] Notes
  - files: notes.txt
  - risk: low
- [ ] T004 Uses login
  - files: src/app.py
  - depends: T002
"""


def _script(tmp_path: Path, log: Path) -> str:
    script = {
        "_log": str(log),
        "default": {"write": {"{task}.txt": "{task}\n"}},
        "T001": {"write": {"docs/calc.md": "# calc\n"}},
        "T002": {"write": {"src/auth/login.py": "def check():\n    return True\n"}},
        "T003": {"write": {"notes.txt": "notes\n"}},
        "T004": {"write": {"src/app.py": "from src.auth.login import check\n"}},
    }
    return script_agent(tmp_path, script)


def _ran(log: Path) -> list[str]:
    return [ln.split()[0] for ln in log.read_text().splitlines()]


def test_high_risk_waits_for_approve_then_resume_merges_without_rerunning(tmp_path: Path) -> None:
    repo = trust_repo(tmp_path, TASKS)
    log = tmp_path / "agent.log"
    p = cli(repo, "implement", "-j", "2", "--agent", _script(tmp_path, log))
    assert p.returncode == 1, p.stderr
    assert "1 awaiting approval (T002)" in p.stderr
    assert "specflow approve T002 001-calc" in p.stderr and "--resume" in p.stderr
    # the low-risk tasks landed; T004 (depends on T002) waits with it, it is not failed
    assert sorted(branch_tasks(repo, BRANCH)) == ["T001", "T003"]
    waits = kinds(events_of(repo), "awaiting_approval")
    assert [(e["task"], e["risk"]) for e in waits] == [("T002", "high")]
    st = cli(repo, "status", "--json")
    feat = json.loads(st.stdout)["features"][0]
    assert feat["awaiting_approval"] == ["T002"]
    assert "T002" in cli(repo, "status").stdout.split("awaiting approval:")[1]
    bad = cli(repo, "approve", "T003")
    assert bad.returncode == 2 and "not awaiting approval" in bad.stderr
    a = cli(repo, "approve", "T002", "001-calc")
    assert a.returncode == 0, a.stderr
    assert "approved T002" in a.stdout and "1 file changed" in a.stdout
    p = cli(repo, "implement", "--resume")
    assert p.returncode == 0, p.stderr
    assert sorted(branch_tasks(repo, BRANCH)) == ["T001", "T002", "T003", "T004"]
    assert sorted(_ran(log)) == ["T001", "T002", "T003", "T004"]  # T002's agent ran once
    evs = events_of(repo)
    assert [e["task"] for e in kinds(evs, "task_restored")] == ["T002"]
    assert git(repo, "for-each-ref", "refs/specflow/") == ""  # the kept work is released


def test_live_run_waits_and_merges_when_approved(tmp_path: Path) -> None:
    repo = trust_repo(tmp_path, TASKS)
    log = tmp_path / "agent.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    agent = _script(tmp_path, log)
    proc = subprocess.Popen(
        [PY, "-m", "specflow", "implement", "-j", "1", "--wait-approval", "--agent", agent],
        cwd=repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            runs = repo / ".specflow" / "runs"
            if runs.is_dir():
                evs = events_of(repo)
                merged = {e["task"] for e in kinds(evs, "task_merged")}
                if kinds(evs, "awaiting_approval") and {"T001", "T003"} <= merged:
                    break
            time.sleep(0.2)
        else:
            raise AssertionError("T002 never waited while T001 and T003 merged")
        assert proc.poll() is None  # still running, one slot, not blocked by the waiting task
        a = cli(repo, "approve", "T002")
        assert a.returncode == 0 and "is live" in a.stdout, a.stderr
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "all 4 tasks merged" in out
    evs = events_of(repo)
    assert [e["task"] for e in kinds(evs, "task_approved")] == ["T002"]
    order = [e["task"] for e in kinds(evs, "task_merged")]
    assert order.index("T002") < order.index("T004")
