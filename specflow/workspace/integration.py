"""The feature's integration branch `specflow/<feature>`: creation, merged tasks, extra commits.

All of it through refs and plumbing, so the user's checkout, index and HEAD stay untouched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from specflow.errors import InputError
from specflow.workspace.git import Git


def ensure_branch(git: Git, ref: str, base_branch: str | None) -> tuple[str, bool]:
    """The integration branch's tip, creating it from the base branch on first use.

    Base: `project.base_branch`, else the branch the user has checked out (else HEAD).
    Returns (tip, created).
    """
    tip = git.rev_parse(ref)
    if tip is not None:
        return tip, False
    base = base_branch or git.current_branch() or "HEAD"
    sha = git.rev_parse(base)
    if sha is None:
        raise InputError(
            f"base branch '{base}' has no commits",
            "commit something first, or set [project] base_branch in specflow.toml",
        )
    git.update_ref(ref, sha, "", message=f"specflow: branch from {base}")
    return sha, True


def checked_out_at(git: Git, ref: str) -> list[Path]:
    """Worktrees (the user's included) that have `ref` checked out."""
    text = git.out("worktree", "list", "--porcelain")
    out: list[Path] = []
    current: Path | None = None
    for line in text.splitlines():
        if line.startswith("worktree "):
            current = Path(line[len("worktree ") :])
        elif line == f"branch {ref}" and current is not None:
            out.append(current)
    return out


def commit_file(git: Git, ref: str, relpath: str, content: str, message: str) -> str:
    """Commit one file on top of `ref` without any checkout (a temporary index), then move
    `ref` with a compare-and-swap. The caller holds the merge queue's lock."""
    tip = git.out("rev-parse", ref)
    blob = git.out("hash-object", "-w", "--stdin", input=content)
    fd, index = tempfile.mkstemp(prefix="specflow-index-")
    os.close(fd)
    os.unlink(index)
    env = {"GIT_INDEX_FILE": index}
    try:
        git.run("read-tree", tip, env=env)
        git.run("update-index", "--add", "--cacheinfo", f"100644,{blob},{relpath}", env=env)
        tree = git.out("write-tree", env=env)
        commit = git.out("commit-tree", tree, "-p", tip, "-F", "-", input=message)
    finally:
        if os.path.exists(index):
            os.unlink(index)
    git.update_ref(ref, commit, tip, message="specflow: run record")
    return commit


def add_exclude(git: Git, pattern: str) -> None:
    """Keep `.specflow/` out of `git status` without editing the user's .gitignore."""
    try:
        exclude = git.git_path("info/exclude")
        text = exclude.read_text() if exclude.exists() else ""
        if pattern in text.split("\n"):
            return
        exclude.parent.mkdir(parents=True, exist_ok=True)
        with open(exclude, "a") as fh:
            fh.write(("" if text.endswith("\n") or not text else "\n") + pattern + "\n")
    except OSError:
        pass


def clear_stale_ref_locks(git: Git, feature: str, wait_s: float = 2.0) -> list[Path]:
    """Ref lock files a killed run's git left behind (`update-ref` cut in half): they would
    make every later merge fail. Called while holding the feature lock, so no specflow process
    is using them; a git still finishing gets `wait_s` to let go first."""
    import time

    common = Path(git.out("rev-parse", "--git-common-dir"))
    if not common.is_absolute():
        common = git.cwd / common
    heads = common / "refs" / "heads"
    candidates = [heads / "specflow" / f"{feature}.lock"]
    task_dir = heads / "specflow-task" / feature
    if task_dir.is_dir():
        candidates += list(task_dir.glob("*.lock"))
    stale = [p for p in candidates if p.exists()]
    deadline = time.monotonic() + wait_s
    while stale and time.monotonic() < deadline:
        time.sleep(0.1)
        stale = [p for p in stale if p.exists()]
    for p in stale:
        with contextlib.suppress(OSError):
            p.unlink()
    return stale


def check_refs_free(git: Git, *refs: str) -> None:
    """git cannot hold branch `a/b` next to a branch `a`: a user's branch named `specflow`
    (or `specflow-task`, or `specflow/<feature>` for a task branch) would make git fail later
    with "cannot lock ref". Say which branch is in the way before anything is created."""
    for ref in refs:
        if git.run("check-ref-format", ref, check=False).returncode != 0:
            raise InputError(
                f"'{ref.removeprefix('refs/heads/')}' cannot be a git branch name",
                "rename the feature folder to letters, digits and dashes, e.g. 004-my-feature",
            )
        parts = ref.split("/")  # refs, heads, specflow, <feature>[, <task>]
        for end in range(3, len(parts)):
            prefix = "/".join(parts[:end])
            if git.run("show-ref", "--verify", "--quiet", prefix, check=False).returncode == 0:
                name = prefix.removeprefix("refs/heads/")
                raise InputError(
                    f"your branch '{name}' leaves no room for specflow's branch "
                    f"'{ref.removeprefix('refs/heads/')}' (git keeps branches as paths)",
                    f"rename it, e.g. 'git branch -m {name} {name}-work'",
                )
