"""Run identity, the per-feature lock, and the state of a run rebuilt from its events."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from specflow.domain.usage import empty_usage
from specflow.errors import InputError, LockHeld
from specflow.flock import try_lock_path, write_note
from specflow.runs.events import Event, iter_events

TERMINAL = ("merged", "failed", "blocked")


def new_run_id(now: float | None = None) -> str:
    """`20260101-120000-ab12`: when it started (UTC; `now` or the clock's time), and a suffix."""
    stamp = time.gmtime(time.time() if now is None else now)
    return time.strftime("%Y%m%d-%H%M%S", stamp) + "-" + secrets.token_hex(2)


@dataclass(frozen=True)
class RunPaths:
    state_dir: Path  # .specflow/
    run_id: str

    @property
    def dir(self) -> Path:
        return self.state_dir / "runs" / self.run_id

    @property
    def events(self) -> Path:
        return self.dir / "events.jsonl"

    def brief(self, task_id: str) -> Path:
        return self.dir / "briefs" / f"{task_id}.md"

    def task_dir(self, task_id: str) -> Path:
        return self.dir / "tasks" / task_id

    def agent_log(self, task_id: str, attempt: int) -> Path:
        return self.task_dir(task_id) / f"agent-{attempt}.log"

    def verify_log(self, task_id: str, attempt: int) -> Path:
        return self.task_dir(task_id) / f"verify-{attempt}.log"

    def feedback(self, task_id: str, attempt: int) -> Path:
        return self.task_dir(task_id) / f"feedback-{attempt}.md"


# -- the lock -------------------------------------------------------------------------------


class FeatureLock:
    """`.specflow/locks/<feature>.lock`, held with flock for the life of the run.

    flock dies with the process (even kill -9), so a lock left by a dead run is never "held";
    the file's text (pid, run id) only serves the message.
    """

    def __init__(self, state_dir: Path, feature: str) -> None:
        self.path = state_dir / "locks" / f"{feature}.lock"
        self.feature = feature
        self._fd: int | None = None

    def acquire(self, run_id: str) -> None:
        fd = try_lock_path(self.path)
        if fd is None:
            holder = self.holder()
            who = f"run {holder[1]} (pid {holder[0]})" if holder else "another run"
            hint = (
                "wait for it to finish, or stop it (Ctrl-C) and run 'specflow implement --resume'"
            )
            if holder and holder[1].startswith("mcp:"):
                hint = "an MCP session has open claims on it: complete or fail them first"
            raise LockHeld(f"feature {self.feature} is already being implemented by {who}", hint)
        write_note(fd, f"{os.getpid()} {run_id}\n")
        os.fsync(fd)
        self._fd = fd

    def holder(self) -> tuple[int, str] | None:
        try:
            parts = self.path.read_text().split()
            return int(parts[0]), parts[1]
        except (OSError, ValueError, IndexError):
            return None

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)
            self._fd = None


# -- runs on disk ---------------------------------------------------------------------------


def list_runs(state_dir: Path, feature: str | None = None) -> list[tuple[str, Event]]:
    """(run id, run_started event) for every run, oldest first."""
    runs_dir = state_dir / "runs"
    if not runs_dir.is_dir():
        return []
    out: list[tuple[str, Event]] = []
    for d in runs_dir.iterdir():
        first = next(iter_events(d / "events.jsonl"), None)
        if first is None or first.get("kind") != "run_started":
            continue
        if feature is None or first.get("feature") == feature:
            out.append((d.name, first))
    out.sort(key=lambda r: (r[1].get("t", 0), r[0]))
    return out


def find_run(state_dir: Path, feature: str | None, run_id: str | None) -> tuple[str, Event]:
    runs = list_runs(state_dir, feature)
    if run_id:
        hits = [r for r in runs if r[0] == run_id or r[0].startswith(run_id)]
        if len(hits) == 1:
            return hits[0]
        where = f" for feature {feature}" if feature else ""
        raise InputError(
            f"no run '{run_id}'{where}" if not hits else f"'{run_id}' matches several runs",
            "list runs with 'ls .specflow/runs'",
        )
    if not runs:
        where = f" for feature {feature}" if feature else ""
        raise InputError(f"no runs yet{where}", "start one with 'specflow implement'")
    return runs[-1]


# -- state rebuilt from events ----------------------------------------------------------------


@dataclass
class TaskRecord:
    id: str
    # pending running verifying reviewing awaiting_approval merging merged failed blocked
    status: str = "pending"
    attempts: int = 0
    seconds: float = 0.0
    agent_seconds: float = 0.0
    steps: int = 0
    usage: dict[str, float] = field(default_factory=empty_usage)
    reason: str | None = None
    blocked_by: str | None = None
    commit: str | None = None
    started: float | None = None
    model: str | None = None  # the implementing model of the last attempt
    awaiting: str | None = None  # the commit waiting for (or given) `specflow approve`
    committed: str | None = None  # the last attempt's commit, until it lands or is replaced
    reviews: int = 0
    review_model: str | None = None
    review_usage: dict[str, float] = field(default_factory=empty_usage)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "status": self.status,
            "attempts": self.attempts,
            "seconds": round(self.seconds, 2),
            "agent_seconds": round(self.agent_seconds, 2),
            "steps": self.steps,
            "usage": {k: round(v, 6) for k, v in self.usage.items()},
        }
        if self.commit:
            d["commit"] = self.commit
        if self.reason:
            d["reason"] = self.reason
        if self.blocked_by:
            d["blocked_by"] = self.blocked_by
        if self.model:
            d["model"] = self.model
        if self.awaiting and self.status == "awaiting_approval":
            d["awaiting"] = self.awaiting
        if self.reviews:
            d["reviews"] = self.reviews
            d["review_model"] = self.review_model
            d["review_usage"] = {k: round(v, 6) for k, v in self.review_usage.items()}
        return d


def apply_event(tasks: dict[str, TaskRecord], ev: Event) -> None:
    """Fold one event into per-task records (used live and when rebuilding)."""
    tid = ev.get("task")
    if not isinstance(tid, str):
        return
    rec = tasks.setdefault(tid, TaskRecord(tid))
    kind = ev.get("kind")
    if kind == "task_started":
        rec.status = "running"
        rec.started = ev.get("t")
        rec.reason = None
    elif kind == "task_committed":
        rec.committed = ev.get("commit")
    elif kind in ("verify_failed", "merge_conflict"):
        rec.committed = None  # the gate sent it back: the agent goes again
    elif kind == "agent_started":
        rec.committed = None
        rec.attempts = max(rec.attempts, int(ev.get("attempt", rec.attempts + 1)))
        rec.model = ev.get("model") or rec.model
    elif kind == "agent_finished":
        rec.agent_seconds += float(ev.get("seconds", 0.0))
        rec.steps += int(ev.get("steps", 0))
        for k, v in (ev.get("usage") or {}).items():
            if k in rec.usage:
                rec.usage[k] += float(v)
    elif kind == "verify_started":
        rec.status = "verifying"
    elif kind == "merge_started":
        rec.status = "merging"
    elif kind in POLICY_EVENTS:
        _apply_policy_event(rec, kind, ev)
    elif kind in ("task_merged", "task_failed", "task_blocked"):
        rec.status = {"task_merged": "merged", "task_failed": "failed"}.get(kind, "blocked")
        rec.reason = ev.get("reason")
        rec.blocked_by = ev.get("by")
        rec.commit = ev.get("commit", rec.commit)
        rec.committed = None
        if kind == "task_merged":
            rec.awaiting = None
        if rec.started is not None and kind != "task_blocked":
            rec.seconds += float(ev.get("t", rec.started)) - rec.started
            rec.started = None


POLICY_EVENTS = frozenset(
    {"review_started", "review_verdict", "awaiting_approval", "task_approved", "model_escalated"}
)


def _apply_policy_event(rec: TaskRecord, kind: str, ev: Event) -> None:
    """Review, approval and escalation events (docs/trust.md)."""
    if kind == "review_started":
        rec.status = "reviewing"
    elif kind == "review_verdict":
        rec.reviews += 1
        rec.review_model = ev.get("model") or rec.review_model
        for k, v in (ev.get("usage") or {}).items():
            if k in rec.usage:
                rec.usage[k] += float(v)
                rec.review_usage[k] += float(v)
    elif kind == "awaiting_approval":
        rec.status = "awaiting_approval"
        rec.awaiting = ev.get("commit") or rec.awaiting
        rec.reason = f"awaiting approval: {ev.get('hint') or 'specflow approve ' + rec.id}"
        if rec.started is not None:
            rec.seconds += float(ev.get("t", rec.started)) - rec.started
            rec.started = None
    elif kind == "task_approved":
        rec.reason = None
    elif kind == "model_escalated":
        rec.model = ev.get("to") or rec.model


def rebuild(events_path: Path) -> dict[str, TaskRecord]:
    tasks: dict[str, TaskRecord] = {}
    for ev in iter_events(events_path):
        apply_event(tasks, ev)
    return tasks


def live_agent_pids(events_path: Path) -> list[int]:
    """Agent processes a dead run started and never saw finish (they may still be running)."""
    pids: dict[tuple[str, int], int] = {}
    for ev in iter_events(events_path):
        key = (str(ev.get("task")), int(ev.get("attempt") or 0))
        if ev.get("kind") == "agent_process" and isinstance(ev.get("pid"), int):
            pids[key] = ev["pid"]
        elif ev.get("kind") == "agent_finished":
            pids.pop(key, None)
    return list(pids.values())


def kill_orphans(events_path: Path, run_id: str) -> list[int]:
    """Stop agents orphaned by a killed run, so they cannot write into reused worktrees.

    A pid is only signalled if its environment names the run (guards against pid reuse).
    """
    killed: list[int] = []
    marker = f"SPECFLOW_RUN_ID={run_id}".encode()
    for pid in live_agent_pids(events_path):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if marker not in environ.split(b"\0"):
            continue
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
            killed.append(pid)
    return killed
