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

Slots are made ahead of need: `warm(n, tip)` creates the missing worktrees of the first n slots
in the background, a few at a time (bounded by the disk and the cores, not by a lock; written
directly where git allows, see `_write_worktree`), and `acquire` hands out a slot whose
worktree exists before one still being made.
Slots stay between runs of a feature, so a later run starts warm.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from specflow.errors import SpecflowError
from specflow.workspace.git import Git, GitError


class SlotTampered(SpecflowError):
    """A slot's `.git` file (or its gitdir's pointer back) is not what the pool made."""

    exit_code = 1


def task_branch(feature: str, task_id: str) -> str:
    return f"specflow-task/{feature}/{task_id}"


def integration_branch(feature: str) -> str:
    return f"specflow/{feature}"


ADD_ATTEMPTS = 5  # `worktree add` racing another one's half-written record


def slots_for(parallel: int) -> int:
    """Worktrees for `parallel` agents: one each, plus half as many again for tasks whose work
    is landing (verified in the gate, merged) while the next agents already run."""
    return parallel + (parallel + 1) // 2


def warm_workers() -> int:
    """Worktrees made at once: making one waits on the disk and on process start-up as much as
    on a core, so a few per core."""
    return 4 * (os.cpu_count() or 1)


@dataclass
class Slot:
    index: int
    path: Path
    git: Git
    branch: str | None = None
    base: str | None = None  # the commit the task's work sits on
    trusted_gitdir: Path | None = None  # set by the pool once the slot checked out intact
    broken: bool = False  # found tampered: rebuilt before its next task
    fresh: bool = False  # just made: clean, nothing to reset
    made_at: str | None = None  # the commit a fresh slot was made at

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
    _handed: set[int] = field(default_factory=set)  # slot numbers handed out or being warmed
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _create_lock: threading.Lock = field(default_factory=threading.Lock)
    _common_dir: Path | None = None

    def common_dir(self) -> Path:
        """The main repository's git directory (where `worktrees/` lives)."""
        if self._common_dir is None:
            p = Path(self.git.out("rev-parse", "--git-common-dir"))
            self._common_dir = Path(os.path.normpath(p if p.is_absolute() else self.git.cwd / p))
        return self._common_dir

    # Slots made by `warm`, not yet handed out, and the ones still being made.
    _warm: dict[int, Slot] = field(default_factory=dict)
    _making: dict[int, threading.Event] = field(default_factory=dict)
    _claimed: set[int] = field(default_factory=set)  # being made, promised to an acquire
    _pruned: bool = False
    _reserved: int = 0  # slots promised to tasks that have not acquired them yet
    _own: bool | None = None  # worktrees written by `_write_worktree` (see there)

    def spare(self) -> int:
        """Slots a task could still get (free or not made yet), reservations deducted."""
        with self._lock:
            return len(self._free) + self.size - self._made - self._reserved

    def reserve(self) -> None:
        """Promise a slot to a task about to start (its thread calls `acquire`): the
        scheduling loop never starts more tasks than there are slots for."""
        with self._lock:
            self._reserved += 1

    def acquire(self) -> Slot:
        """A slot for a task: a free one, else one `warm` has ready (waiting for one being
        made rather than making another), else a new one (made by `prepare`)."""
        with self._lock:
            self._reserved = max(0, self._reserved - 1)
            if self._free:
                return self._free.pop(0)
            if self._made >= self.size:
                raise RuntimeError("worktree pool exhausted")
            self._made += 1
            ready = sorted(set(self._warm) - self._claimed)
            if ready:
                return self._warm.pop(ready[0])
            unclaimed = sorted(set(self._making) - self._claimed)
            if not unclaimed:  # low numbers first: the same folders across runs
                index = next(i for i in range(1, self.size + 1) if i not in self._handed)
                self._handed.add(index)
                return self._slot(index)
            index = unclaimed[0]
            self._claimed.add(index)
            waiting = self._making[index]
        waiting.wait()
        with self._lock:
            self._claimed.discard(index)
            return self._warm.pop(index)

    def _slot(self, index: int) -> Slot:
        path = self.root / f"slot-{index}"
        return Slot(index, path, self.git.at(path))

    def release(self, slot: Slot) -> None:
        with self._lock:
            self._free.append(slot)
            self._free.sort(key=lambda s: s.index)

    def warm(self, count: int, tip: str, workers: int | None = None) -> threading.Thread:
        """Make the worktrees of the first `count` slots that do not have one, `workers` at a
        time (default: the cores), in a background thread. Slots from an earlier run of the
        feature are kept as they are (`prepare` checks and resets them)."""
        count = min(count, self.size)
        todo: list[Slot] = []
        self.common_dir()  # once, outside the lock
        self.git.identity()  # once, not by every worker at the same time
        with self._lock:
            for index in range(1, count + 1):
                slot = self._slot(index)
                if index in self._handed or self._usable(slot):
                    continue
                self._handed.add(index)
                self._making[index] = threading.Event()
                todo.append(slot)

        def make(slot: Slot) -> None:
            try:
                self._create(slot, tip)
            except Exception:  # `prepare` makes it (and reports the error) when it is used
                slot.fresh = False
            with self._lock:
                self._warm[slot.index] = slot
                self._making.pop(slot.index).set()

        def run() -> None:
            with ThreadPoolExecutor(workers or warm_workers()) as ex:
                list(ex.map(make, todo))

        th = threading.Thread(target=run, name="pool-warm", daemon=True)
        th.start()
        return th

    def prepare(self, slot: Slot, task_id: str, tip: str) -> None:
        """Put `slot` on a fresh branch for `task_id` at `tip`, with a clean tree."""
        branch = task_branch(self.feature, task_id)
        if slot.broken or not self._usable(slot):
            self._create(slot, tip)
        self._trust(slot)
        if not slot.fresh:
            self._recover(slot)
        if not (
            slot.fresh
            and slot.made_at == tip
            and self._own
            and self._branch_fresh(slot, branch, tip)
        ):
            slot.git.run("checkout", "-q", "-f", "--ignore-other-worktrees", "-B", branch, tip)
        if not slot.fresh:  # a new worktree has nothing untracked: skip the tree walk
            # -ff: nested repositories the agent made go too.
            slot.git.run("clean", "-q", "-ff", "-d", "-x")
        slot.fresh = False
        slot.branch = branch
        slot.base = tip

    def _branch_fresh(self, slot: Slot, branch: str, tip: str) -> bool:
        """`checkout -B` for a slot just written at `tip`: its files and index are already
        `tip`'s, so only the branch is made and HEAD pointed at it (with git's lock protocol,
        as `symbolic-ref` would): one small process instead of a pass over the index. False:
        not done (a lock in the way), `checkout -B` it is."""
        gitdir = slot.trusted_gitdir
        if gitdir is None:
            return False
        head, lock = gitdir / "HEAD", gitdir / "HEAD.lock"
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        except OSError:
            return False
        try:
            slot.git.run(
                "update-ref", "-m", f"specflow: branch {branch}", f"refs/heads/{branch}", tip
            )
            os.write(fd, f"ref: refs/heads/{branch}\n".encode())
        except BaseException:
            os.close(fd)
            lock.unlink(missing_ok=True)
            raise
        os.close(fd)
        os.replace(lock, head)
        return True

    def _usable(self, slot: Slot) -> bool:
        """The slot has a worktree git knows and passes the tamper check: warm slots, slots
        kept from an earlier run and slots a task used all go through it before a task."""
        if slot.tamper_problem(self.common_dir()) is not None:
            return False
        gitdir = slot._claimed_gitdir()
        return gitdir is not None and gitdir.is_dir()

    def _trust(self, slot: Slot) -> None:
        """Bind the (intact) slot to its gitdir: from here on nothing reads its `.git` file."""
        gitdir = slot._claimed_gitdir()
        if gitdir is None:  # just made: cannot happen unless making it failed
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
        """A new worktree for `slot` at `tip`; several are made at once. Stale worktree
        records are pruned once per pool. Where the repository allows (`_writes_own`), the
        worktree's records are written here and its files by one `read-tree` (one process
        instead of `worktree add`'s three: about a third of the CPU, which is what 64 slots
        made at once wait for on a small machine)."""
        with self._create_lock:
            if not self._pruned:
                self.git.run("worktree", "prune")
                self._pruned = True
            if self._own is None:
                self._own = self._writes_own()
        slot.trusted_gitdir = None
        slot.path.parent.mkdir(parents=True, exist_ok=True)
        if self._own and slot.path.is_absolute():
            if os.path.lexists(slot.path):  # a slot found broken: its record goes with it
                self._clear(slot.path)
                with self._create_lock:
                    self.git.run("worktree", "prune", check=False)
            self._write_worktree(slot, tip)
        else:
            self._add_worktree(slot, tip)
        slot.fresh = True
        slot.made_at = tip

    def _writes_own(self) -> bool:
        """Whether a worktree is only its three records plus a checkout here: not with
        reftable refs (HEAD lives in the worktree's own table), per-worktree config or a sparse
        checkout (`worktree add` copies their settings). Anything else: `worktree add`."""
        proc = self.git.run(
            "config",
            "--get-regexp",
            r"^(extensions\.(refstorage|worktreeconfig)|core\.sparsecheckout)$",
            check=False,
        )
        return proc.returncode == 1 and not proc.stdout.strip()

    def _write_worktree(self, slot: Slot, tip: str) -> None:
        """What `worktree add --detach <path> <tip>` makes, written directly: the records under
        `<common>/worktrees/<id>` (locked while incomplete, so a `worktree prune` running
        meanwhile in another process leaves them), the slot's `.git` file, then the index and
        files in one `read-tree`. The id is derived from the slot's path: git's own names (the
        folder's name plus a counter) collide between features' slot-1."""
        common = self.common_dir()
        digest = hashlib.sha1(str(slot.path).encode("utf-8")).hexdigest()[:12]
        admin = common / "worktrees" / f"{slot.path.name}-{digest}"
        self._clear(admin)  # a record of a slot that is gone (a symlink: the link only)
        admin.mkdir(parents=True)
        (admin / "locked").write_text("initializing\n", encoding="utf-8")
        (admin / "commondir").write_text("../..\n", encoding="utf-8")
        (admin / "HEAD").write_text(f"{tip}\n", encoding="utf-8")
        slot.path.mkdir()
        (slot.path / ".git").write_text(f"gitdir: {admin}\n", encoding="utf-8")
        (admin / "gitdir").write_text(f"{slot.path / '.git'}\n", encoding="utf-8")
        git = self.git.for_slot(slot.path, admin, slot.check_intact)
        try:
            git.run("read-tree", "--reset", "-u", tip)
        except BaseException:  # nothing half-made stays (the slot is made again when used)
            self._clear(slot.path)
            self._clear(admin)
            raise
        (admin / "locked").unlink()

    def _add_worktree(self, slot: Slot, tip: str) -> None:
        """`worktree add` reads the other worktrees' records, and one being written at that
        moment makes it fail ("failed to read .../commondir"): that add is tried again."""
        for attempt in range(ADD_ATTEMPTS):
            self._clear(slot.path)
            try:
                self.git.run("worktree", "add", "-q", "--detach", "-f", str(slot.path), tip)
                return
            except GitError as exc:
                if "failed to read" not in exc.stderr or attempt == ADD_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))

    @staticmethod
    def _clear(path: Path) -> None:
        if os.path.islink(path):
            path.unlink()
        elif os.path.lexists(path):
            shutil.rmtree(path, ignore_errors=True)  # never follows symlinks

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
