"""The merge queue: the integration branch moves only by fast-forward, under one lock.

`advance(old, new)` is what the implement engine's gate (engine/gate.py) does under the lock:
one compare-and-swap `update-ref` that lands one or several verified task commits. `rebase` and
`land` serve a single task landing from its own worktree (an MCP client's claim): rebase onto
the tip, verify (the caller), then under the lock check the tip has not moved, add the task's
tick to the same commit and `update-ref` with the old value. The user's checkout is never
involved.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from specflow.workspace.git import Git, GitError


class PriorityLock:
    """A reentrant lock handed to the waiting thread with the highest priority (then FIFO):
    when several tasks wait to merge, the one on the longest remaining path lands first."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._owner: int | None = None
        self._depth = 0
        self._waiting: list[tuple[float, int, int]] = []
        self._seq = itertools.count()

    def acquire(self, priority: float = 0.0) -> None:
        me = threading.get_ident()
        with self._cond:
            if self._owner == me:
                self._depth += 1
                return
            entry = (-priority, next(self._seq), me)
            heapq.heappush(self._waiting, entry)
            while self._owner is not None or self._waiting[0] != entry:
                self._cond.wait()
            heapq.heappop(self._waiting)
            self._owner, self._depth = me, 1

    def release(self) -> None:
        with self._cond:
            if self._owner != threading.get_ident():
                raise RuntimeError("release of a lock not held")
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._cond.notify_all()

    def __enter__(self) -> PriorityLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


@dataclass
class RebaseResult:
    ok: bool
    conflicts: list[str] = field(default_factory=list)
    message: str = ""


@dataclass
class MergeQueue:
    git: Git  # the main repository
    ref: str  # refs/heads/specflow/<feature>
    lock: PriorityLock = field(default_factory=PriorityLock)

    def tip(self) -> str:
        sha = self.git.read_ref(self.ref) or self.git.rev_parse(self.ref)
        if sha is None:
            raise GitError(["rev-parse", self.ref], 1, f"integration branch {self.ref} is gone")
        return sha

    def rebase(self, wt: Git, base: str, onto: str, message: str | None = None) -> RebaseResult:
        """Move the task's commit (one, on top of `base`) onto `onto`; on conflict, report.

        A merge-tree + commit-tree costs the same on any repository size; the worktree then
        follows with `reset --hard` to the new commit (the task's work is in it).
        """
        if base == onto:
            return RebaseResult(ok=True)
        head = wt.head()
        merged = wt.merge_tree(onto, head)
        if merged is not None:
            tree, conflicts = merged
            if tree is None:
                return RebaseResult(ok=False, conflicts=conflicts, message="conflict")
            if message is None:
                message = wt.out("log", "-1", "--format=%B", head) + "\n"
            new = wt.commit_tree(tree, onto, message)
            wt.run("reset", "-q", "--hard", new)  # rewrites only the files that differ
            return RebaseResult(ok=True)
        return self._rebase_in_worktree(wt, base, onto)

    def _rebase_in_worktree(self, wt: Git, base: str, onto: str) -> RebaseResult:
        proc = wt.run("rebase", "-q", "--onto", onto, base, check=False)
        if proc.returncode == 0:
            return RebaseResult(ok=True)
        conflicts = wt.conflicted_files()
        wt.run("rebase", "--abort", check=False)
        first = next((ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()), "")
        return RebaseResult(ok=False, conflicts=conflicts, message=first)

    def advance(self, old: str, new: str) -> bool:
        """Move the integration branch from `old` to `new` (which descends from it) if it is
        still at `old`: the one step of a landing under the lock. False when it moved."""
        with self.lock:
            if self.tip() != old:
                return False
            try:
                self.git.update_ref(self.ref, new, old, message="specflow: merge tasks")
            except GitError:
                return False
            return True

    def land(
        self,
        wt: Git,
        expected_tip: str,
        finalize: Callable[[], str | None],
        priority: float = 0.0,
    ) -> str | None:
        """Fast-forward the integration branch to the task's commit if the tip is still
        `expected_tip`; returns the new tip, or None when the tip moved (rebase and retry).

        `finalize` may return a replacement commit (the task's commit plus its tick); the
        commit descends from `expected_tip` by construction (rebased onto it), and
        update-ref's old-value check makes the move a compare-and-swap."""
        self.lock.acquire(priority)
        try:
            if self.tip() != expected_tip:
                return None
            new = finalize() or wt.head()
            self.git.update_ref(self.ref, new, expected_tip, message="specflow: merge task")
            return new
        finally:
            self.lock.release()
