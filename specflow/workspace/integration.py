"""The feature's integration branch `specflow/<feature>`: creation, merged tasks, extra commits.

All of it through refs and plumbing, so the user's checkout, index and HEAD stay untouched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from specflow.errors import InputError
from specflow.workspace.git import TRAILER_TASK, Git, GitError
from specflow.workspace.tasks_merge import merge_tasks


def resolve_base(git: Git, base_branch: str | None) -> tuple[str, str]:
    """The base branch and its tip: `project.base_branch`, else the branch the user has
    checked out (else HEAD)."""
    base = base_branch or git.current_branch() or "HEAD"
    sha = git.rev_parse(base)
    if sha is None:
        raise InputError(
            f"base branch '{base}' has no commits",
            "commit something first, or set [project] base_branch in specflow.toml",
        )
    return base, sha


def prepare_branch(
    git: Git, ref: str, base: str, base_tip: str
) -> tuple[str, bool, CatchUp | None]:
    """The integration branch ready for a run: created from the base's tip, or an existing
    one with the base's new commits brought in first. Returns (tip, created, catch-up)."""
    tip = git.rev_parse(ref)
    if tip is None:
        git.update_ref(ref, base_tip, "", message=f"specflow: branch from {base}")
        return base_tip, True, None
    done = catch_up(git, ref, base, base_tip, tip)
    return (done.tip if done else tip), False, done


def ready_branch(
    git: Git, ref: str, state_dir: Path, base: str, base_tip: str
) -> tuple[str, bool, CatchUp | None]:
    """The integration branch ready for work, whoever works on it (an `implement` run, an MCP
    claim): checked out nowhere but in specflow's own worktrees, `.specflow/` kept out of
    `git status`, created from the base or caught up with it (`prepare_branch`)."""
    holders = [p for p in checked_out_at(git, ref) if state_dir not in p.parents]
    if holders:
        raise InputError(
            f"{ref.removeprefix('refs/heads/')} is checked out in {holders[0]}",
            "switch that checkout to another branch; specflow moves this branch itself",
        )
    add_exclude(git, ".specflow/")
    return prepare_branch(git, ref, base, base_tip)


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
    tree = _replace_files(git, tip, {relpath: content})
    commit = git.out("commit-tree", tree, "-p", tip, "-F", "-", input=message)
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


# -- before a run: the branch is ours, and it has the base's new commits ---------------------


def not_ours(git: Git, ref: str, base_tip: str) -> str | None:
    """Why `ref` (an existing integration branch) is not one specflow made from this base, or
    None. Ours: it shares history with the base, and what it adds on top (if anything) holds
    at least one specflow commit (a task's trailer, a run record, a catch-up merge)."""
    if git.run("merge-base", ref, base_tip, check=False).returncode != 0:
        return "has no history in common with the base branch"
    fmt = f"--format=%s%x09%(trailers:key={TRAILER_TASK},valueonly,separator=%x2C)"
    text = git.out("log", "--no-merges", fmt, f"{base_tip}..{ref}")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if lines and not any(ln.partition("\t")[2] or ln.startswith("specflow: ") for ln in lines):
        return f"holds {len(lines)} commit(s) on top of the base and none of them is specflow's"
    return None


@dataclass
class CatchUp:
    """How the integration branch took the base's new commits (`how`: fast-forward, merge)."""

    how: str
    commits: int
    tip: str
    resolved: list[str] = field(default_factory=list)  # tasks.md files merged by specflow

    def event(self, ref: str, base: str) -> dict[str, object]:
        """The `branch_updated` event's data (said before any task starts from the new tip)."""
        return {
            "branch": ref.removeprefix("refs/heads/"),
            "base": base,
            "how": self.how,
            "commits": self.commits,
            "commit": self.tip,
            "resolved": self.resolved,
        }


def catch_up(git: Git, ref: str, base: str, base_tip: str, tip: str) -> CatchUp | None:
    """Bring the base branch's new commits into the integration branch, before any task
    starts from it: a fast-forward when the branch has nothing of its own (merged since), else
    a merge commit made with plumbing. tasks.md conflicts (ticks on one side, new or edited
    tasks on the other) are resolved by specflow itself (workspace/tasks_merge.py); any other
    conflict is the user's to resolve, and nothing is changed. None: nothing new."""
    if git.is_ancestor(base_tip, tip):
        return None
    commits = len(git.out("rev-list", f"{tip}..{base_tip}").split())
    if git.is_ancestor(tip, base_tip):
        git.update_ref(ref, base_tip, tip, message=f"specflow: fast-forward to {base}")
        return CatchUp("fast-forward", commits, base_tip)
    proc = git.run("merge-tree", "--write-tree", "-z", "--no-messages", tip, base_tip, check=False)
    if proc.returncode not in (0, 1):
        raise GitError(["merge-tree"], proc.returncode, proc.stderr)
    fields = proc.stdout.split("\0")
    tree, stages = fields[0], _conflict_stages(fields[1:])
    resolved: dict[str, str] = {}
    for path, blobs in stages.items():
        merged = None
        if path.endswith("tasks.md") and all(blobs.get(s) for s in (1, 2, 3)):
            base_text, ours, theirs = (
                git.run("cat-file", "blob", blobs[s]).stdout for s in (1, 2, 3)
            )
            merged = merge_tasks(base_text, ours, theirs)
        if merged is None:
            others = ", ".join(sorted(stages))
            raise InputError(
                f"{ref.removeprefix('refs/heads/')} and {base} conflict in {others}",
                f"merge {base} into {ref.removeprefix('refs/heads/')} yourself "
                "(git switch; git merge; commit), then run implement again",
            )
        resolved[path] = merged
    if resolved:
        tree = _replace_files(git, tree, resolved)
    message = f"specflow: bring {base}'s new commits into {ref.removeprefix('refs/heads/')}\n\n" + (
        f"tasks.md merged by specflow: {', '.join(sorted(resolved))}\n" if resolved else ""
    )
    commit = git.out("commit-tree", tree, "-p", tip, "-p", base_tip, "-F", "-", input=message)
    git.update_ref(ref, commit, tip, message=f"specflow: merge {base}")
    return CatchUp("merge", commits, commit, sorted(resolved))


def _conflict_stages(fields: list[str]) -> dict[str, dict[int, str]]:
    """`merge-tree --write-tree -z` conflicted entries: `<mode> <oid> <stage>\\t<path>` each
    NUL-terminated, then an empty field; path -> {stage: oid}."""
    out: dict[str, dict[int, str]] = {}
    for f in fields:
        if not f:
            break
        info, _, path = f.partition("\t")
        parts = info.split()
        if len(parts) == 3 and parts[2].isdigit():
            out.setdefault(path, {})[int(parts[2])] = parts[1]
    return out


def _replace_files(git: Git, tree: str, files: dict[str, str]) -> str:
    """`tree` (or a commit's tree) with these files' contents replaced or added (a temporary
    index, no checkout)."""
    blobs = {
        p: ("100644", git.out("hash-object", "-w", "--stdin", input=t)) for p, t in files.items()
    }
    return tree_with(git, tree, blobs)


def tree_with(git: Git, tree: str, entries: dict[str, tuple[str, str]]) -> str:
    """`tree` (or a commit's tree) with these entries (path -> (mode, object id)) replaced
    or added: a temporary index, no checkout, no file content read or written."""
    fd, index = tempfile.mkstemp(prefix="specflow-index-")
    os.close(fd)
    os.unlink(index)
    env = {"GIT_INDEX_FILE": index}
    try:
        git.run("read-tree", tree, env=env)
        for path, (mode, oid) in entries.items():
            git.run("update-index", "--add", "--cacheinfo", f"{mode},{oid},{path}", env=env)
        return git.out("write-tree", env=env)
    finally:
        if os.path.exists(index):
            os.unlink(index)
