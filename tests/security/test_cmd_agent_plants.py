"""An unconfined `cmd:` agent plants hooks, fsmonitor, drivers, a process-leaving test and a
symlink (tests/security/plant_agent.py); nothing specflow runs afterwards — its commit, checks,
merge queue, and `status`, `check`, `log`, `report`, `trace`, `why`, `coverage`, `drift` —
runs any of it, and the test's background process does not outlive the checks."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from specflow.sandbox.core import bwrap_works, landlock_abi
from tests.engine.engine_helpers import PY, cli, git
from tests.security.harness import alive

pytestmark = pytest.mark.skipif(
    bwrap_works() is not None and landlock_abi() < 2, reason="no confinement on this machine"
)
AGENT = Path(__file__).with_name("plant_agent.py")
TASKS = """# Tasks

- [ ] T001 Do T001
  - files: T001.txt
- [ ] T002 Do T002
  - files: T002.txt
  - depends: T001
"""


def test_what_a_cmd_agent_plants_never_runs(tmp_path: Path) -> None:
    out = tmp_path / "outside"
    out.mkdir()
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "specflow.toml").write_text(
        f'[project]\nname = "plants"\ntest_command = "{PY} -m unittest -q"\n'
        "[implement]\nverify_retries = 0\n"
    )
    (repo / ".gitignore").write_text(".specflow/\n")
    (repo / "specs" / "001-plants").mkdir(parents=True)
    (repo / "specs" / "001-plants" / "tasks.md").write_text(TASKS)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initial")
    mark = f"PLANTED-{uuid.uuid4().hex[:8]}"
    agent = f"cmd:{PY} {AGENT} {out} {mark}"
    p = cli(repo, "implement", "-j", "1", "--agent", agent, timeout=180)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "core.hookspath=" in git(repo, "config", "--list")  # the plants are in place
    for args in (
        ("status",), ("check",), ("log",), ("report",), ("trace", "last", "T001"),
        ("why", "T002"), ("coverage",), ("drift",), ("cost",),
    ):  # fmt: skip
        q = cli(repo, *args)
        assert q.returncode in (0, 1), (args, q.stderr)
    spy = tmp_path / "spy.log"
    assert sorted(p.name for p in out.iterdir()) == [], spy.read_text() if spy.exists() else ""
    assert alive(mark) == []
    # the work landed: the agent's files, its link committed as a link (never followed)
    branch = "specflow/001-plants"
    assert git(repo, "show", f"{branch}:T002.txt") == "T002"
    assert git(repo, "ls-tree", branch, "outlink").startswith("120000 ")
