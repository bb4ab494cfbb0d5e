"""Adversarial runs: a real repository, `specflow implement` with the builtin agent on a
`replay:` model whose answers are an attacker's tool calls (or a `cmd:` agent script), and the
checks that nothing got out: markers outside the worktree, the user's branch and index, keys
under `.specflow/`, processes left alive."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.engine.engine_helpers import git

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
FEATURE = "001-sec"
# What a leaked key would look like: set in specflow's environment for every attack run.
KEY_NAME = "OPENAI_API_KEY"
KEY = "sk-sec" + "Q7f9ZkP2mW4xV8nB1cL6"  # split: the literal never appears whole in the source
CUSTOM_NAME = "ACME_DEPLOY"  # a secret whose name no rule knows
CUSTOM = "acme-" + "d41f0b7e9c2a5381"


def record(attack: Attack, steps: dict[str, list[dict[str, Any]]]) -> None:
    """The replayed model's answers: per task, one tool call a turn, then `finish`."""
    lines = []
    for tid, calls in steps.items():
        if not calls or calls[-1]["name"] != "finish":
            calls = [*calls, call("finish", summary="done")]
        for i, c in enumerate(calls):
            response = {"content": None, "tool_calls": [{"id": f"c{i}", **c}]}
            lines.append(json.dumps({"purpose": f"implement/{tid}", "response": response}))
    attack.recording.write_text("\n".join(lines) + "\n")


def call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"name": name, "arguments": arguments}


def run(*argv: str, timeout: float = 20) -> dict[str, Any]:
    return call("run", command=list(argv), timeout_s=timeout)


def sh(script: str, timeout: float = 20) -> dict[str, Any]:
    return run("sh", "-c", script, timeout=timeout)


@dataclass
class Attack:
    """One repository set up for an attack run."""

    base: Path  # holds the repository, the recording and the outside targets
    repo: Path
    outside: Path  # a folder next to the repository no command may write
    recording: Path

    @property
    def state(self) -> Path:
        return self.repo / ".specflow"

    def implement(
        self, *extra: str, env: dict[str, str] | None = None, timeout: float = 90
    ) -> subprocess.CompletedProcess[str]:
        full = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "NO_COLOR": "1",
            KEY_NAME: KEY,
            CUSTOM_NAME: CUSTOM,
            **(env or {}),
        }
        full.pop("SPECFLOW_SANDBOX", None)
        args = ["implement", FEATURE, "--json", *extra]
        return subprocess.run(
            [PY, "-m", "specflow", *args],
            cwd=self.repo,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=full,
        )

    def events(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for f in sorted(self.state.glob("runs/*/events.jsonl")):
            out += [json.loads(line) for line in f.read_text().splitlines() if line.strip()]
        return out

    def failed(self) -> dict[str, dict[str, Any]]:
        return {e["task"]: e for e in self.events() if e["kind"] == "task_failed"}

    def merged(self) -> list[str]:
        return [e["task"] for e in self.events() if e["kind"] == "task_merged"]

    def marker_hits(self) -> list[Path]:
        """Files named `PWNED*` anywhere an attack could have put one, outside the worktrees."""
        prefix = f"PWNED-{self.tag}"
        hits = [p for p in _walk(self.base, skip=self.state / "worktrees") if prefix in p.name]
        for top in (Path("/tmp"), Path("/var/tmp"), Path.home(), Path("/dev/shm")):
            hits += list(top.glob(f"{prefix}*"))
        return hits

    @property
    def tag(self) -> str:
        return self.base.name

    def leaked(self, values: tuple[str, ...] = (KEY, CUSTOM)) -> list[str]:
        """Files under .specflow/ (worktrees aside) that hold a secret in clear."""
        found: list[str] = []
        for p in _walk(self.state, skip=self.state / "worktrees"):
            try:
                data = p.read_bytes()
            except OSError:
                continue
            if any(v.encode() in data for v in values):
                found.append(str(p.relative_to(self.state)))
        return found


def _walk(root: Path, skip: Path) -> Iterator[Path]:
    if not root.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if here == skip or skip in here.parents:
            dirnames[:] = []
            continue
        dirnames[:] = [d for d in dirnames if d not in (".git", "node_modules", ".venv")]
        for f in filenames:
            yield here / f


def make_attack(
    parent: Path,
    steps: dict[str, list[dict[str, Any]]],
    *,
    toml: str = "",
    verify: dict[str, str] | None = None,
    files: dict[str, str] | None = None,
    deps: dict[str, list[str]] | None = None,
) -> Attack:
    """A repository whose tasks (one per key of `steps`) are done by the replayed tool calls
    (each list ends with `finish` unless it already does)."""
    base = parent / f"sec{uuid.uuid4().hex[:8]}"
    repo = base / "repo"
    outside = base / "outside"
    outside.mkdir(parents=True)
    (outside / "target.txt").write_text("untouched\n")
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    recording = base / "model.jsonl"
    (repo / "specflow.toml").write_text(
        f'[project]\nname = "sec"\n[models]\nimplement = "replay:{recording}"\n'
        "[implement]\nverify_retries = 0\nmax_steps = 60\nmax_seconds = 60\n" + toml
    )
    (repo / ".gitignore").write_text(".specflow/\n")
    for rel, text in (files or {}).items():
        p = repo / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    tasks = "# Tasks\n\n"
    for tid in steps:
        mark = "" if deps and tid in deps else "[P] "  # independent unless told otherwise
        tasks += f"- [ ] {tid} {mark}Do {tid}\n  - files: {tid}.txt\n"
        if verify and tid in verify:
            tasks += f"  - verify: `{verify[tid]}`\n"
        if deps and tid in deps:
            tasks += f"  - depends: {', '.join(deps[tid])}\n"
    fdir = repo / "specs" / FEATURE
    fdir.mkdir(parents=True)
    (fdir / "tasks.md").write_text(tasks)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initial")
    attack = Attack(base, repo, outside, recording)
    record(attack, steps)
    return attack


def outside_tmp_parent() -> Path:
    """A folder for repositories that do not live under /tmp."""
    p = ROOT / ".security-tests"
    p.mkdir(exist_ok=True)
    return p


def remove(attack: Attack) -> None:
    shutil.rmtree(attack.base, ignore_errors=True)


def alive(marker: str) -> list[str]:
    """Command lines of live processes that mention `marker`."""
    out: list[str] = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if marker in cmdline:
            out.append(cmdline)
    return out
