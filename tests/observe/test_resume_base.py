"""After `--resume`, each attempt's starting commit is the one its `agent_started` recorded
(the worktree was prepared afresh on the integration tip), not the previous run's commit."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.conftest import git, run_cli
from tests.observe.conftest import CHECK, TASKS

AGENT = """\
import os, pathlib, sys
t = os.environ["SPECFLOW_TASK_ID"]
if t == "T002":
    good = pathlib.Path(sys.argv[1]).exists()
    pathlib.Path("calc.py").write_text(
        "def add(a, b):\\n    return a %s b\\n" % ("+" if good else "-")
    )
else:
    pathlib.Path(t.lower() + ".txt").write_text(t + "\\n")
"""


def _git(repo: Path, *args: str) -> str:
    return git(repo, *args).strip()


def test_resumed_attempts_start_from_their_recorded_base(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "specs" / "001-calc").mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    (repo / "specflow.toml").write_text(
        "[project]\nname = 'calc'\n[implement]\nverify_retries = 0\n"
    )
    (repo / "check_add.py").write_text(CHECK)
    (repo / "specs" / "001-calc" / "tasks.md").write_text(TASKS)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "initial")
    fixed = tmp_path / "fixed"
    (tmp_path / "agent.py").write_text(AGENT)
    agent = f"cmd:{sys.executable} {tmp_path / 'agent.py'} {fixed}"
    first = run_cli(["implement", "-j", "1", "--only", "T001,T002", "--agent", agent], repo)
    assert first.code == 1, first.stdout
    failed_commit = json.loads(run_cli(["trace", "--json"], repo).stdout)
    t2 = {t["id"]: t for t in failed_commit["tasks"]}["T002"]
    bad = t2["attempts"][-1]["commit"]
    fixed.write_text("")
    tip = _git(repo, "rev-parse", "specflow/001-calc")  # T001 and the first run's record
    again = run_cli(["implement", "--resume", "--only", "T002", "--agent", agent], repo)
    assert again.code == 0, again.stdout + again.stderr
    data = json.loads(run_cli(["trace", "--json"], repo).stdout)
    t2 = {t["id"]: t for t in data["tasks"]}["T002"]
    resumed = t2["attempts"][-1]
    assert resumed["n"] == 2 and bad
    assert resumed["base"] == tip != bad  # the tip it was prepared on, not attempt 1's commit
