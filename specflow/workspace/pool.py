"""A pool of git worktrees, `.specflow/worktrees/<feature>/slot-N`, reused between tasks.

`git worktree add` costs seconds on a large repository; resetting an existing worktree to a new
tip (`checkout -f -B` + `clean`) only rewrites the files that differ, so per-task overhead stays
flat as the repository grows. The user's own checkout is never touched: everything happens in
the slots, and branch refs move with `update-ref`.

A slot's worktree belongs to an agent, `.git` file included. Every git command specflow runs
there names the slot's gitdir under the main repository's `.git/worktrees/` (`Git.for_slot`),
and first checks that the `.git` file is still the one git wrote and that the gitdir points
back at the slot: a slot that fails the check raises `SlotTampered` (the task fails with the
cause `tampered`) and is rebuilt before its next task, without any command run in it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path

from specflow.errors import SpecflowError
from specflow.workspace.git import Git


class SlotTampered(SpecflowError):
    """A slot's `.git` file (or its gitdir's pointer back) is not what the pool made."""

    exit_code = 1


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
    trusted_gitdir: Path | None = None  # set by the pool once the slot checked out intact
    broken: bool = False  # found tampered: rebuilt before its next task

    def gitdir(self) -> Path | None:
        """The slot's gitdir, when the slot is intact (see `tamper_problem`)."""
        if self.trusted_gitdir is not None:
            return self.trusted_gitdir
        return None if self.tamper_problem() else self._claimed_gitdir()

    def _claimed_gitdir(self) -> Path | None:
        try:
            text = (self.path / ".git").read_text(encoding="utf-8").strip()
        except (OSError, UnicodeError):
            return None
        if not text.startswith("gitdir:") or "\n" in text:
            return None
        p = Path(text.split(":", 1)[1].strip())
        return p if p.is_absolute() else Path(os.path.normpath(self.path / p))

    def tamper_problem(self, common_dir: Path | None = None) -> str | None:
        """Why the slot is not the one the pool made (None: it is).

        `.git` must be a regular file naming a gitdir directly under the main repository's
        `worktrees/` (only specflow and git write there, never the agent), whose `gitdir` file
        points back at this slot's `.git` — and, once known, the same gitdir as before."""
        marker = self.path / ".git"
        try:
            st = os.lstat(marker)
        except FileNotFoundError:
            return ".git is missing"
        except OSError as exc:
            return f".git: {exc.strerror}"
        if not stat.S_ISREG(st.st_mode):
            return ".git is not a regular file"
        claimed = self._claimed_gitdir()
        if claimed is None:
            return ".git does not name a gitdir"
        if self.trusted_gitdir is not None and claimed != self.trusted_gitdir:
            return f".git now names {claimed}"
        if common_dir is not None and claimed.parent != common_dir / "worktrees":
            return f".git names {claimed}, not a worktree of this repository"
        try:
            back = (claimed / "gitdir").read_text(encoding="utf-8").strip()
        except (OSError, UnicodeError):
            return f"{claimed} is not a worktree gitdir"
        if os.path.normpath(back) != os.path.normpath(marker):
            return f"{claimed} belongs to {back}"
        return None

    def check_intact(self) -> None:
        problem = self.tamper_problem()
        if problem is not None:
            self.broken = True
            raise SlotTampered(f"slot {self.index} was tampered with: {problem}")


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
    _common_dir: Path | None = None

    def common_dir(self) -> Path:
        """The main repository's git directory (where `worktrees/` lives)."""
        if self._common_dir is None:
            p = Path(self.git.out("rev-parse", "--git-common-dir"))
            self._common_dir = Path(os.path.normpath(p if p.is_absolute() else self.git.cwd / p))
        return self._common_dir

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
        if slot.broken or slot.tamper_problem(self.common_dir()) is not None:
            self._create(slot, tip)
        self._trust(slot)
        self._recover(slot)
        slot.git.run("checkout", "-q", "-f", "--ignore-other-worktrees", "-B", branch, tip)
        # -ff: nested repositories the agent made go too.
        slot.git.run("clean", "-q", "-ff", "-d", "-x")
        slot.branch = branch
        slot.base = tip

    def _trust(self, slot: Slot) -> None:
        """Bind the (intact) slot to its gitdir: from here on nothing reads its `.git` file."""
        gitdir = slot._claimed_gitdir()
        if gitdir is None:  # just made by `worktree add`: cannot happen unless git failed
            raise SlotTampered(f"slot {slot.index}: git did not write its .git file")
        slot.trusted_gitdir = gitdir
        slot.broken = False
        slot.git = self.git.for_slot(slot.path, gitdir, slot.check_intact)

    def worktree_git(self, path: Path, index: int = 0) -> Git:
        """The hardened git of an existing worktree of this pool (an MCP client's, say);
        SlotTampered when its `.git` is not the one git wrote."""
        slot = Slot(index, path, self.git)
        problem = slot.tamper_problem(self.common_dir())
        if problem is not None:
            raise SlotTampered(f"slot {index or path.name} was tampered with: {problem}")
        self._trust(slot)
        return slot.git

    def park(self, slot: Slot) -> None:
        """Detach the slot so its task branch can be deleted or reused elsewhere."""
        with contextlib.suppress(Exception):
            slot.git.run("checkout", "-q", "--detach")
        slot.branch = None

    def park_all(self) -> None:
        """Detach every slot (HEAD = its commit), so merged task branches can be deleted
        without leaving a worktree on a branch that no longer exists. A tampered slot is not
        touched with git: it is removed (and made anew by its next task)."""
        common = self.common_dir()
        for d in sorted(self.root.glob("slot-*")):
            slot = Slot(0, d, self.git)
            if slot.tamper_problem(common) is not None:
                self._discard(d)
                continue
            gitdir = slot._claimed_gitdir()
            if gitdir is not None:
                self.git.for_slot(d, gitdir, slot.check_intact).run(
                    "update-ref", "--no-deref", "HEAD", "HEAD", check=False
                )

    def _discard(self, path: Path) -> None:
        with self._create_lock:
            shutil.rmtree(path, ignore_errors=True)  # never follows symlinks
            self.git.run("worktree", "prune", check=False)

    def _create(self, slot: Slot, tip: str) -> None:
        with self._create_lock:
            if os.path.lexists(slot.path):
                shutil.rmtree(slot.path, ignore_errors=True)
            slot.trusted_gitdir = None
            self.git.run("worktree", "prune")
            slot.path.parent.mkdir(parents=True, exist_ok=True)
            self.git.run("worktree", "add", "-q", "--detach", "-f", str(slot.path), tip)

    def _recover(self, slot: Slot) -> None:
        """Undo what a killed run may have left: a rebase in progress, a stale index lock."""
        gitdir = slot.trusted_gitdir
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
