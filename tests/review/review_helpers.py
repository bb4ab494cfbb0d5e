"""Repositories with a trust policy, the reviewer served by the stub LLM server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.engine.engine_helpers import git

REVIEWER = "openai/gpt-4o-mini"  # a real name: litellm's price table prices the stub's usage

SPEC = """# Feature: calc

## Requirements

### Functional Requirements

- **FR-001**: The calculator MUST add two numbers.
- **FR-002**: The calculator MUST refuse to divide by zero with a clear error.
"""


def approve(summary: str = "looks right") -> dict[str, Any]:
    return {"decision": "approve", "summary": summary, "findings": []}


def request_changes(message: str, file: str = "calc.py", line: int = 1) -> dict[str, Any]:
    return {
        "decision": "request_changes",
        "summary": "division by zero is not handled",
        "findings": [{"file": file, "line": line, "severity": "major", "message": message}],
    }


def trust_repo(
    base: Path,
    tasks_md: str,
    *,
    toml_extra: str = "",
    files: dict[str, str] | None = None,
    feature: str = "001-calc",
) -> Path:
    repo = base / "repo"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    toml = "[project]\nname = 'calc'\n[implement]\nverify_retries = 1\n" + toml_extra
    (repo / "specflow.toml").write_text(toml)
    (repo / ".gitignore").write_text(".specflow/\n__pycache__/\n")
    for rel, text in (files or {"calc.py": "X = 1\n"}).items():
        p = repo / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    fdir = repo / "specs" / feature
    fdir.mkdir(parents=True)
    (fdir / "spec.md").write_text(SPEC)
    (fdir / "tasks.md").write_text(tasks_md)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initial")
    return repo


def events_of(repo: Path) -> list[dict[str, Any]]:
    from specflow.runs.events import read_events

    runs = sorted((repo / ".specflow" / "runs").iterdir())
    return [e for r in runs for e in read_events(r / "events.jsonl")]


def kinds(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["kind"] == kind]


def calls_log(repo: Path) -> list[dict[str, Any]]:
    path = repo / ".specflow" / "logs" / "calls.jsonl"
    return [json.loads(ln) for ln in path.read_text().splitlines() if ln.strip()]
