"""complete_task's work: commit the client's edits, verify, rebase and land through the merge
queue — the steps of an attempt (engine/attempt.py: squash commit by plumbing, checks, rebase,
the `[x]` folded into the task commit), driven by one tool call instead of an agent loop."""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from specflow.domain.tasks import Task
from specflow.engine.attempt import (
    Emit,
    Ticker,
    commit_staged,
    rebase_onto,
    stage,
    task_message,
    verify_work,
)
from specflow.errors import InputError
from specflow.formats.tasks_md import mark_done
from specflow.mcp.state import Claim
from specflow.redact import redact, redact_tree
from specflow.runs.catalogue import Kind
from specflow.runs.events import EventLog
from specflow.runs.state import RunPaths
from specflow.workspace.git import Git, GitError
from specflow.workspace.merge import MergeQueue
from specflow.workspace.pool import Slot, WorktreePool

MAX_ROUNDS = 4  # rebase + re-verify when another session lands first; then give up for now


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
        return task_message(self.task, self.feature, self.run_id, self.summary)

    def emit(self, kind: str, **data: Any) -> None:
        self.events.emit(kind, task=self.task.id, **data)

    def run(self, attempt: int) -> Outcome:
        tree = stage(self.wt, self.claim.base)
        if tree is None:
            raise InputError(
                f"no changes in {self.claim.worktree} for {self.task.id}",
                "edit the files in that worktree, then call complete_task again",
            )

        def emit(kind: str, **data: Any) -> None:
            self.emit(kind, attempt=attempt, **data)

        # The client's work since the claim (or its last failure) is this attempt's "agent".
        emit(Kind.AGENT_STARTED, agent="mcp")
        seconds = round(time.time() - self.claim.since, 3) if self.claim.since else 0.0
        emit(
            Kind.AGENT_FINISHED,
            ok=True,
            reason=None,
            steps=0,
            usage={},
            seconds=seconds,
            summary=self.summary.strip() or None,
        )
        # One commit on the claim's base, as the engine squashes an agent's work.
        commit_staged(self.wt, tree, self.claim.base, self.message(), emit)
        with self.merge.lock:  # one landing at a time in this process; update-ref CAS across
            for _ in range(MAX_ROUNDS):
                tip = self.merge.tip()
                if tip != self.claim.base:
                    conflict = self._rebase(tip)
                    if conflict is not None:
                        return conflict
                failure = self._verify(attempt, emit)
                if failure is not None:
                    return failure
                emit(Kind.MERGE_STARTED, onto=self.claim.base)
                try:
                    sha = self.merge.land(self.wt, self.claim.base, self._tick)
                except GitError:  # another server moved the tip between check and swap
                    sha = None
                if sha is not None:
                    self.emit(Kind.TASK_MERGED, commit=sha)
                    self._park(sha)
                    return Outcome("merged", commit=sha)
                emit(Kind.MERGE_RETRY, reason="integration tip moved")
        return Outcome("retry", reason="the integration branch kept moving while verifying")

    def _rebase(self, tip: str) -> Outcome | None:
        conflict = rebase_onto(self.merge, self.wt, self.claim.base, tip, self.message(), self.emit)
        if conflict is None:
            self.claim.base = tip
            return None
        slot = Slot(self.claim.index, self.claim.worktree, self.wt)
        self.pool.prepare(slot, self.task.id, tip)
        self.claim.base = tip
        return Outcome(
            "conflict", reason="merge conflict", files=conflict.files, output=conflict.previous
        )

    def _verify(self, attempt: int, emit: Emit) -> Outcome | None:
        log = self.paths.verify_log(self.task.id, attempt)
        failure = verify_work(
            self.checks,
            self.wt,
            self.claim.worktree,
            task_id=self.task.id,
            timeout=self.timeout,
            log=log,
            cancel=threading.Event(),
            emit=emit,
        )
        if failure is None:
            return None
        # The output goes to the client's model: no secrets in it, nor in the log on disk.
        with contextlib.suppress(OSError):
            redact_tree(log.parent)
        return Outcome(
            "verify_failed", reason=failure.reason, output=redact(failure.output), log=str(log)
        )

    def _tick(self) -> str | None:
        """Under the queue lock: the task's commit again, with its box ticked in tasks.md."""
        ticker = Ticker(self.tasks_relpath, self.user_tasks_text, mark_done, set(self.landed))
        return ticker.commit(
            self.wt, self.claim.worktree, self.task.id, self.claim.base, self.message()
        )

    def _park(self, sha: str) -> None:
        """Detach the worktree at the merged commit and drop the task branch; the folder stays
        for the next claim to reuse."""
        g = self.wt
        g.run("update-ref", "--no-deref", "HEAD", sha, check=False)
        g.run("reset", "-q", "--hard", check=False)
        g.run("update-ref", "-d", f"refs/heads/{self.claim.branch}", check=False)


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
