"""A real git repository with a specflow feature, and a real MCP client over stdio."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
FEATURE = "001-calc"
BRANCH = f"specflow/{FEATURE}"


def _check(expr: str) -> str:
    return f"{PY} -c {json.dumps(expr)}"


TASKS_MD = f"""# Tasks: calc

## Phase 1: Setup

- [ ] T001 Create the calc package in calc/__init__.py
  - files: calc/__init__.py
  - verify: {_check("import calc")}

## Phase 2: Operations

- [ ] T002 [P] Add add() in calc/add.py
  - depends: T001
  - files: calc/add.py
  - verify: {_check("from calc.add import add; assert add(2, 3) == 5, add(2, 3)")}
- [ ] T003 [P] Add mul() in calc/mul.py
  - depends: T001
  - files: calc/mul.py
  - verify: {_check("from calc.mul import mul; assert mul(2, 3) == 6")}

## Phase 3: Power

- [ ] T004 Add power() in calc/power.py
  - depends: T002, T003
  - files: calc/power.py
  - verify: {_check("from calc.power import power; assert power(2, 3) == 8")}
"""

SPEC_MD = """# Feature Specification: calc

## Requirements

- **FR-001**: The calculator MUST add, multiply and raise to a power.
"""

# What a client agent writes into the worktree for each task.
WORK = {
    "T001": {"calc/__init__.py": '"""calc."""\n'},
    "T002": {"calc/add.py": "def add(a: int, b: int) -> int:\n    return a + b\n"},
    "T003": {"calc/mul.py": "def mul(a: int, b: int) -> int:\n    return a * b\n"},
    "T004": {
        "calc/power.py": "from calc.mul import mul\n\n\ndef power(a: int, n: int) -> int:\n"
        "    out = 1\n    for _ in range(n):\n        out = mul(out, a)\n    return out\n"
    },
}


def git(repo: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    toml = f"[project]\nname = 'calc'\ntest_command = {json.dumps(_check('import calc'))}\n"
    (repo / "specflow.toml").write_text(toml)
    (repo / ".gitignore").write_text(".specflow/\n__pycache__/\n")
    (repo / "README.md").write_text("# calc\n")
    fdir = repo / "specs" / FEATURE
    fdir.mkdir(parents=True)
    (fdir / "tasks.md").write_text(TASKS_MD)
    (fdir / "spec.md").write_text(SPEC_MD)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initial")
    return repo


def write_work(worktree: str, task: str, files: dict[str, str] | None = None) -> None:
    for rel, text in (files or WORK[task]).items():
        p = Path(worktree) / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def branch_tasks(repo: Path) -> list[str]:
    text = git(repo, "log", "--reverse", "--format=%(trailers:key=Specflow-Task,valueonly)", BRANCH)
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


class Client:
    """A thin wrapper over a real mcp.ClientSession: JSON results, one-line errors."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def call(self, name: str, **args: Any) -> dict[str, Any]:
        res = await self.session.call_tool(name, args)
        text = res.content[0].text if res.content else ""
        assert not res.is_error, f"{name}{args}: {text}"
        data: dict[str, Any] = json.loads(text)
        return data

    async def error(self, name: str, **args: Any) -> str:
        res = await self.session.call_tool(name, args)
        text: str = res.content[0].text if res.content else ""
        assert res.is_error, f"{name}{args} should fail, got {text}"
        assert "\n" not in text, text
        return text


@asynccontextmanager
async def connect(
    repo: Path, errlog: Path, env: dict[str, str] | None = None, *, elsewhere: bool = False
) -> AsyncIterator[Client]:
    """`elsewhere`: start the server outside the project, with `--project`."""
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(
        command=PY,
        args=["-m", "specflow", "mcp", *(["--project", str(repo)] if elsewhere else [])],
        cwd=repo.parent if elsewhere else repo,
        env={
            "PYTHONPATH": str(ROOT),
            "NO_COLOR": "1",
            "PATH": os.environ.get("PATH", ""),
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            **(env or {}),
        },
    )
    with open(errlog, "a") as err:
        async with (
            stdio_client(params, errlog=err) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield Client(session)
