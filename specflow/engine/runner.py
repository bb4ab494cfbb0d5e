"""The engine: runs a task graph with N agents in pooled worktrees, verified, merged in order.

Threads: the caller's thread schedules and collects results; each running task has one worker
thread that drives its agent process, commit, verify and merge. Merging is serialized by the
merge queue's lock. Every state change is an event (fsync'd) before anything depends on it,
and git (the `Specflow-Task:` trailers on the integration branch) is the truth for "merged".
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from specflow.agents.base import Agent, Limits
from specflow.domain.tasks import Task, TaskGraph
from specflow.engine.attempt import (
    AttemptFailed,
    AttemptJob,
    Cancelled,
    Emit,
    Ticker,
    VerifyFailure,
    commands_for,
    task_message,
    verify_work,
)
from specflow.engine.executor import Executor, LocalExecutor
from specflow.engine.gate import Change, Conflicted, Gate, Landed, Rejected
from specflow.engine.gates import AwaitingApproval, GateFailed
from specflow.engine.reproduce import Reproduce, reproduce_work, verify_task
from specflow.engine.scheduler import Scheduler
from specflow.engine.seats import Seats
from specflow.runs.catalogue import RESUMED, Kind
from specflow.runs.events import Event, EventLog
from specflow.runs.state import RunPaths, TaskRecord, apply_event
from specflow.workspace.git import TRAILER_TASK
from specflow.workspace.merge import MergeQueue
from specflow.workspace.pool import Slot, SlotTampered, WorktreePool

if TYPE_CHECKING:
    from specflow.engine.budget import Budget
    from specflow.engine.gates import Gatekeeper
    from specflow.engine.routing import ModelRouter
    from specflow.engine.trust import TrustControls
    from specflow.sandbox import Confinement


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
    confinement: Confinement | None = None  # where checks run (None: the default sandbox)
    gate_depth: int | None = None  # changes verified at once in the gate (None: by the cores)


@dataclass
class FeatureContext:
    name: str  # 003-login
    tasks_relpath: str  # specs/003-login/tasks.md, relative to the repository root
    tasks_text: str  # the user's tasks.md, used when the branch has none yet
    spec_text: str | None = None
    plan_text: str | None = None
    mark_done: Callable[[str, set[str]], str] | None = None
    # bugfix fix tasks: their test must fail on the base and pass with the fix (reproduce.py)
    reproduce: dict[str, Reproduce] = field(default_factory=dict)


@dataclass
class _Outcome:
    task: str
    slot: Slot | None
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
        controls: TrustControls | None = None,
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
        mark = feature.mark_done  # ticks tasks.md at merge time (None: no ticking)
        self.ticker = (
            Ticker(feature.tasks_relpath, feature.tasks_text, mark, set(landed) & set(graph.tasks))
            if mark is not None
            else None
        )
        self.cancel = threading.Event()
        self.records: dict[str, TaskRecord] = records if records is not None else {}
        self._records_lock = threading.Lock()
        self._results: queue.Queue[_Outcome | None] = queue.Queue()  # None: a seat is free
        self.seats = Seats(settings.parallel, lambda: self._results.put(None))
        self._threads: dict[str, threading.Thread] = {}
        self.merged_branches: list[str] = []  # deleted at the end of the run
        # review and approval before merge, --max-cost, per-task model and escalation
        self.gates: Gatekeeper | None = controls.gates if controls else None
        self.budget: Budget | None = controls.budget if controls else None
        self.router: ModelRouter | None = controls.router if controls else None
        self.executor: Executor = executor or LocalExecutor(agent)  # where agents run
        self.gate = Gate(
            merge,
            depth=settings.gate_depth or settings.parallel,
            cores=None if settings.gate_depth else os.cpu_count(),
            message=self._message,
            needs_verify=lambda task: bool(commands_for(task, settings.test_command)),
            verify=self._verify_in_gate,
            emit=events.emit,
            ticker=self.ticker,
            tasks_relpath=feature.tasks_relpath if self.ticker is not None else None,
        )
        events.subscribe(self._fold)

    def _fold(self, ev: Event) -> None:
        with self._records_lock:
            apply_event(self.records, ev)

    # -- the scheduling loop ---------------------------------------------------------------

    def run(self) -> None:
        """Run until nothing more can start. Ctrl-C: cancel agents, wait for them, re-raise."""
        sched = self.scheduler
        # Worktrees for the agents that can run at once, made ahead of the tasks that need them.
        wanted = min(self.settings.parallel, len(sched.queue()) + len(sched.awaiting))
        if wanted:
            self.pool.warm(wanted, self.merge.tip())
        self.gate.start()
        try:
            while True:
                free, room = self._dispatch()
                if sched.is_idle() or (not sched.running and room < free):
                    if self.budget is not None and room < free and sched.queue():
                        self.budget.refuse(sched.queue(), self.events)
                    if not (self.settings.wait_approval and sched.awaiting):
                        break
                try:
                    outcome = self._results.get(timeout=0.5)
                except queue.Empty:
                    continue
                if outcome is not None:
                    self._finish(outcome)
        except BaseException:
            self.cancel.set()
            self.gate.stop()
            for t in list(self._threads.values()):
                t.join(timeout=10)
            raise
        finally:
            self.gate.stop()

    def _dispatch(self) -> tuple[int, int]:
        """Start what can start: tasks approved since (merged now), then ready tasks, one per
        free agent seat with a worktree for it. (free seats, room the budget left)."""
        sched = self.scheduler
        with self.seats.dispatching() as free:
            free = min(free, self.pool.spare())
            if self.gates is not None and sched.awaiting:
                for tid in self.gates.approved_ready(sched.awaiting, free):
                    sched.resume_task(tid)
                    self._start(tid)
                    free -= 1
            room = free if self.budget is None else self.budget.room(free, sched.running)
            for tid in sched.take(room):
                self._start(tid)
        return free, room

    def _start(self, tid: str) -> None:
        self.seats.hold(tid)
        self.pool.reserve()
        th = threading.Thread(target=self._work_safe, args=(tid,), name=f"task-{tid}")
        th.daemon = True
        self._threads[tid] = th
        th.start()

    def _finish(self, o: _Outcome) -> None:
        self._threads.pop(o.task, None)
        self.seats.leave(o.task)
        if o.merged:
            self.scheduler.merged_task(o.task)
        elif o.awaiting:
            self.scheduler.await_task(o.task)
        else:
            for b in self.scheduler.failed_task(o.task):
                self.events.emit(
                    Kind.TASK_BLOCKED, task=b, by=o.task, reason=f"blocked by {o.task}"
                )
        if o.slot is not None:
            self.pool.release(o.slot)

    def _work_safe(self, tid: str) -> None:
        """Run one task; whatever happens, the scheduling loop hears back exactly once. The
        slot is taken here, not by the scheduling loop: waiting for a worktree still being
        made holds up this task only."""
        outcome = _Outcome(tid, None, False, "crashed")
        try:
            slot = outcome.slot = self.pool.acquire()
            sha = self._work(tid, slot)
            outcome = _Outcome(tid, slot, True)  # merged in git, whatever the log says next
            self.events.emit(Kind.TASK_MERGED, task=tid, commit=sha)
        except Cancelled:
            outcome.reason = "cancelled"
        except AwaitingApproval:
            outcome.awaiting, outcome.reason = True, "awaiting approval"
        except Exception as exc:
            known = isinstance(exc, (AttemptFailed, GateFailed, SlotTampered))
            reason = str(exc) if known else f"{type(exc).__name__}: {exc}"
            outcome.reason = reason
            if not self.cancel.is_set():
                with contextlib.suppress(Exception):
                    self.events.emit(
                        Kind.TASK_FAILED, task=tid, reason=reason, cause=_cause(reason, known)
                    )
        finally:
            self._results.put(outcome)

    # -- one task ------------------------------------------------------------------------------

    def _work(self, tid: str, slot: Slot) -> str:
        task = self.graph.tasks[tid]
        tip = self.merge.tip()
        self.events.emit(Kind.TASK_STARTED, task=tid, slot=slot.index, base=tip)
        self.pool.prepare(slot, tid, tip)
        st = _TaskRun(task, slot, self.records.get(tid, TaskRecord(tid)).attempts)
        while True:
            done, verified = self._attempt(st)
            if not done:
                continue
            if commands_for(task, self.settings.test_command):
                # Checks in the gate take a while and need the worktree, not an agent seat:
                # the next agent starts meanwhile (in another slot). Without checks landing
                # takes milliseconds, not worth another worktree.
                self.seats.leave(tid)
            sha = self._land(st, verified)
            if sha is not None:
                return sha
            if not self.seats.holds(tid):
                self.seats.wait(tid, self.cancel)  # sent back: the agent goes again

    def _attempt(self, st: _TaskRun) -> tuple[bool, str | None]:
        """Run the agent (or restore approved work). (False, None) after a failure that allows
        another go; else (True, the commit if the executor already verified it)."""
        st.gated = self.gates is None or not self.gates.needed(st.task)
        if self.gates is not None and self.gates.restore(st.task, st.slot):
            st.gated = True  # approved work waited in a ref: no agent, straight to merge
            return True, None
        if not st.resumed:
            st.resumed = True
            if self._restore_committed(st):
                return True, None
        st.attempt += 1
        try:
            res = self.executor.run_attempt(self._job(st), self._emitter(st.task.id), self.cancel)
        except AttemptFailed as exc:
            if not self._escalate(st.task, str(exc)):
                raise
            st.feedback = f"Your previous attempt failed: {exc}. Try again."
            self.pool.prepare(st.slot, st.task.id, self.merge.tip())
            return False, None
        st.attempt = res.attempt
        # a fix task's reproduction runs here, on the driver, even if the executor verified
        return True, None if st.task.id in self.feature.reproduce else res.verified

    def _restore_committed(self, st: _TaskRun) -> bool:
        """Work an earlier run committed but did not land (it stopped, `kill -9` included,
        while the work waited for or sat in the gate) goes to the gate again instead of
        running the agent again: the gate verifies it as it will land, like any change. Only
        a commit of this task (its trailer) made on the integration branch's history."""
        record = self.records.get(st.task.id)
        commit = record.committed if record is not None else None
        if not commit or not _SHA_RE.fullmatch(commit):  # the log is a file an agent can reach
            return False
        git, tip = st.slot.git, self.merge.tip()
        parent = git.rev_parse(f"{commit}^")
        trailer = git.run(
            "log", "-1", f"--format=%(trailers:key={TRAILER_TASK},valueonly)", commit, check=False
        ).stdout.strip()
        if parent is None or trailer != st.task.id or not git.is_ancestor(parent, tip):
            return False
        git.run("reset", "-q", "--hard", commit)
        st.slot.base = parent
        self.events.emit(Kind.TASK_RESTORED, task=st.task.id, commit=commit, by=RESUMED)
        return True

    def _job(self, st: _TaskRun) -> AttemptJob:
        s, task = self.settings, st.task
        return AttemptJob(
            run_id=self.paths.run_id,
            feature=self.feature.name,
            task=task,
            attempt=st.attempt,
            feedback=st.feedback,
            worktree=st.slot.path,
            git=st.slot.git,
            base=st.slot.base or "",
            message=self._message(task),
            model=self.router.model_for(task) if self.router else task.model or s.model,
            limits=self.budget.limits_for(s.limits) if self.budget else s.limits,
            commands=commands_for(task, s.test_command),
            verify_timeout_s=s.verify_timeout_s,
            verify_retries=max(0, s.verify_retries - st.verify_failures),
            paths=self.paths,
            spec_text=self.feature.spec_text,
            plan_text=self.feature.plan_text,
        )

    def _emitter(self, tid: str, attempt: int | None = None) -> Emit:
        """emit(kind, **data) for the task's events (and one attempt's, given its number)."""
        extra: dict[str, Any] = {} if attempt is None else {"attempt": attempt}

        def emit(kind: str, **data: Any) -> None:
            self.events.emit(kind, task=tid, **extra, **data)

        return emit

    def _land(self, st: _TaskRun, verified: str | None) -> str | None:
        """Review (when the policy asks), then the gate: the merged commit, or None when the
        attempt has to be redone (conflict, failed check, review)."""
        s, task, slot, tid = self.settings, st.task, st.slot, st.task.id
        self._check_cancel()
        head = slot.git.head()
        if not st.gated and self.gates is not None:
            # A reviewer reads work that passed its checks: verify on the task's base first
            # (the gate does not verify it again while the tip stays there).
            if verified != head and commands_for(task, s.test_command):
                failure = self._verify(st)
                if failure is not None:
                    self._rejected(st, failure)
                    return None
            verified = head
            rejected = self.gates.check(task, slot, st.attempt)
            if rejected is not None:
                st.feedback = rejected
                self._escalate(task, "review requested changes")
                return None
            st.gated = True
            head = slot.git.head()
        elif task.id in self.feature.reproduce and verified != head:
            failure = self._reproduce(
                st, self._emitter(st.task.id, st.attempt)
            )  # once: it needs no tip
            if failure is not None:
                self._rejected(st, failure)
                return None
        change = Change(
            task,
            slot,
            head,
            slot.base or "",
            st.attempt,
            priority=self.scheduler.priority(tid),
            verified=verified == head,
        )
        outcome = self.gate.submit(change)
        if isinstance(outcome, Landed):
            if slot.branch:
                self.merged_branches.append(slot.branch)
            return outcome.commit
        if isinstance(outcome, Conflicted):
            st.conflicts += 1
            files = outcome.conflict.files
            if st.conflicts > s.conflict_retries:
                raise AttemptFailed(f"merge conflict in {', '.join(files)}")
            st.feedback = outcome.conflict.feedback
            self.pool.prepare(slot, tid, self.merge.tip())
            return None
        if isinstance(outcome, Rejected):
            # The agent goes on from its change on the state it failed on (tick not included).
            slot.git.run("reset", "-q", "--hard", outcome.replayed)
            slot.base = outcome.base
            self._rejected(st, outcome.failure)
            return None
        raise Cancelled()

    def _rejected(self, st: _TaskRun, failure: VerifyFailure) -> None:
        st.verify_failures += 1
        if st.verify_failures > self.settings.verify_retries:
            raise AttemptFailed(f"verify failed: {failure.reason}")
        st.feedback = failure.feedback
        self._escalate(st.task, "verify failed")

    def _verify_in_gate(self, change: Change, commit: str, cancel: threading.Event) -> Any:
        """The gate's check of `commit` (the change as it would land) in the task's worktree."""
        if self.cancel.is_set():
            raise Cancelled()
        slot = change.slot
        slot.git.run("reset", "-q", "--hard", commit)
        return self._checks(change.task, slot, change.attempt, cancel, usage=self.gate.observe)

    def _escalate(self, task: Task, why: str) -> bool:
        """After a failed attempt: the next one uses `[models].escalate`, once (an event)."""
        change = self.router.failed(task) if self.router is not None else None
        if change is not None:
            self.events.emit(
                Kind.MODEL_ESCALATED, task=task.id, to=change[1], reason=why, **{"from": change[0]}
            )
        return change is not None

    def _check_cancel(self) -> None:
        if self.cancel.is_set():
            raise Cancelled()

    def _message(self, task: Task) -> str:
        return task_message(task, self.feature.name, self.paths.run_id)

    def _checks(
        self,
        task: Task,
        slot: Slot,
        attempt: int,
        cancel: threading.Event,
        usage: Any = None,
    ) -> VerifyFailure | None:
        """The task's checks on what `slot` has checked out, in the run's confinement."""
        tid = task.id
        return verify_work(
            commands_for(task, self.settings.test_command),
            slot.git,
            slot.path,
            task_id=tid,
            timeout=self.settings.verify_timeout_s,
            log=self.paths.verify_log(tid, attempt),
            cancel=cancel,
            emit=self._emitter(tid, attempt),
            confinement=self.settings.confinement,
            usage=usage,
        )

    def _verify(self, st: _TaskRun) -> VerifyFailure | None:
        """The checks on the task's own base, then (a fix task) its reproduction: a task's
        verify, as an MCP client's complete_task runs it too (engine/reproduce.py)."""
        tid = st.task.id
        return verify_task(
            commands_for(st.task, self.settings.test_command),
            st.slot.git,
            st.slot.path,
            task_id=tid,
            base=st.slot.base or "",
            reproduce=self.feature.reproduce.get(tid),
            timeout=self.settings.verify_timeout_s,
            log=self.paths.verify_log(tid, st.attempt),
            cancel=self.cancel,
            emit=self._emitter(st.task.id, st.attempt),
            confinement=self.settings.confinement,
        )

    def _reproduce(self, st: _TaskRun, emit: Emit) -> VerifyFailure | None:
        """A fix task's test fails on its base and passes with the fix (engine/reproduce.py)."""
        return reproduce_work(
            self.feature.reproduce[st.task.id],
            st.slot.git,
            st.slot.base or "",
            st.slot.git.head(),
            timeout=self.settings.verify_timeout_s,
            log=self.paths.verify_log(st.task.id, st.attempt),
            emit=emit,
            confinement=self.settings.confinement,
        )


@dataclass
class _TaskRun:
    """One task's state across its attempts in `_work`."""

    task: Task
    slot: Slot
    attempt: int  # attempts so far (from earlier runs too)
    feedback: str | None = None
    verify_failures: int = 0
    conflicts: int = 0
    gated: bool = False  # review and approval done (or not needed)
    resumed: bool = False  # committed work of an earlier run looked for


_SHA_RE = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def _cause(reason: str, known: bool) -> str:
    """A machine-readable kind for `task_failed`, for tools that group failures."""
    if not known:
        return "internal"
    for prefix, kind in (
        ("verify failed", "verify"),
        ("secret", "secret"),
        ("slot ", "tampered"),
        ("merge conflict", "merge_conflict"),
        ("review", "review"),
        ("budget", "budget"),
        ("agent made no changes", "no_changes"),
    ):
        if reason.startswith(prefix):
            return kind
    return "agent"
