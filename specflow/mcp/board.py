"""Each task's state as an MCP client sees it, and the one-line errors for out-of-order calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from specflow.config import Config
from specflow.domain.tasks import Task
from specflow.errors import InputError
from specflow.mcp.state import Board, Claim, SessionToken
from specflow.stages.implement import Loaded

# merged | claimed | failed | blocked | waiting (dependencies not merged) |
# file_wait (shares a file with a claimed task) | ready
STATES = ("merged", "claimed", "failed", "blocked", "waiting", "file_wait", "ready")


@dataclass
class TaskView:
    id: str
    title: str
    state: str
    depends: list[str]
    files: list[str]
    owner: str | None = None  # "this session" | "another session (pid N)" | "a stopped session"
    worktree: Path | None = None
    reason: str | None = None  # why it failed
    waits_for: list[str] = field(default_factory=list)
    blocked_by: str | None = None
    file_conflict: tuple[str, str] | None = None  # (file, claimed task)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "state": self.state,
            "depends": self.depends,
            "files": self.files,
        }
        extra = {
            "claimed_by": self.owner,
            "worktree": str(self.worktree) if self.worktree else None,
            "reason": self.reason,
            "waits_for": self.waits_for or None,
            "blocked_by": self.blocked_by,
            "file_conflict": list(self.file_conflict) if self.file_conflict else None,
        }
        d.update({k: v for k, v in extra.items() if v is not None})
        return d

    def require_claimable(self) -> None:
        tid = self.id
        if self.state == "merged":
            raise InputError(f"{tid} is already merged", "next_task shows what is left")
        if self.state == "claimed" and self.owner == "this session":
            raise InputError(
                f"{tid} is already claimed by this session (worktree {self.worktree})",
                "edit files there and call complete_task, or fail_task to release it",
            )
        if self.state == "claimed":
            raise InputError(
                f"{tid} is already claimed by {self.owner}", "pick another task with next_task"
            )
        if self.state == "blocked":
            raise InputError(
                f"{tid} is blocked: {self.blocked_by} failed",
                f"claim {self.blocked_by} again to retry it",
            )
        if self.state == "waiting":
            raise InputError(
                f"{tid} depends on {', '.join(self.waits_for)}, not merged yet",
                "claim a ready task first; next_task names it",
            )
        if self.state == "file_wait" and self.file_conflict:
            f, other = self.file_conflict
            raise InputError(
                f"{tid} names {f}, which claimed task {other} also names",
                f"complete {other} first, or claim another task",
            )

    def require_claimed(self, tool: str) -> None:
        if self.state == "merged":
            raise InputError(f"{self.id} is already merged", "next_task shows what is left")
        if self.state != "claimed":
            raise InputError(
                f"{self.id} is not claimed, it is {self.state.replace('_', ' ')}",
                f"call claim_task first; {tool} works on a task you claimed",
            )


def _norm(path: str) -> str:
    p = path.strip().strip("`").replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    return p.rstrip("/")


def _owner(claim: Claim, token: SessionToken) -> str:
    if claim.session == token.id:
        return "this session"
    if token.alive(claim.session):
        return f"another MCP session (pid {claim.pid})"
    return "a stopped session (claim it again to adopt its worktree)"


def view_tasks(ld: Loaded, board: Board, token: SessionToken) -> dict[str, TaskView]:
    graph, landed = ld.graph, ld.landed
    claims = {t: c for t, c in board.claims.items() if t in graph.tasks and t not in landed}
    failed = {t: r for t, r in board.failed.items() if t in graph.tasks and t not in landed}
    blocked: dict[str, str] = {}
    for f in graph.order():
        if f in failed:
            for d in graph.descendants(f):
                if d not in landed and d not in claims:
                    blocked.setdefault(d, f)
    busy = {_norm(p): t for t in claims for p in graph.tasks[t].files}
    out: dict[str, TaskView] = {}
    for tid in graph.order():
        task = graph.tasks[tid]
        v = TaskView(tid, task.title, "ready", list(graph.deps[tid]), list(task.files))
        waits = [d for d in graph.deps[tid] if d not in landed]
        conflict = next(((p, busy[_norm(p)]) for p in task.files if _norm(p) in busy), None)
        if tid in landed:
            v.state = "merged"
        elif tid in claims:
            v.state, v.owner = "claimed", _owner(claims[tid], token)
            v.worktree = claims[tid].worktree
        elif tid in failed:
            v.state, v.reason = "failed", failed[tid]
        elif tid in blocked:
            v.state, v.blocked_by = "blocked", blocked[tid]
        elif waits:
            v.state, v.waits_for = "waiting", waits
        elif conflict is not None:
            v.state, v.file_conflict = "file_wait", conflict
        out[tid] = v
    return out


def describe_idle(views: dict[str, TaskView]) -> str:
    """Why next_task has nothing to offer, in one line."""
    by: dict[str, list[TaskView]] = {s: [] for s in STATES}
    for v in views.values():
        by[v.state].append(v)
    if len(by["merged"]) == len(views):
        return f"all {len(views)} tasks are merged: the feature is done"
    parts: list[str] = []
    if by["claimed"]:
        parts.append("claimed: " + ", ".join(f"{v.id} by {v.owner}" for v in by["claimed"]))
    if by["file_wait"]:
        parts += [
            f"{v.id} waits for file {v.file_conflict[0]} (claimed {v.file_conflict[1]})"
            for v in by["file_wait"]
            if v.file_conflict
        ]
    if by["waiting"]:
        parts += [f"{v.id} waits for {', '.join(v.waits_for)}" for v in by["waiting"]]
    if by["failed"]:
        parts.append("failed: " + ", ".join(f"{v.id} ({v.reason})" for v in by["failed"]))
        parts.append("claim a failed task again to retry it")
    if by["blocked"]:
        parts.append("blocked: " + ", ".join(f"{v.id} by {v.blocked_by}" for v in by["blocked"]))
    return "no task is ready; " + "; ".join(parts)


def ordered(ld: Loaded) -> list[str]:
    """Tasks not merged yet, the ready ones first in the scheduler's priority order."""
    from specflow.engine.scheduler import Scheduler

    pending = [t for t in ld.graph.order() if t not in ld.landed]
    first = Scheduler(ld.graph, pending, ld.landed).queue()
    return first + [t for t in pending if t not in first]


def task_checks(task: Task, config: Config) -> list[str]:
    """What complete_task runs: the task's `verify:`, then the project's test command."""
    return [c for c in (task.verify, config.project.test_command) if c]


def task_brief(ld: Loaded, task: Task, worktree: Path) -> str:
    from specflow.agents.brief import BriefInput, build_brief

    def text(kind: str) -> str | None:
        p = ld.feature.artifact(kind)
        return p.read_text(encoding="utf-8") if p.is_file() else None

    return build_brief(BriefInput(task, ld.feature.name, worktree, text("spec"), text("plan")))
