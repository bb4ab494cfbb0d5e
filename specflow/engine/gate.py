"""The gate: changes verified as they will merge, several at once, landed in order.

Tasks whose work is committed hand it to the gate as a `Change` (one commit on a commit of the
integration branch) and wait for the verdict. The gate keeps a chain of up to `depth` changes
(Zuul's dependent pipeline): the first is replayed onto the integration tip, the second onto the
first, and so on, each with its `[x]` in tasks.md folded into its commit; each link is verified
in its own task's worktree at the same time. Then, in order:

- the passing prefix of the chain lands with one compare-and-swap `update-ref` (several tasks
  in one step when the queue is busy);
- a link that failed while everything before it passed is the change at fault: it goes back to
  its task with the failure; the links behind it had it underneath, so they go back to the queue
  and are verified again without it;
- a change that conflicts with the tip goes back to its task; one that conflicts only with a
  change ahead of it waits until that one has landed or left.

So every commit the integration branch ever points at passed verify exactly as it is, and a
change whose base did not move is verified once (a change verified on its base by the executor,
or before a review, is not verified again while the tip stays there). The replays and ticks are
plumbing on the main repository (`merge-tree`, `mktree`, `commit-tree`): nothing scales with the
repository's size, and the only step under the merge queue's lock is the `update-ref`.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from specflow.domain.tasks import Task
from specflow.engine.attempt import (
    MAX_PREVIOUS_DIFF,
    Cancelled,
    Conflict,
    Ticker,
    VerifyFailure,
)
from specflow.runs.catalogue import Kind
from specflow.workspace.merge import MergeQueue
from specflow.workspace.pool import Slot
from specflow.workspace.trees import TreeEditor, cherry_pick_tree


@dataclass
class Landed:
    commit: str  # the task's commit on the integration branch


@dataclass
class Rejected:
    """Verify failed on the state the change would have landed on: `replayed` is the change on
    `base` (by then a commit of the integration branch), its tick not included."""

    failure: VerifyFailure
    replayed: str
    base: str


@dataclass
class Conflicted:
    conflict: Conflict


Outcome = Landed | Rejected | Conflicted | None  # None: the run is stopping


@dataclass
class Change:
    task: Task
    slot: Slot
    commit: str  # one commit whose parent is `base`
    base: str  # a commit of the integration branch
    attempt: int
    priority: float = 0.0  # longest remaining path: the more urgent lands first
    verified: bool = False  # `commit` passed verify on `base` already
    seq: int = 0
    deferred: bool = False  # conflicts with a change ahead: waits for an empty chain
    outcome: Outcome = None
    done: threading.Event = field(default_factory=threading.Event)
    checking: threading.Thread | None = None  # the last verify run in its worktree


FILL_STEP = 8  # links added before landing what passed
_PENDING: Any = object()
_PASSED: Any = object()


@dataclass
class _Link:
    change: Change
    parent: str  # the tip, or the link ahead's commit
    replayed: str  # the tree of the change on `parent`, without its tick
    commit: str  # what lands: the change and its tick, one commit on `parent`
    result: Any = _PENDING  # _PASSED, a VerifyFailure, or None (cancelled)
    cancel: threading.Event = field(default_factory=threading.Event)


Verify = Callable[[Change, str, threading.Event], "VerifyFailure | None"]


class Gate:
    def __init__(
        self,
        merge: MergeQueue,
        *,
        depth: int,
        cores: int | None = None,
        message: Callable[[Task], str],
        needs_verify: Callable[[Task], bool],
        verify: Verify,
        emit: Callable[..., object],
        ticker: Ticker | None,
        tasks_relpath: str | None,
    ) -> None:
        self.merge = merge
        self.git = merge.git
        self.max_depth = max(1, depth)
        self.cores = max(1, cores) if cores else None  # None: `depth` is fixed
        self._cpu_share: float | None = None  # CPU a check uses per second of its wall time
        self._message = message
        self._needs_verify = needs_verify
        self._verify = verify
        self._emit = emit  # emit(kind, task=…, **data): the run's event log
        self.ticker = ticker
        self.relpath = tasks_relpath
        self._cond = threading.Condition()
        self._pending: list[Change] = []
        self._chain: list[_Link] = []
        self._seq = itertools.count()
        self._stopped = False
        self._thread: threading.Thread | None = None
        self.trees = TreeEditor(self.git)
        self.landings = 0  # update-refs made (tests and benchmarks read it)

    # -- the tasks' side ------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="gate", daemon=True)
        self._thread.start()

    def submit(self, change: Change) -> Outcome:
        """Queue `change` and wait for its verdict (None when the run stops first)."""
        with self._cond:
            if self._stopped:
                return None
            change.seq = next(self._seq)
            change.done.clear()
            self._pending.append(change)
            self._cond.notify_all()
        change.done.wait()
        return change.outcome

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def observe(self, cpu_seconds: float, wall_seconds: float) -> None:
        """What one check cost: the chain's depth follows from how busy checks keep a core."""
        if wall_seconds <= 0:
            return
        share = min(1.0, cpu_seconds / wall_seconds)
        with self._cond:
            old = self._cpu_share
            self._cpu_share = share if old is None else 0.7 * old + 0.3 * share

    @property
    def depth(self) -> int:
        """How many changes are verified at once: as many as the cores can run side by side
        (a check that mostly waits, on a sleep or a server, takes little of a core), at most
        `max_depth`; the cores themselves until a check has been measured."""
        if self.cores is None:
            return self.max_depth
        if self._cpu_share is None:
            return min(self.max_depth, self.cores)
        return max(1, min(self.max_depth, int(self.cores / max(self._cpu_share, 0.05))))

    # -- the gate's thread ------------------------------------------------------------------

    def _loop(self) -> None:
        try:
            while True:
                with self._cond:
                    self._cond.wait_for(self._has_work, timeout=1.0)
                    if self._stopped:
                        break
                self._fill()
                self._settle()
        finally:
            self._drain()
            self.trees.close()

    def _has_work(self) -> bool:
        if self._stopped or any(link.result is not _PENDING for link in self._chain):
            return True
        room = self._checking() < self.depth
        return room and any(not c.deferred or not self._chain for c in self._pending)

    def _checking(self) -> int:
        """Links still being verified: what uses the cores (passed links wait for nothing but
        the ones ahead, so a busy queue lands many in one step)."""
        return sum(1 for link in self._chain if link.result is _PENDING)

    def _fill(self) -> None:
        """Extend the chain with the most urgent waiting changes, each verified at once (a
        few at a time, so what passed lands without waiting for the whole queue)."""
        for _ in range(max(self.depth, FILL_STEP)):
            if self._checking() >= self.depth:
                return
            with self._cond:
                ready = [c for c in self._pending if not c.deferred or not self._chain]
                if not ready:
                    return
                change = min(ready, key=lambda c: (-c.priority, c.seq))
                self._pending.remove(change)
            try:
                link = self._replay(change)
            except Exception as exc:  # git could not replay it: the task hears a failed check
                failure = VerifyFailure(f"could not replay: {exc}", str(exc), Path(os.devnull))
                self._resolve(change, Rejected(failure, change.commit, change.base))
                continue
            if link is not None:
                self._chain.append(link)
                self._check(link)

    def _replay(self, change: Change) -> _Link | None:
        tid = change.task.id
        parent = self._chain[-1].commit if self._chain else self.merge.tip()
        if parent == change.base:
            replayed = self.trees.tree_of(change.commit)
        else:
            self._emit(Kind.MERGE_REBASE, task=tid, onto=parent)
            merged = self._merge(change, parent)
            if merged is None or merged[0] is None:
                files = (merged[1] if merged else []) or ["(unknown)"]
                if self._chain:  # perhaps only with a change ahead: try again on the tip
                    with self._cond:
                        change.deferred = True
                        self._pending.append(change)
                    return None
                self._emit(Kind.MERGE_CONFLICT, task=tid, files=files, onto=parent)
                previous = self.git.out("show", change.commit)
                if len(previous) > MAX_PREVIOUS_DIFF:
                    previous = previous[:MAX_PREVIOUS_DIFF] + "\n… (diff truncated)"
                self._resolve(change, Conflicted(Conflict(files, previous)))
                return None
            replayed = merged[0]
        change.deferred = False
        ahead = {link.change.task.id for link in self._chain}
        tree = self._tick(change.task, replayed, ahead)
        if tree == replayed and parent == change.base:
            commit = change.commit
        else:
            commit = self.trees.commit(tree, parent, self._message(change.task))
        link = _Link(change, parent, replayed, commit)
        unchanged = change.verified and parent == change.base
        if unchanged or not self._needs_verify(change.task):
            link.result = _PASSED
        return link

    def _merge(self, change: Change, parent: str) -> tuple[str | None, list[str]] | None:
        """The change's tree replayed onto `parent`: by trees alone when no file changed on
        both sides, else by `git merge-tree` (content merges, conflicts)."""
        t = self.trees
        tree = t.merge(t.tree_of(change.base), t.tree_of(parent), t.tree_of(change.commit))
        if tree is not None:
            return tree, []
        return cherry_pick_tree(self.git, parent, change.commit)

    def _tick(self, task: Task, tree: str, ahead: set[str]) -> str:
        """`tree` with the task's `[x]` in tasks.md (no index, no worktree)."""
        if self.ticker is None or self.relpath is None:
            return tree
        new = self.ticker.ticked(self.trees.read_text(tree, self.relpath), task.id, ahead)
        return tree if new is None else self.trees.tree_with_file(tree, self.relpath, new)

    def _check(self, link: _Link) -> None:
        """Verify `link.commit` in its task's worktree, in a thread of its own."""
        if link.result is not _PENDING:
            return
        previous = link.change.checking

        def run() -> None:
            if previous is not None:  # an invalidated check of this change: let it stop
                previous.join()
            result: Any
            try:
                failure = self._verify(link.change, link.commit, link.cancel)
                result = _PASSED if failure is None else failure
            except Cancelled:
                result = None
            except Exception as exc:  # the check could not run: that is a failure too
                result = VerifyFailure(f"{type(exc).__name__}: {exc}", str(exc), Path(os.devnull))
            with self._cond:
                link.result = result
                self._cond.notify_all()

        th = threading.Thread(target=run, name=f"verify-{link.change.task.id}", daemon=True)
        link.change.checking = th
        th.start()

    def _settle(self) -> None:
        """Land the passing prefix; send a failed head back; requeue what stood behind it."""
        with self._cond:
            results = [link.result for link in self._chain]
        k = 0
        while k < len(results) and results[k] is _PASSED:
            k += 1
        if k:
            self._land(self._chain[:k])
            return
        if self._chain and results[0] is not _PENDING:
            head = self._chain.pop(0)
            if isinstance(results[0], VerifyFailure):
                change = head.change
                replayed = (
                    change.commit
                    if head.parent == change.base
                    else self.trees.commit(head.replayed, head.parent, self._message(change.task))
                )
                self._resolve(change, Rejected(results[0], replayed, head.parent))
                self._requeue("a change ahead of it failed verify")
            else:  # cancelled: the run is stopping
                self._resolve(head.change, None)

    def _land(self, links: list[_Link]) -> None:
        for link in links:
            self._emit(Kind.MERGE_STARTED, task=link.change.task.id, onto=link.parent)
        if not self.merge.advance(links[0].parent, links[-1].commit):
            self._requeue("integration tip moved")
            return
        self.landings += 1
        del self._chain[: len(links)]
        for link in links:
            if self.ticker is not None:
                self.ticker.landed.add(link.change.task.id)
            self._resolve(link.change, Landed(link.commit))

    def _requeue(self, reason: str) -> None:
        """Every link of the chain goes back to the queue, its check stopped."""
        chain, self._chain = self._chain, []
        for link in chain:
            link.cancel.set()
            self._emit(Kind.MERGE_RETRY, task=link.change.task.id, reason=reason)
        with self._cond:
            self._pending.extend(link.change for link in chain)

    def _resolve(self, change: Change, outcome: Outcome) -> None:
        change.outcome = outcome
        change.done.set()

    def _drain(self) -> None:
        """The run stops: checks stopped, every waiting task told."""
        with self._cond:
            self._stopped = True
            waiting = [link.change for link in self._chain] + self._pending
            for link in self._chain:
                link.cancel.set()
            self._chain, self._pending = [], []
        for change in waiting:
            with contextlib.suppress(Exception):
                self._resolve(change, None)
