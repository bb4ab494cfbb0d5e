"""Real git repositories in temp dirs and the real CLI in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
AGENTS = ROOT / "tests" / "fixtures" / "agents"
PY = sys.executable


def git(repo: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def init_repo(repo: Path, files: dict[str, str], message: str = "init") -> Path:
    """A new repository at `repo` on `main` with `files` in its first commit."""
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    for rel, text in files.items():
        p = repo / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    return repo


def make_repo(
    base: Path,
    tasks_md: str,
    files: dict[str, str] | None = None,
    *,
    test_command: str | None = None,
    feature: str = "001-calc",
    conflict_retries: int = 1,
) -> Path:
    toml = "[project]\nname = 'calc'\n"
    if test_command:
        toml += f"test_command = {json.dumps(test_command)}\n"
    toml += f"[implement]\nverify_retries = 1\nconflict_retries = {conflict_retries}\n"
    project = {
        "specflow.toml": toml,
        ".gitignore": ".specflow/\n__pycache__/\n",
        **(files or {}),
        f"specs/{feature}/tasks.md": tasks_md,
    }
    return init_repo(base / "repo", project, "initial")


def cli(
    repo: Path, *args: str, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", **(env or {})}
    return subprocess.run(
        [PY, "-m", "specflow", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
    )


def script_agent(base: Path, script: dict[str, Any]) -> str:
    path = base / "agent-script.json"
    path.write_text(json.dumps(script))
    return f"cmd:{PY} {AGENTS / 'scripted.py'} {path}"


def branch_tasks(repo: Path, branch: str) -> list[str]:
    """Task ids in commit trailers on `branch`, oldest first."""
    text = git(repo, "log", "--reverse", "--format=%(trailers:key=Specflow-Task,valueonly)", branch)
    return [ln.strip() for ln in text.splitlines() if ln.strip()]
