"""Two recorded runs shared by the observe tests (built once per session, read-only after):

- `failing_run`: `cmd:` agents on a five-task graph where T002 fails its check twice, T003 and
  T004 are blocked behind it, T005 runs beside it; the fake agent prints a secret-looking
  environment variable, as a careless tool would.
- `demo_run`: `specflow demo` (builtin agent on the replay model), the run the docs show.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import GIT_ENV, run_cli

SECRET = "sk-observe-test-0123456789abcdefXYZ"

TASKS = """\
# Tasks: calc

## Phase 1: Build

- [ ] T001 Create the notes file
  - files: t001.txt
- [ ] T002 Add add() in calc.py
  - depends: T001
  - files: calc.py
  - verify: python3 check_add.py
- [ ] T003 Use add() in the report
  - depends: T002
  - files: t003.txt
- [ ] T004 Publish the report
  - depends: T003
  - files: t004.txt
- [ ] T005 [P] Independent notes
  - depends: T001
  - files: t005.txt
"""

AGENT = """\
import os, pathlib
t = os.environ["SPECFLOW_TASK_ID"]
print("token in my environment:", os.environ.get("OBSERVE_TEST_API_KEY"))
if t == "T002":
    pathlib.Path("calc.py").write_text("def add(a, b):\\n    return a - b\\n")
else:
    pathlib.Path(t.lower() + ".txt").write_text(t + "\\n")
print(t, "done")
"""

CHECK = """\
import calc
r = calc.add(1, 2)
print(f"add(1, 2) returned {r}, expected 3")
raise SystemExit(0 if r == 3 else 1)
"""


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, env={**os.environ, **GIT_ENV}
    )


@pytest.fixture(scope="session")
def failing_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("failing")
    repo = base / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "specflow.toml").write_text(
        "[project]\nname = 'calc'\n[implement]\nverify_retries = 1\n"
    )
    (repo / ".gitignore").write_text(".specflow/\n__pycache__/\n")
    (repo / "check_add.py").write_text(CHECK)
    (repo / "specs" / "001-calc").mkdir(parents=True)
    (repo / "specs" / "001-calc" / "tasks.md").write_text(TASKS)
    (base / "agent.py").write_text(AGENT)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "initial")
    old = {k: os.environ.get(k) for k in ("OBSERVE_TEST_API_KEY", *GIT_ENV)}
    os.environ.update({"OBSERVE_TEST_API_KEY": SECRET, **GIT_ENV})
    try:
        agent = f"cmd:{sys.executable} {base / 'agent.py'}"
        res = run_cli(["implement", "-j", "2", "--agent", agent], repo)
    finally:
        _restore(old)
    assert res.code == 1, res.stderr
    return repo


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("demo") / "unitconv"
    old = {k: os.environ.get(k) for k in GIT_ENV}
    os.environ.update(GIT_ENV)
    try:
        res = run_cli(["demo", "--dir", str(target)], target.parent)
    finally:
        _restore(old)
    assert res.code == 0, res.stderr
    return target


def _restore(old: dict[str, str | None]) -> None:
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
