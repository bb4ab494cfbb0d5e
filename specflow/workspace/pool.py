"""A pool of git worktrees, `.specflow/worktrees/<feature>/slot-N`, reused between tasks.

`git worktree add` costs seconds on a large repository; resetting an existing worktree to a new
tip (`checkout -f -B` + `clean`) only rewrites the files that differ, so per-task overhead stays
flat as the repository grows. The user's own checkout is never touched: everything happens in
the slots, and branch refs move with `update-ref`.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

from specflow.workspace.git import Git


def task_branch(feature: str, task_id: str) -> str:
    return f"specflow-task/{feature}/{task_id}"


def integration_branch(feature: str) -> str:
    return f"specflow/{feature}"


@dataclass
class Slot:
    index: int
    path: Path
    git: Git
    branch: str | None = None
    base: str | None = None  # the commit the task's work sits on

    def gitdir(self) -> Path | None:
        marker = self.path / ".git"
        try:
            text = marker.read_text().strip()
        except OSError:
            return None
        if not text.startswith("gitdir:"):
            return None
        p = Path(text.split(":", 1)[1].strip())
        return p if p.is_absolute() else (self.path / p).resolve()


@dataclass
class WorktreePool:
    git: Git  # the main repository (commands here never touch its checkout)
    root: Path  # .specflow/worktrees/<feature>
    feature: str
    size: int
    _free: list[Slot] = field(default_factory=list)
    _made: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _create_lock: threading.Lock = field(default_factory=threading.Lock)

    def acquire(self) -> Slot:
        with self._lock:
            if self._free:
                return self._free.pop(0)
            if self._made >= self.size:
                raise RuntimeError("worktree pool exhausted")
            self._made += 1
            # Reuse low slot numbers first: the same folders across runs.
            index = self._made
        return Slot(index, self.root / f"slot-{index}", self.git.at(self.root / f"slot-{index}"))

    def release(self, slot: Slot) -> None:
        with self._lock:
            self._free.append(slot)
            self._free.sort(key=lambda s: s.index)

    def prepare(self, slot: Slot, task_id: str, tip: str) -> None:
        """Put `slot` on a fresh branch for `task_id` at `tip`, with a clean tree."""
        branch = task_branch(self.feature, task_id)
        gitdir = slot.gitdir()
        if gitdir is None or not gitdir.is_dir():
            self._create(slot, tip)
        else:
            self._recover(slot)
        slot.git.run("checkout", "-q", "-f", "--ignore-other-worktrees", "-B", branch, tip)
        slot.git.run("clean", "-q", "-f", "-d", "-x")
        slot.branch = branch
        slot.base = tip

    def park(self, slot: Slot) -> None:
        """Detach the slot so its task branch can be deleted or reused elsewhere."""
        with contextlib.suppress(Exception):
            slot.git.run("checkout", "-q", "--detach")
        slot.branch = None

    def park_all(self) -> None:
        """Detach every slot (HEAD = its commit), so merged task branches can be deleted
        without leaving a worktree on a branch that no longer exists."""
        for d in sorted(self.root.glob("slot-*")):
            Git(d, self.git.extra_config).run(
                "update-ref", "--no-deref", "HEAD", "HEAD", check=False
            )

    def _create(self, slot: Slot, tip: str) -> None:
        with self._create_lock:
            if slot.path.exists():
                shutil.rmtree(slot.path, ignore_errors=True)
            self.git.run("worktree", "prune")
            slot.path.parent.mkdir(parents=True, exist_ok=True)
            self.git.run("worktree", "add", "-q", "--detach", "-f", str(slot.path), tip)

    def _recover(self, slot: Slot) -> None:
        """Undo what a killed run may have left: a rebase in progress, a stale index lock."""
        gitdir = slot.gitdir()
        if gitdir is None:
            return
        with contextlib.suppress(FileNotFoundError):
            (gitdir / "index.lock").unlink()
        for name in ("rebase-merge", "rebase-apply"):
            if (gitdir / name).exists():
                slot.git.run("rebase", "--abort", check=False)
                shutil.rmtree(gitdir / name, ignore_errors=True)
        for name in ("CHERRY_PICK_HEAD", "MERGE_HEAD"):
            with contextlib.suppress(FileNotFoundError):
                (gitdir / name).unlink()

    def remove_all(self) -> None:
        """Drop every slot of this feature (used by `implement --clean`; not on normal runs)."""
        for d in sorted(self.root.glob("slot-*")):
            self.git.run("worktree", "remove", "--force", str(d), check=False)
        self.git.run("worktree", "prune", check=False)
