"""The approvals a person gives with `specflow approve`.

They live in `.specflow/approvals/<feature>.jsonl`, one JSON object per line
(`{"t", "task", "commit", "by"}`), appended in one write; the running engine polls the file,
and `implement --resume` reads it, so an approval works whether or not the run is alive.
No litellm, little I/O: `status` and `approve` use it too.
"""

from __future__ import annotations

import getpass
import json
import os
import threading
import time
from pathlib import Path
from typing import Any


def approvals_path(state_dir: Path, feature: str) -> Path:
    return state_dir / "approvals" / f"{feature}.jsonl"


def record_approval(state_dir: Path, feature: str, task: str, commit: str | None) -> dict[str, Any]:
    path = approvals_path(state_dir, feature)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        who = getpass.getuser()
    except Exception:
        who = "?"
    entry = {"t": round(time.time(), 3), "task": task, "commit": commit, "by": who}
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (json.dumps(entry) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return entry


def read_approvals(state_dir: Path, feature: str) -> list[dict[str, Any]]:
    try:
        text = approvals_path(state_dir, feature).read_text(encoding="utf-8")
    except OSError:
        return []
    out: list[dict[str, Any]] = []
    for line in text.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and isinstance(obj.get("task"), str):
            out.append(obj)
    return out


def approval_for(
    approvals: list[dict[str, Any]], task: str, commit: str | None
) -> dict[str, Any] | None:
    """The approval of `task`'s work at `commit` (an approval naming no commit approves any)."""
    for entry in reversed(approvals):
        if entry.get("task") != task:
            continue
        if entry.get("commit") in (None, commit):
            return entry
    return None


class ApprovalWatcher:
    """Re-reads the approvals file when it changed (the engine polls it every half second)."""

    def __init__(self, state_dir: Path, feature: str) -> None:
        self.state_dir = state_dir
        self.feature = feature
        self._stamp: tuple[int, int] | None = None
        self.entries: list[dict[str, Any]] = []
        self._lock = threading.Lock()  # the engine's loop and its workers both ask

    def refresh(self) -> list[dict[str, Any]]:
        path = approvals_path(self.state_dir, self.feature)
        with self._lock:
            try:
                st = path.stat()
            except OSError:
                return self.entries
            stamp = (st.st_mtime_ns, st.st_size)
            if stamp != self._stamp:
                self._stamp = stamp
                self.entries = read_approvals(self.state_dir, self.feature)
            return self.entries

    def approved(self, task: str, commit: str | None) -> dict[str, Any] | None:
        return approval_for(self.refresh(), task, commit)


def awaiting_approval(state_dir: Path, feature: str) -> dict[str, str]:
    """Tasks of the feature's last run that wait for `specflow approve`: {task: commit}.

    Cheap enough for `specflow status`: only the first line of each run's log is read to find
    the feature's last run, and that log is parsed only if it mentions an approval wait."""
    from specflow.runs.state import RunPaths, rebuild

    last: tuple[float, str] | None = None
    runs = state_dir / "runs"
    for d in runs.iterdir() if runs.is_dir() else ():
        try:
            with open(d / "events.jsonl", "rb") as fh:
                first = json.loads(fh.readline() or b"{}")
        except (OSError, ValueError):
            continue
        if first.get("kind") == "run_started" and first.get("feature") == feature:
            key = (float(first.get("t", 0) or 0), d.name)
            last = key if last is None or key > last else last
    if last is None:
        return {}
    path = RunPaths(state_dir, last[1]).events
    try:
        if b'"awaiting_approval"' not in path.read_bytes():
            return {}
    except OSError:
        return {}
    records = rebuild(path)
    return {
        t: r.awaiting
        for t, r in sorted(records.items())
        if r.status == "awaiting_approval" and r.awaiting
    }
