"""The merge queue: one task at a time lands on the integration branch by fast-forward.

A task's branch holds exactly one commit on top of its base. Landing is:
rebase onto the current integration tip (in the task's worktree) -> verify (the caller) ->
under the queue lock, check the tip has not moved, add the task's tick in tasks.md to the same
commit (so rebases never fight over adjacent checkboxes), then `update-ref` with the old value
as a compare-and-swap. The user's checkout is never involved.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from specflow.workspace.git import Git, GitError


@dataclass
class RebaseResult:
    ok: bool
    conflicts: list[str] = field(default_factory=list)
    message: str = ""


@dataclass
class MergeQueue:
    git: Git  # the main repository
    ref: str  # refs/heads/specflow/<feature>
    lock: threading.RLock = field(default_factory=threading.RLock)

    def tip(self) -> str:
        sha = self.git.rev_parse(self.ref)
        if sha is None:
            raise GitError(["rev-parse", self.ref], 1, f"integration branch {self.ref} is gone")
        return sha

    def rebase(self, wt: Git, base: str, onto: str) -> RebaseResult:
        """Move the commit(s) on top of `base` onto `onto`; on conflict, abort and report."""
        if base == onto:
            return RebaseResult(ok=True)
        proc = wt.run("rebase", "-q", "--onto", onto, base, check=False)
        if proc.returncode == 0:
            return RebaseResult(ok=True)
        conflicts = wt.conflicted_files()
        wt.run("rebase", "--abort", check=False)
        first = next((ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()), "")
        return RebaseResult(ok=False, conflicts=conflicts, message=first)

    def land(self, wt: Git, expected_tip: str, finalize: Callable[[], None]) -> str | None:
        """Fast-forward the integration branch to the worktree's HEAD if the tip is still
        `expected_tip`; returns the new tip, or None when the tip moved (rebase and retry)."""
        with self.lock:
            if self.tip() != expected_tip:
                return None
            finalize()
            new = wt.head()
            if not self.git.is_ancestor(expected_tip, new):
                raise GitError(
                    ["merge"], 1, f"{new[:12]} does not descend from {expected_tip[:12]}"
                )
            self.git.update_ref(self.ref, new, expected_tip, message="specflow: merge task")
            return new
