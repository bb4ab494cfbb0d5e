"""The engine: runs a task graph with N agents in pooled worktrees, verified, merged in order.

Threads: the caller's thread schedules and collects results; each running task has one worker
thread that drives its agent process, commit, verify and merge. Merging is serialized by the
merge queue's lock. Every state change is an event (fsync'd) before anything depends on it,
and git (the `Specflow-Task:` trailers on the integration branch) is the truth for "merged".
"""

from __future__ import annotations

import contextlib
import queue
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from specflow.agents.base import Agent, AgentTask, Limits
from specflow.agents.brief import BriefInput, build_brief
from specflow.domain.tasks import Task, TaskGraph
from specflow.engine.executor import Executor, LocalExecutor
from specflow.engine.gates import AwaitingApproval, GateFailed
from specflow.engine.scheduler import Scheduler
from specflow.engine.verify import run_checks
from specflow.errors import SpecflowError
from specflow.fsutil import atomic_write_text
from specflow.runs.events import Event, EventLog
from specflow.runs.state import RunPaths, TaskRecord, apply_event
from specflow.workspace.git import TRAILER_FEATURE, TRAILER_RUN, TRAILER_TASK
from specflow.workspace.merge import MergeQueue
from specflow.workspace.pool import Slot, WorktreePool

if TYPE_CHECKING:
    from specflow.engine.budget import Budget
    from specflow.engine.gates import Gatekeeper
    from specflow.engine.policy import ModelRouter

OPTIMISTIC_MERGES = 2  # verify outside the queue lock this often before holding it


class _Cancelled(Exception):
    pass


@dataclass
class EngineSettings:
    parallel: int = 4
    verify_retries: int = 2
    conflict_retries: int = 2
    verify_timeout_s: float = 600.0
    test_command: str | None = None
    limits: Limits = field(default_factory=Limits)
    model: str | None = None
    wait_approval: bool = False  # keep running while only tasks awaiting approval remain


@dataclass
class FeatureContext:
    name: str  # 003-login
    tasks_relpath: str  # specs/003-login/tasks.md, relative to the repository root
    tasks_text: str  # the user's tasks.md, used when the branch has none yet
    spec_text: str | None = None
    plan_text: str | None = None
    mark_done: Callable[[str, set[str]], str] | None = None


@dataclass
class _Outcome:
    task: str
    slot: Slot
    merged: bool
    reason: str | None = None
    awaiting: bool = False  # waits for `specflow approve` (policy gate), slot given back


class Engine:
    def __init__(
        self,
        *,
        graph: TaskGraph,
        selected: list[str],
        done: set[str],
        landed: set[str],
        agent: Agent,
        pool: WorktreePool,
        merge: MergeQueue,
        events: EventLog,
        paths: RunPaths,
        feature: FeatureContext,
        settings: EngineSettings,
        records: dict[str, TaskRecord] | None = None,
        gates: Gatekeeper | None = None,
        budget: Budget | None = None,
        router: ModelRouter | None = None,
        executor: Executor | None = None,
    ) -> None:
        self.graph = graph
        self.agent = agent
        self.pool = pool
        self.merge = merge
        self.events = events
        self.paths = paths
        self.feature = feature
        self.settings = settings
        self.scheduler = Scheduler(graph, selected, done)
        self.landed = set(landed)  # ticked in tasks.md on the branch (guarded by merge.lock)
        self.cancel = threading.Event()
        self.records: dict[str, TaskRecord] = records if records is not None else {}
        self._records_lock = threading.Lock()
        self._results: queue.Queue[_Outcome] = queue.Queue()
        self._threads: dict[str, threading.Thread] = {}
        self.merged_branches: list[str] = []  # deleted at the end of the run
        self.gates = gates  # review and approval before merge (engine/gates.py)
        self.budget = budget  # --max-cost (engine/budget.py)
        self.router = router  # per-task model and escalation (engine/policy.py)
        self.executor: Executor = executor or LocalExecutor()  # where agents run (executor.py)
        events.subscribe(self._fold)

    def _fold(self, ev: Event) -> None:
        with self._records_lock:
            apply_event(self.records, ev)

    # -- the scheduling loop ---------------------------------------------------------------

    def run(self) -> None:
        """Run until nothing more can start. Ctrl-C: cancel agents, wait for them, re-raise."""
        sched = self.scheduler
        try:
            while True:
                if self.gates is not None and sched.awaiting:  # approved since: merge them
                    slots = self.settings.parallel - len(sched.running)
                    for tid in self.gates.approved_ready(sched.awaiting, slots):
                        sched.resume_task(tid)
                        self._start(tid)
                free = self.settings.parallel - len(sched.running)
                room = free if self.budget is None else self.budget.room(free, sched.running)
                for tid in sched.take(room):
                    self._start(tid)
                if sched.is_idle() or (not sched.running and room < free):
                    if self.budget is not None and room < free and sched.queue():
                        self.budget.refuse(sched.queue(), self.events)
                    if not (self.settings.wait_approval and sched.awaiting):
                        break
                try:
                    outcome = self._results.get(timeout=0.5)
                except queue.Empty:
                    continue
                self._finish(outcome)
        except BaseException:
            self.cancel.set()
            for t in list(self._threads.values()):
                t.join(timeout=10)
            raise

    def _start(self, tid: str) -> None:
        slot = self.pool.acquire()
        th = threading.Thread(target=self._work_safe, args=(tid, slot), name=f"task-{tid}")
        th.daemon = True
        self._threads[tid] = th
        th.start()

    def _finish(self, o: _Outcome) -> None:
        self._threads.pop(o.task, None)
        if o.merged:
            self.scheduler.merged_task(o.task)
        elif o.awaiting:
            self.scheduler.await_task(o.task)
        else:
            for b in self.scheduler.failed_task(o.task):
                self.events.emit("task_blocked", task=b, by=o.task, reason=f"blocked by {o.task}")
        self.pool.release(o.slot)

    def _work_safe(self, tid: str, slot: Slot) -> None:
        """Run one task; whatever happens, the scheduling loop hears back exactly once."""
        outcome = _Outcome(tid, slot, False, "crashed")
        try:
            sha = self._work(tid, slot)
            outcome = _Outcome(tid, slot, True)  # merged in git, whatever the log says next
            self.events.emit("task_merged", task=tid, commit=sha)
        except _Cancelled:
            outcome.reason = "cancelled"
        except AwaitingApproval:
            outcome.awaiting, outcome.reason = True, "awaiting approval"
        except Exception as exc:
            known = isinstance(exc, (_TaskFailed, GateFailed))
            reason = exc.args[0] if known else f"{type(exc).__name__}: {exc}"
            outcome.reason = reason
            if not self.cancel.is_set():
                with contextlib.suppress(Exception):
                    self.events.emit(
                        "task_failed", task=tid, reason=reason, cause=_cause(reason, known)
                    )
        finally:
            self._results.put(outcome)

    # -- one task ------------------------------------------------------------------------------

    def _work(self, tid: str, slot: Slot) -> str:
        task = self.graph.tasks[tid]
        s = self.settings
        tip = self.merge.tip()
        self.events.emit("task_started", task=tid, slot=slot.index, base=tip)
        self.pool.prepare(slot, tid, tip)
        feedback: str | None = None
        verify_failures = conflicts = optimistic = 0
        attempt = self.records.get(tid, TaskRecord(tid)).attempts
        prio = self.scheduler.priority(tid)
        has_checks = bool(task.verify or s.test_command)
        while True:
            ran_verified: str | None = None  # the executor already checked this commit
            restored = self.gates is not None and self.gates.restore(task, slot)
            if not restored:  # approved work waited in a ref: no agent, straight to merge
                attempt += 1
                try:
                    attempt, ran_verified = self.executor.run_task(
                        self, task, slot, attempt, feedback
                    )
                except _TaskFailed as exc:
                    if not self._escalate(task, str(exc)):
                        raise
                    feedback = f"Your previous attempt failed: {exc}. Try again."
                    self.pool.prepare(slot, tid, self.merge.tip())
                    continue
            # Review and approval run outside the merge lock, once per attempt.
            gated = restored or self.gates is None or not self.gates.needed(task)
            verified: str | None = ran_verified
            while True:  # rebase, verify, land; loops when the tip moves under us
                self._check_cancel()
                # Without checks there is nothing to overlap: queue for the lock right away.
                hold = (not has_checks or optimistic >= OPTIMISTIC_MERGES) and gated
                if hold:
                    self.merge.lock.acquire(prio)
                try:
                    tip = self.merge.tip()
                    if tip != slot.base:
                        self.events.emit("merge_rebase", task=tid, onto=tip)
                        res = self.merge.rebase(
                            slot.git, slot.base or tip, tip, self._message(task)
                        )
                        if not res.ok:
                            conflicts += 1
                            files = res.conflicts or ["(unknown)"]
                            self.events.emit("merge_conflict", task=tid, files=files)
                            if conflicts > s.conflict_retries:
                                raise _TaskFailed(f"merge conflict in {', '.join(files)}")
                            feedback = _conflict_feedback(files, slot.git.out("show", "HEAD"))
                            self.pool.prepare(slot, tid, tip)
                            break
                        slot.base = tip
                    head = slot.git.head()
                    if verified != head:
                        self.merge.verifying(tid, prio, slot.base or tip)
                        failure = self._verify(task, slot, attempt)
                        if failure is not None:
                            self.merge.done_verifying(tid)
                            verify_failures += 1
                            if verify_failures > s.verify_retries:
                                raise _TaskFailed(f"verify failed: {failure[0]}")
                            feedback = failure[1]
                            self._escalate(task, "verify failed")
                            break
                        verified = head
                        if not hold and gated:
                            self.merge.yield_to_urgent(
                                tid, prio, slot.base or tip, s.verify_timeout_s
                            )
                    if not gated and self.gates is not None:
                        self.merge.done_verifying(tid)
                        rejected = self.gates.check(task, slot, attempt)
                        if rejected is not None:
                            feedback = rejected
                            self._escalate(task, "review requested changes")
                            break
                        gated = True
                        continue  # the tip may have moved while the reviewer read
                    self.events.emit("merge_started", task=tid, onto=slot.base)
                    sha = self.merge.land(
                        slot.git, slot.base or tip, lambda: self._tick(tid, slot), prio
                    )
                finally:
                    self.merge.done_verifying(tid)
                    if hold:
                        self.merge.lock.release()
                if sha is not None:
                    if slot.branch:
                        self.merged_branches.append(slot.branch)
                    return sha
                optimistic += 1
                self.events.emit("merge_retry", task=tid, reason="integration tip moved")

    def _escalate(self, task: Task, why: str) -> bool:
        """After a failed attempt: the next one uses `[models].escalate`, once (an event)."""
        change = self.router.failed(task) if self.router is not None else None
        if change is not None:
            self.events.emit(
                "model_escalated", task=task.id, to=change[1], reason=why, **{"from": change[0]}
            )
        return change is not None

    def _check_cancel(self) -> None:
        if self.cancel.is_set():
            raise _Cancelled()

    def _run_agent(self, task: Task, slot: Slot, attempt: int, feedback: str | None) -> None:
        self._check_cancel()
        brief = build_brief(
            BriefInput(
                task=task,
                feature=self.feature.name,
                worktree=slot.path,
                spec_text=self.feature.spec_text,
                plan_text=self.feature.plan_text,
                feedback=feedback,
                attempt=attempt,
            )
        )
        brief_path = self.paths.brief(task.id)
        atomic_write_text(brief_path, brief)
        if feedback is not None:
            atomic_write_text(self.paths.feedback(task.id, attempt), feedback)
        job = AgentTask(
            run_id=self.paths.run_id,
            feature=self.feature.name,
            task=task,
            worktree=slot.path,
            brief_path=brief_path,
            brief=brief,
            attempt=attempt,
            feedback=feedback,
            model=self.router.model_for(task) if self.router else task.model or self.settings.model,
            limits=self.budget.limits_for(self.settings.limits)
            if self.budget
            else self.settings.limits,
        )

        def emit(kind: str, **data: object) -> None:
            self.events.emit(kind, task=task.id, attempt=attempt, **data)

        from specflow.runs.blobs import store_blob

        emit(
            "agent_started",
            agent=self.agent.name,
            model=job.model,
            base=slot.base,
            brief_ref=store_blob(self.paths.dir / "blobs", {"brief": brief}),
            limits={
                "max_steps": job.limits.max_steps,
                "max_seconds": job.limits.max_seconds,
                "max_cost_usd": job.limits.max_cost_usd,
            },
        )
        started = time.monotonic()
        result = self.agent.run(job, emit, self.cancel)
        emit(
            "agent_finished",
            ok=result.ok,
            reason=result.reason,
            steps=result.steps,
            usage=result.usage.to_dict(),
            seconds=round(time.monotonic() - started, 3),
        )
        self._check_cancel()
        if not result.ok:
            raise _TaskFailed(f"agent failed: {result.reason or 'unknown reason'}")

    def _commit(self, task: Task, slot: Slot, attempt: int) -> None:
        """Squash whatever the agent did (edits, even its own commits) into one task commit on
        top of the slot's base. Plumbing only: `git commit` would re-scan the whole tree."""
        g = slot.git
        base = slot.base or ""
        g.run("add", "-A")
        tree = g.write_tree()
        if tree == g.tree_of(base):
            raise _TaskFailed("agent made no changes")
        commit = g.commit_tree(tree, base, self._message(task))
        g.run("update-ref", "-m", "specflow: task commit", "HEAD", commit)
        self.events.emit("task_committed", task=task.id, attempt=attempt, commit=commit)

    def _message(self, task: Task) -> str:
        return (
            f"{task.title}\n\n{TRAILER_TASK}: {task.id}\n"
            f"{TRAILER_FEATURE}: {self.feature.name}\n{TRAILER_RUN}: {self.paths.run_id}\n"
        )

    def _verify(self, task: Task, slot: Slot, attempt: int) -> tuple[str, str] | None:
        commands = [c for c in (task.verify, self.settings.test_command) if c]
        if not commands:
            return None
        log = self.paths.verify_log(task.id, attempt)
        self.events.emit("verify_started", task=task.id, attempt=attempt, commands=commands)
        res = run_checks(
            commands,
            slot.path,
            timeout=self.settings.verify_timeout_s,
            log_path=log,
            cancel=self.cancel,
            env={
                "SPECFLOW_TASK_ID": task.id,
                "SPECFLOW_WORKTREE": str(slot.path),
                "PYTHONDONTWRITEBYTECODE": "1",
            },
        )
        self._check_cancel()
        if res.ok:
            self.events.emit(
                "verify_passed",
                task=task.id,
                attempt=attempt,
                commands=commands,
                seconds=round(res.seconds, 3),
                log=str(log),
            )
            return None
        reason = res.reason or "failed"
        # The work is committed: whatever untracked files are here now, the checks made them
        # (caches, reports); the agent's next attempt must not commit them.
        slot.git.run("clean", "-q", "-f", "-d", check=False)
        self.events.emit(
            "verify_failed",
            task=task.id,
            attempt=attempt,
            reason=reason,
            command=res.command,
            seconds=round(res.seconds, 3),
            output=res.output[-2000:],
            log=str(log),
        )
        feedback = f"Verification failed: {reason}\n\n{res.output}"
        return reason, feedback

    def _tick(self, tid: str, slot: Slot) -> str | None:
        """Under the merge lock: the task's commit again, with its `[x]` in tasks.md added.

        Ticking at merge time (not in the agent's commit) keeps rebases free of conflicts
        between neighbouring checkboxes. The file goes through the slot's index (one path)
        and write-tree; the worktree's HEAD is not moved (the slot is reset for its next task).
        """
        mark = self.feature.mark_done
        if mark is None:
            return None
        rel = self.feature.tasks_relpath
        path = slot.path / rel
        exists = path.is_file()
        text = path.read_text(encoding="utf-8") if exists else self.feature.tasks_text
        new = _tick_line(text, tid) if exists else None
        if new is None:
            ids = (self.landed | {tid}) & set(self.graph.tasks)
            try:
                new = mark(text, ids)
            except SpecflowError:  # the branch's tasks.md predates the user's: tick the latter
                text = self.feature.tasks_text
                new = mark(text, ids)
        self.landed.add(tid)
        if new == text and exists:
            return None
        atomic_write_text(path, new)
        g = slot.git
        # One index entry by hash: `git add` would load and refresh the whole index.
        blob = g.out("hash-object", "-w", "--stdin", input=new)
        g.run("update-index", "--add", "--cacheinfo", f"100644,{blob},{rel}")
        return g.commit_tree(g.write_tree(), slot.base or "", self._message(self.graph.tasks[tid]))


class _TaskFailed(Exception):
    pass


def _tick_line(text: str, tid: str) -> str | None:
    """Fast path for one box: a big tasks.md takes a full Markdown parse tens of ms, and this
    runs under the merge lock. Only when exactly one line can be the task's (else None, and
    formats.mark_done decides); only the space in `[ ]` changes."""
    pat = re.compile(
        rf"^[ \t>]*(?:[-*+]|\d+[.)])[ \t]+\[( |x|X)\][ \t]+\**{re.escape(tid)}\b", re.M
    )
    hits = list(pat.finditer(text))
    if len(hits) != 1:
        return None
    m = hits[0]
    if m.group(1) != " ":
        return text
    return text[: m.start(1)] + "x" + text[m.end(1) :]


def _conflict_feedback(files: list[str], previous: str) -> str:
    shown = previous if len(previous) < 6000 else previous[:6000] + "\n… (diff truncated)"
    return (
        "Your change conflicted with work merged meanwhile in: "
        + ", ".join(files)
        + ".\nThe worktree now holds the current code. Redo the task on top of it.\n\n"
        + "Your previous change was:\n\n"
        + shown
    )


def _cause(reason: str, known: bool) -> str:
    """A machine-readable kind for `task_failed`, for tools that group failures."""
    if not known:
        return "internal"
    for prefix, kind in (
        ("verify failed", "verify"),
        ("merge conflict", "merge_conflict"),
        ("review", "review"),
        ("budget", "budget"),
        ("agent made no changes", "no_changes"),
    ):
        if reason.startswith(prefix):
            return kind
    return "agent"
