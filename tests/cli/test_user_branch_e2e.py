"""Issue 12, as it will be checked: the README's commands in order on a fresh repository, with
the installed `specflow`, a `cmd:` agent and a schema-aware model stub — then the round trip
back to the user's branch (status and cost on main, merge, a second round)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import GIT_ENV, REPO_ROOT
from tests.support.stub_llm import StubLLM, json_reply

_spec = importlib.util.spec_from_file_location(
    "rec_e2e", REPO_ROOT / "examples" / "unitconv" / "make_recording.py"
)
assert _spec and _spec.loader
REC: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(REC)
ANSWERS = {"specify": REC.SPEC, "plan": REC.PLAN, "tasks": REC.TASKS}
SPECFLOW = str(Path(sys.executable).parent / "specflow")

# Writes each file the brief names; a file under tests/ becomes a passing test module.
AGENT = """\
import os, pathlib, re
brief = pathlib.Path(os.environ["SPECFLOW_TASK_FILE"]).read_text()
m = re.search(r"^Files: (.*)\\.$", brief, re.M)
files = re.findall(r"`([^`]+)`", m.group(1)) if m else ["notes/" + os.environ["SPECFLOW_TASK_ID"]]
for f in files:
    p = pathlib.Path(f)
    p.parent.mkdir(parents=True, exist_ok=True)
    if p.parent.name == "tests" and p.suffix == ".py":
        (p.parent / "__init__.py").touch()
        p.write_text("import unittest\\n\\nclass T(unittest.TestCase):\\n    def test_ok(self):\\n        pass\\n")
    else:
        with p.open("a") as fh:
            fh.write("# " + os.environ["SPECFLOW_TASK_ID"] + "\\n")
"""
NEW_TASK = """
## Phase 4: Polish

- [ ] T007 Mention the rounding rule in README.md
  - depends: T006
  - files: docs/rounding.md
  - risk: low
"""


def stage_of(body: dict[str, Any]) -> str:
    system = body["messages"][0]["content"]
    return next(s for s in ANSWERS if f"specflow's {s} stage" in system)


@pytest.fixture
def stub() -> Any:
    with StubLLM() as server:
        server.default_reply = lambda body: json_reply(ANSWERS[stage_of(body)])
        yield server


class User:
    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root, self.env = root, env

    def sf(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [SPECFLOW, *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            check=False,
            env=env or self.env,
            timeout=300,
        )

    def git(self, *args: str, check: bool = True) -> str:
        p = subprocess.run(
            ["git", *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            env=self.env,
            check=False,
        )
        assert p.returncode == 0 or not check, p.stderr
        return p.stdout.strip()

    def sh(self, command: str) -> None:
        p = subprocess.run(
            ["sh", "-c", command], cwd=self.root, capture_output=True, text=True, env=self.env
        )
        assert p.returncode == 0, p.stderr

    def state(self) -> tuple[str, str, str, list[str]]:
        runs = self.root / ".specflow" / "runs"
        return (
            self.git("status", "--porcelain", "--untracked-files=all"),
            self.git("for-each-ref", "--format=%(refname) %(objectname)"),
            self.git("worktree", "list", "--porcelain"),
            sorted(p.name for p in runs.iterdir()) if runs.is_dir() else [],
        )


def test_readme_flow_round_trip_on_a_fresh_repository(tmp_path: Path, stub: Any) -> None:
    root = tmp_path / "project"
    root.mkdir()
    env = {**os.environ, **GIT_ENV, **stub.env(), "SPECFLOW_MODEL": stub.model}
    env.pop("PYTHONPATH", None)
    u = User(root, env)
    u.git("init", "-q", "-b", "main")
    (root / "README.md").write_text("# unitconv\n")
    u.git("add", "-A")
    u.git("commit", "-qm", "initial")
    (tmp_path / "agent.py").write_text(AGENT)
    agent = f"cmd:{sys.executable} {tmp_path / 'agent.py'}"
    (root / "feature.md").write_text(REC.SPEC["summary"] + "\n")
    for step in (["init"], ["specify", "feature.md"], ["plan"], ["tasks"]):
        p = u.sf(*step)
        assert p.returncode == 0, (step, p.stderr)
    feature = next((root / "specs").glob("001-*")).name
    branch = f"specflow/{feature}"

    # 1. not committed: refused before anything exists, naming the files and the command
    before = u.state()
    p = u.sf("implement", "--parallel", "2", "--agent", agent)
    assert p.returncode == 2, p.stdout + p.stderr
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and f"specs/{feature}/" in lines[0], p.stderr
    assert u.state() == before
    hint = re.search(r"commit them first: (.*)\)$", lines[0])
    assert hint, lines[0]
    u.sh(hint.group(1))  # the command as printed
    assert u.git("status", "--porcelain", "--", "specs", "specflow.toml") == ""

    # 2. the run: the integration branch carries the whole feature
    p = u.sf("implement", "--parallel", "2", "--agent", agent)
    assert p.returncode == 0, p.stdout + p.stderr
    subjects = u.git("log", "--format=%s", f"main..{branch}").splitlines()
    assert len(subjects) == 7 and subjects[0].startswith("specflow: run record")
    for kind in ("spec", "plan", "tasks"):
        u.git("cat-file", "-e", f"{branch}:specs/{feature}/{kind}.md")
    wt = tmp_path / "on-branch"
    u.git("worktree", "add", "-q", "--detach", str(wt), branch)
    check = subprocess.run(
        [SPECFLOW, "check"], cwd=wt, capture_output=True, text=True, env=env, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    u.git("worktree", "remove", "--force", str(wt))

    # 3. right after the run, on main: progress and spend
    status = u.sf("status").stdout
    assert f"6/6 merged on {branch}, not yet in main" in status, status
    run_id = json.loads(u.sf("status", "--json").stdout)["features"][0]["integration"]["runs"][0]
    cost = json.loads(u.sf("cost", "--json").stdout)
    assert run_id in cost["by_run"] and cost["unmerged_runs"] == {branch: [run_id]}

    # 4. merging into main is an ordinary merge; then the checkout has it all
    u.git("merge", "-q", "--no-edit", branch)
    assert "(6/6 tasks done" in u.sf("status").stdout
    assert u.sf("check").returncode == 0

    # 5. a second round: a task added on main lands on a branch that has main's commits
    tasks = root / "specs" / feature / "tasks.md"
    tasks.write_text(tasks.read_text() + NEW_TASK)
    u.git("commit", "-qam", "tasks: T007")
    p = u.sf("implement", "--parallel", "2", "--agent", agent)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "all 1 tasks merged" in p.stdout
    u.git("merge-base", "--is-ancestor", "main", branch)  # main's commits are in it
    u.git("merge", "-q", "--no-edit", branch)
    assert "- [x] T007" in tasks.read_text() and (root / "docs" / "rounding.md").is_file()

    # 6. failures come first: exit 2, one line, nothing changed
    tasks.write_text(
        tasks.read_text() + NEW_TASK.replace("T007", "T008").replace("Phase 4", "Phase 5")
    )
    u.git("commit", "-qam", "tasks: T008")
    before = u.state()
    no_key = {k: v for k, v in env.items() if k != "OPENAI_API_KEY"}
    no_key["SPECFLOW_MODEL"] = "openai/gpt-4o-mini"
    only_git = tmp_path / "only-git"  # a PATH with git on it and no gh
    only_git.mkdir()
    (only_git / "git").symlink_to(shutil.which("git") or "/usr/bin/git")
    no_gh = {**env, "PATH": str(only_git)}
    for args, run_env, said in (
        (["--agent", "builtin"], no_key, "SPECFLOW_MODEL"),
        (["--agent", agent, "--pr"], no_gh, "gh"),
        (["--agent", "no-such-agent"], env, "unknown agent"),
    ):
        p = u.sf("implement", "--parallel", "2", *args, env=run_env)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and said in lines[0], (args, p.stderr)
        assert u.state() == before, args
