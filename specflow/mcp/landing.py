"""complete_task's work: commit the client's edits, verify, rebase and land through the merge
queue — the engine's steps (squash commit by plumbing, `run_checks`, `MergeQueue.rebase/land`,
the `[x]` folded into the task commit), driven by one tool call instead of an agent loop."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from specflow.domain.tasks import Task
from specflow.engine.verify import run_checks
from specflow.errors import InputError, SpecflowError
from specflow.fsutil import atomic_write_text
from specflow.mcp.state import Claim
from specflow.runs.events import EventLog
from specflow.runs.state import RunPaths
from specflow.workspace.git import TRAILER_FEATURE, TRAILER_RUN, TRAILER_TASK, Git, GitError
from specflow.workspace.merge import MergeQueue
from specflow.workspace.pool import Slot, WorktreePool

MAX_ROUNDS = 4  # rebase + re-verify when another session lands first; then give up for now
MAX_DIFF_CHARS = 6_000


@dataclass
class Outcome:
    status: str  # merged | verify_failed | conflict | retry
    commit: str | None = None
    reason: str | None = None
    output: str = ""
    files: list[str] = field(default_factory=list)
    log: str | None = None


@dataclass
class Landing:
    feature: str
    run_id: str
    task: Task
    claim: Claim
    wt: Git
    merge: MergeQueue
    pool: WorktreePool
    events: EventLog
    paths: RunPaths
    tasks_relpath: str
    user_tasks_text: str
    landed: set[str]
    checks: list[str]
    timeout: float
    summary: str = ""

    def message(self) -> str:
        body = f"{self.summary.strip()}\n\n" if self.summary.strip() else ""
        return (
            f"{self.task.title}\n\n{body}{TRAILER_TASK}: {self.task.id}\n"
            f"{TRAILER_FEATURE}: {self.feature}\n{TRAILER_RUN}: {self.run_id}\n"
        )

    def emit(self, kind: str, **data: Any) -> None:
        self.events.emit(kind, task=self.task.id, **data)

    def stage(self) -> str:
        """The worktree's state as a tree (edits, even the client's own commits)."""
        g = self.wt
        g.run("add", "-A")
        tree = g.write_tree()
        if tree == g.tree_of(self.claim.base):
            raise InputError(
                f"no changes in {self.claim.worktree} for {self.task.id}",
                "edit the files in that worktree, then call complete_task again",
            )
        return tree

    def run(self, attempt: int) -> Outcome:
        tree = self.stage()
        # The client's work since the claim (or its last failure) is this attempt's "agent".
        self.emit("agent_started", attempt=attempt, agent="mcp")
        seconds = round(time.time() - self.claim.since, 3) if self.claim.since else 0.0
        self.emit(
            "agent_finished",
            attempt=attempt,
            ok=True,
            reason=None,
            steps=0,
            usage={},
            seconds=seconds,
            summary=self.summary.strip() or None,
        )
        # One commit on the claim's base, by plumbing, as the engine squashes an agent's work.
        commit = self.wt.commit_tree(tree, self.claim.base, self.message())
        self.wt.run("update-ref", "-m", "specflow: task commit", "HEAD", commit)
        self.emit("task_committed", attempt=attempt, commit=commit)
        with self.merge.lock:  # one landing at a time in this process; update-ref CAS across
            for _ in range(MAX_ROUNDS):
                tip = self.merge.tip()
                if tip != self.claim.base:
                    conflict = self._rebase(tip)
                    if conflict is not None:
                        return conflict
                failure = self._verify(attempt)
                if failure is not None:
                    return failure
                self.emit("merge_started", onto=self.claim.base)
                try:
                    sha = self.merge.land(self.wt, self.claim.base, self._tick)
                except GitError:  # another server moved the tip between check and swap
                    sha = None
                if sha is not None:
                    self.emit("task_merged", commit=sha)
                    self._park(sha)
                    return Outcome("merged", commit=sha)
                self.emit("merge_retry", reason="integration tip moved")
        return Outcome("retry", reason="the integration branch kept moving while verifying")

    def _rebase(self, tip: str) -> Outcome | None:
        self.emit("merge_rebase", onto=tip)
        res = self.merge.rebase(self.wt, self.claim.base, tip, self.message())
        if res.ok:
            self.claim.base = tip
            return None
        files = res.conflicts or ["(unknown)"]
        previous = self.wt.out("show", "HEAD")
        if len(previous) > MAX_DIFF_CHARS:
            previous = previous[:MAX_DIFF_CHARS] + "\n… (diff truncated)"
        self.emit("merge_conflict", files=files, onto=tip)
        slot = Slot(self.claim.index, self.claim.worktree, self.wt)
        self.pool.prepare(slot, self.task.id, tip)
        self.claim.base = tip
        return Outcome("conflict", reason="merge conflict", files=files, output=previous)

    def _verify(self, attempt: int) -> Outcome | None:
        if not self.checks:
            return None
        log = self.paths.verify_log(self.task.id, attempt)
        self.emit("verify_started", attempt=attempt, commands=self.checks)
        res = run_checks(
            self.checks,
            self.claim.worktree,
            timeout=self.timeout,
            log_path=log,
            cancel=threading.Event(),
            env={
                "SPECFLOW_TASK_ID": self.task.id,
                "SPECFLOW_WORKTREE": str(self.claim.worktree),
                "PYTHONDONTWRITEBYTECODE": "1",
            },
        )
        if res.ok:
            self.emit("verify_passed", seconds=round(res.seconds, 3))
            return None
        reason = res.reason or "failed"
        # The work is committed: untracked files here now were made by the checks.
        self.wt.run("clean", "-q", "-f", "-d", check=False)
        # The output goes to the client's model: no secrets in it, nor in the log on disk.
        from specflow.redact import redact, redact_tree

        output = redact(res.output)
        with contextlib.suppress(OSError):
            redact_tree(log.parent)
        self.emit(
            "verify_failed", attempt=attempt, reason=reason, output=output[-2000:], log=str(log)
        )
        return Outcome("verify_failed", reason=reason, output=output, log=str(log))

    def _tick(self) -> str | None:
        """Under the queue lock: the task's commit again, with its box ticked in tasks.md."""
        new = tick_text(
            self.claim.worktree / self.tasks_relpath,
            self.user_tasks_text,
            self.task.id,
            self.landed,
        )
        if new is None:
            return None
        path = self.claim.worktree / self.tasks_relpath
        atomic_write_text(path, new)
        g = self.wt
        blob = g.out("hash-object", "-w", "--stdin", input=new)
        g.run("update-index", "--add", "--cacheinfo", f"100644,{blob},{self.tasks_relpath}")
        return g.commit_tree(g.write_tree(), self.claim.base, self.message())

    def _park(self, sha: str) -> None:
        """Detach the worktree at the merged commit and drop the task branch; the folder stays
        for the next claim to reuse."""
        g = self.wt
        g.run("update-ref", "--no-deref", "HEAD", sha, check=False)
        g.run("reset", "-q", "--hard", check=False)
        g.run("update-ref", "-d", f"refs/heads/{self.claim.branch}", check=False)


def tick_text(path: Path, user_text: str, tid: str, landed: set[str]) -> str | None:
    """tasks.md with the task ticked, or None when nothing changes."""
    mark: Callable[[str, set[str]], str] = _mark_done()
    if path.is_file():
        text = path.read_text(encoding="utf-8")
        try:
            new = mark(text, {tid})
            return None if new == text else new
        except SpecflowError:  # the branch's tasks.md predates the user's
            pass
    return mark(user_text, landed | {tid})


def _mark_done() -> Callable[[str, set[str]], str]:
    from specflow.formats.tasks_md import mark_done

    return mark_done


def retry_hint(status: str, worktree: Path) -> str:
    if status == "conflict":
        return (
            f"work merged meanwhile conflicts with yours; {worktree} now holds the current "
            "integration tip: redo the change there (your previous diff is in 'output') and "
            "call complete_task again"
        )
    if status == "verify_failed":
        return f"fix the files in {worktree} and call complete_task again (the claim is kept)"
    return "call complete_task again"
