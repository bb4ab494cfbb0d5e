"""The documented `cmd:` agent (examples/agents/note-agent.sh) through the installed command:
every variable docs/agents.md lists reaches it, with the documented value."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPECFLOW = str(Path(sys.executable).parent / "specflow")
TASKS = """# Tasks: notes

## Phase 1: Notes

- [ ] T001 Write the first note
  - files: notes/T001.md
- [ ] T002 Write the second note
  - depends: T001
  - files: notes/T002.md
"""


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout


def test_example_cmd_agent_sees_every_documented_variable(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "specs" / "001-notes").mkdir(parents=True)
    (repo / "specs" / "001-notes" / "tasks.md").write_text(TASKS)
    (repo / "specflow.toml").write_text("[project]\nname = 'notes'\n")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "specs")
    agent = f"cmd:sh {ROOT / 'examples' / 'agents' / 'note-agent.sh'}"
    env = {**os.environ, "SPECFLOW_MODEL": "openai/example"}
    p = subprocess.run(
        [SPECFLOW, "implement", "--agent", agent, "--parallel", "2"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    assert _git(repo, "show", "specflow/001-notes:notes/T002.md") == (
        "# Task T002: Write the second note\n"
    )
    run = next((repo / ".specflow" / "runs").iterdir())
    log = (run / "tasks" / "T002" / "agent-1.log").read_text()
    m = re.search(r"task T002 of 001-notes, attempt 1, run (\S+)", log)
    assert m and m.group(1) == run.name, log
    wt = re.search(r"worktree (\S+) \(cwd (\S+)\), model openai/example", log)
    assert wt and wt.group(1) == wt.group(2), log
    doc = (ROOT / "docs" / "agents.md").read_text()
    script = (ROOT / "examples" / "agents" / "note-agent.sh").read_text()
    for name in set(re.findall(r"SPECFLOW_[A-Z_]+", script)):
        assert f"`{name}`" in doc, name
    code = set(re.findall(r"SPECFLOW_[A-Z_]+", (ROOT / "specflow/agents/cmd.py").read_text()))
    assert code <= set(re.findall(r"SPECFLOW_[A-Z_]+", script)), code  # none undocumented
