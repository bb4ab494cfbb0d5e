"""How commits travel between the driver's repository and Ray nodes without racing its worktrees.

Git commands that receive objects into a repository check them against every ref *and every
worktree's HEAD* (`rev-list --not --all`): `receive-pack` (a push into it) and `git fetch`. While
`git worktree add` makes a slot, that slot's HEAD briefly names no commit, and such a check
fails with `bad object worktrees/slot-N/HEAD`. The driver's repository makes slots all the
time, so nothing is ever pushed into it, and nothing is fetched into it with `git fetch`:

- The exchange, `.specflow/ray/exchange.git`, is a bare repository private to the driver (it
  borrows the repository's objects through `objects/info/alternates`, so it costs nothing to
  fill). It has no worktrees to race. With a one-machine Ray it *is* the remote: the driver
  pushes start commits there, nodes fetch from and push to it. With a cluster, node commits
  are fetched from the shared remote into it.
- From the exchange a task commit comes into the repository with `git fetch-pack`, which
  stores the objects and checks no refs or worktree HEADs; no ref is made in the repository.

Pushing *from* the repository (the start commits, to the shared remote) reads no worktree
HEADs and is safe.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from specflow.workspace.git import Git

EXCHANGE = Path("ray") / "exchange.git"  # under the state folder (.specflow)


class Exchange:
    """The driver's bare exchange repository (see the module docstring)."""

    def __init__(self, repo: Git, path: Path) -> None:
        self.repo = repo  # the driver's repository
        self.path = path
        self.git = Git(path)
        self._lock = threading.Lock()

    def ensure(self) -> None:
        """Make it (once): bare, no gc of its own, the repository's objects borrowed."""
        with self._lock:
            if (self.path / "HEAD").is_file():
                return
            self.path.mkdir(parents=True, exist_ok=True)
            self.git.run("init", "-q", "--bare")
            self.git.run("config", "gc.auto", "0")
            common = Path(self.repo.out("rev-parse", "--git-common-dir"))
            if not common.is_absolute():
                common = self.repo.cwd / common
            objects = Path(os.path.normpath(common / "objects"))
            alternates = self.path / "objects" / "info" / "alternates"
            alternates.parent.mkdir(parents=True, exist_ok=True)
            alternates.write_text(f"{objects}\n", encoding="utf-8")

    def receive(self, remote: str | None, ref: str) -> None:
        """Fetch `ref` from the shared remote into the exchange (None: nodes push here)."""
        if remote is None:
            return
        self.ensure()
        self.git.run("fetch", "-q", "--no-tags", "--no-write-fetch-head", remote, f"+{ref}:{ref}")

    def bring_in(self, commit: str, ref: str) -> None:
        """Have `commit` (the tip of `ref` in the exchange) in the repository's objects."""
        if self.repo.run("cat-file", "-e", f"{commit}^{{commit}}", check=False).returncode == 0:
            return
        self.repo.run("fetch-pack", "-q", "--no-progress", str(self.path), ref)
        self.repo.run("cat-file", "-e", f"{commit}^{{commit}}")  # GitError if it did not come

    def drop(self, refs: list[str]) -> None:
        """Delete `refs` in the exchange (when it holds any)."""
        if refs and (self.path / "HEAD").is_file():
            stdin = "".join(f"delete {r}\n" for r in refs)
            self.git.run("update-ref", "--no-deref", "--stdin", input=stdin, check=False)
