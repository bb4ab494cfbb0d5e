"""Claims and locks of MCP sessions, rebuilt from a session run's events (like `--resume`).

An MCP session run is an ordinary run folder, `.specflow/runs/<run-id>/events.jsonl`, whose
`run_started` event says `agent: "mcp"`. Every server process working on a feature appends to
the feature's one open session run, so claims are shared between clients and survive restarts.

Locks, all `flock` (released by the kernel when a process dies, even with kill -9):
- `.specflow/locks/<feature>.lock` — the file `specflow implement`'s FeatureLock holds
  exclusively. An MCP server holds it *shared* while the feature has open claims, so implement
  and MCP sessions exclude each other, while several MCP sessions work side by side.
- `.specflow/locks/<feature>.mcp.lock` — exclusive for the few milliseconds of a state change
  (read events + git, decide, append), so two servers never hand out the same task.
- `.specflow/mcp/sessions/<session>.lock` — held by each server for its whole life: a claim
  whose session's lock is free belongs to a dead server and may be adopted.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from specflow.errors import LockHeld
from specflow.flock import lock_path, locked, try_lock, try_lock_path, write_note
from specflow.runs.events import EventLog, iter_events
from specflow.runs.state import FeatureLock, list_runs, new_run_id

AGENT = "mcp"


@dataclass
class Claim:
    task: str
    worktree: Path
    branch: str
    base: str  # the commit the task's work sits on (moves when it is rebased)
    session: str
    pid: int
    index: int  # the worktree's number: .specflow/worktrees/<feature>/mcp-<index>
    attempts: int = 0
    since: float = 0.0  # when the client's current attempt began (claim, or last failure)


@dataclass
class Board:
    """What a feature's session run says: open claims and failed tasks."""

    run_id: str | None = None
    claims: dict[str, Claim] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # task -> reason
    finished: bool = False


def fold(events_path: Path, run_id: str) -> Board:
    board = Board(run_id=run_id)
    for ev in iter_events(events_path):
        kind, tid = ev.get("kind"), ev.get("task")
        if kind == "run_finished":
            board.finished = True
        if not isinstance(tid, str):
            continue
        claim = board.claims.get(tid)
        if kind == "task_claimed":
            board.failed.pop(tid, None)
            board.claims[tid] = Claim(
                task=tid,
                worktree=Path(str(ev.get("worktree"))),
                branch=str(ev.get("branch")),
                base=str(ev.get("base")),
                session=str(ev.get("session")),
                pid=int(ev.get("pid") or 0),
                index=int(ev.get("index") or 0),
                attempts=claim.attempts if claim else 0,
                since=float(ev.get("t") or 0.0),
            )
        elif kind in ("merge_rebase", "merge_conflict") and claim and ev.get("onto"):
            claim.base = str(ev["onto"])
            claim.since = float(ev.get("t") or claim.since)
        elif kind == "verify_failed" and claim:
            claim.since = float(ev.get("t") or claim.since)
        elif kind == "task_committed" and claim:
            claim.attempts = max(claim.attempts, int(ev.get("attempt") or 0))
        elif kind == "task_merged":
            board.claims.pop(tid, None)
            board.failed.pop(tid, None)
        elif kind == "task_failed":
            board.claims.pop(tid, None)
            board.failed[tid] = str(ev.get("reason") or "failed")
    return board


def session_runs(state_dir: Path, feature: str) -> list[str]:
    return [rid for rid, first in list_runs(state_dir, feature) if first.get("agent") == AGENT]


def open_board(state_dir: Path, feature: str) -> Board:
    """The feature's latest unfinished session run, or an empty board (no run yet)."""
    for rid in reversed(session_runs(state_dir, feature)):
        board = fold(state_dir / "runs" / rid / "events.jsonl", rid)
        if not board.finished:
            return board
        break  # a finished run closes the session; the next claim starts a new one
    return Board()


def start_session_run(state_dir: Path, feature: str, **data: object) -> str:
    run_id = new_run_id()
    log = EventLog(state_dir / "runs" / run_id / "events.jsonl")
    try:
        log.emit("run_started", run=run_id, feature=feature, agent=AGENT, parallel=0, **data)
    finally:
        log.close()
    return run_id


def record_claim(state_dir: Path, run_id: str, claim: Claim, *, adopted_from: str | None) -> None:
    """`task_claimed` (who holds it, where); a fresh claim also starts the task, as the engine
    records `task_started`, so log, trace and report read MCP runs like any other."""
    claim.pid = os.getpid()
    with run_events(state_dir, run_id) as events:
        events.emit(
            "task_claimed",
            task=claim.task,
            worktree=str(claim.worktree),
            branch=claim.branch,
            base=claim.base,
            session=claim.session,
            pid=claim.pid,
            index=claim.index,
            adopted_from=adopted_from,
        )
        if adopted_from is None:
            events.emit("task_started", task=claim.task, slot=claim.index, base=claim.base)


@contextlib.contextmanager
def run_events(state_dir: Path, run_id: str) -> Iterator[EventLog]:
    log = EventLog(state_dir / "runs" / run_id / "events.jsonl")
    try:
        yield log
    finally:
        log.close()


# -- locks --------------------------------------------------------------------------------------


def feature_mutex(state_dir: Path, feature: str) -> contextlib.AbstractContextManager[int]:
    return locked(state_dir / "locks" / f"{feature}.mcp.lock")


class SharedFeatureLock:
    """FeatureLock's file, held shared: excludes `specflow implement`, not other sessions."""

    def __init__(self, state_dir: Path, feature: str) -> None:
        self._plain = FeatureLock(state_dir, feature)
        self.path = self._plain.path
        self.feature = feature
        self._fd: int | None = None
        self._mutex = threading.Lock()  # tool calls run in worker threads

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, run_id: str | None) -> None:
        with self._mutex:
            self._acquire(run_id)

    def _acquire(self, run_id: str | None) -> None:
        if self._fd is not None:
            return
        fd = try_lock_path(self.path, shared=True)
        if fd is None:
            holder = self._plain.holder()
            who = f"run {holder[1]} (pid {holder[0]})" if holder else "another run"
            raise LockHeld(
                f"feature {self.feature} is being implemented by 'specflow implement' {who}",
                "wait for that run to finish, or stop it, before working on it over MCP",
            )
        self._fd = fd
        self._label(run_id)

    def label(self, run_id: str) -> None:
        """Name the session run in the lock file, once it exists."""
        with self._mutex:
            self._label(run_id)

    def _label(self, run_id: str | None) -> None:
        # Only for implement's message: "already being implemented by run mcp:<id> (pid N)".
        if self._fd is not None:
            write_note(self._fd, f"{os.getpid()} mcp:{run_id or 'session'}\n")

    def release(self) -> None:
        with self._mutex:
            if self._fd is None:
                return
            with contextlib.suppress(OSError):  # the last holder clears the text
                if try_lock(self._fd):
                    os.ftruncate(self._fd, 0)
            os.close(self._fd)
            self._fd = None


class SessionToken:
    """This server's identity; its lock file says the session is alive."""

    def __init__(self, state_dir: Path) -> None:
        self.dir = state_dir / "mcp" / "sessions"
        self.id = f"{os.getpid()}-{secrets.token_hex(3)}"
        self._fd: int | None = lock_path(self.dir / f"{self.id}.lock")

    def alive(self, session: str) -> bool:
        if session == self.id:
            return True
        path = self.dir / f"{session}.lock"
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:
            return False
        try:
            if not try_lock(fd, shared=True):
                return True
        finally:
            os.close(fd)
        with contextlib.suppress(OSError):
            path.unlink()
        return False

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                (self.dir / f"{self.id}.lock").unlink()
            os.close(self._fd)
            self._fd = None
