"""One attempt of one task in a worktree, written once: brief, agent, commit, verify, tick, and
the rebase before a landing. The local executor (engine/executor.py), the Ray node
(executors/ray_node.py) and the MCP landing (mcp/landing.py) are all made of these steps, so a
change to how specflow commits, checks or ticks a worktree is made here only.

`emit(kind, **data)` is bound to the task (and, where one attempt is meant, to it) by the
caller: the same steps write into a run's event log on this machine, or stream back from a
cluster node.
"""

from __future__ import annotations

import os
import re
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specflow.agents.base import Agent, AgentResult, AgentTask, EventSink, Limits
from specflow.agents.brief import BriefInput, build_brief
from specflow.domain.tasks import Task
from specflow.engine.verify import run_checks
from specflow.errors import SpecflowError
from specflow.fsutil import atomic_write_text
from specflow.runs.catalogue import Kind
from specflow.runs.state import RunPaths
from specflow.workspace.git import TRAILER_FEATURE, TRAILER_RUN, TRAILER_TASK, Git
from specflow.workspace.merge import MergeQueue

if TYPE_CHECKING:
    from specflow.sandbox import Confinement

MAX_EVENT_OUTPUT = 2000  # the tail of a failed check's output kept in its event
MAX_PREVIOUS_DIFF = 6000  # the previous change shown to an agent after a conflict


Emit = EventSink  # emit(kind, **data): an event of the task (or of one attempt)


class AttemptFailed(Exception):
    """The task failed (agent failed, no changes, checks failed past the retries …): the
    message is the reason recorded in `task_failed`."""


class Cancelled(Exception):
    """The run is stopping (Ctrl-C): the attempt gave up without a verdict."""


@dataclass
class AttemptJob:
    """What an executor needs for one task attempt (and the verify retries it may spend on its
    own): the task, where its worktree is on this machine, and the run's settings."""

    run_id: str
    feature: str
    task: Task
    attempt: int
    feedback: str | None
    worktree: Path  # the task's slot on this machine, on its task branch
    git: Git  # of that worktree
    base: str  # the integration tip the task commit sits on
    message: str  # the task commit's message, trailers included
    model: str | None
    limits: Limits
    commands: list[str]  # the task's verify, then the project's test command
    verify_timeout_s: float
    verify_retries: int  # failed checks the executor may retry itself before the task fails
    paths: RunPaths  # where briefs and logs go
    spec_text: str | None = None
    plan_text: str | None = None


@dataclass
class AttemptResult:
    attempt: int  # the last attempt number used
    verified: str | None = None  # the commit, when the executor already ran the checks on base


@dataclass
class VerifyFailure:
    reason: str
    output: str
    log: Path

    @property
    def feedback(self) -> str:
        return f"Verification failed: {self.reason}\n\n{self.output}"


def task_message(task: Task, feature: str, run_id: str, summary: str = "") -> str:
    """The task commit's message: title, an optional body, the three trailers git trusts."""
    body = f"{summary.strip()}\n\n" if summary.strip() else ""
    return (
        f"{task.title}\n\n{body}{TRAILER_TASK}: {task.id}\n"
        f"{TRAILER_FEATURE}: {feature}\n{TRAILER_RUN}: {run_id}\n"
    )


def commands_for(task: Task, test_command: str | None) -> list[str]:
    return [c for c in (task.verify, test_command) if c]


# -- the agent ----------------------------------------------------------------------------------


def agent_task(
    run_id: str,
    feature: str,
    task: Task,
    worktree: Path,
    brief_path: Path,
    texts: tuple[str | None, str | None],  # the feature's spec and plan
    attempt: int,
    feedback: str | None,
    model: str | None,
    limits: Limits,
) -> AgentTask:
    """The agent's job for one attempt, with its brief built and written to `brief_path`."""
    brief = build_brief(BriefInput(task, feature, worktree, *texts, feedback, attempt))
    atomic_write_text(brief_path, brief)
    return AgentTask(
        run_id, feature, task, worktree, brief_path, brief, attempt, feedback, model, limits
    )


def run_agent(
    agent: Agent,
    job: AgentTask,
    emit: Emit,
    cancel: threading.Event,
    **started: Any,
) -> AgentResult:
    """`agent_started`, the agent's own events, `agent_finished` (emit bound to the attempt)."""
    emit(Kind.AGENT_STARTED, agent=agent.name, model=job.model, **started)
    t0 = time.monotonic()
    result = agent.run(job, emit, cancel)
    emit(
        Kind.AGENT_FINISHED,
        ok=result.ok,
        reason=result.reason,
        steps=result.steps,
        usage=result.usage.to_dict(),
        seconds=round(time.monotonic() - t0, 3),
    )
    return result


def agent_outcome(result: AgentResult, cancel: threading.Event) -> None:
    """Raise Cancelled or AttemptFailed for an agent run that did not succeed."""
    if cancel.is_set():
        raise Cancelled()
    if not result.ok:
        raise AttemptFailed(f"agent failed: {result.reason or 'unknown reason'}")


def limits_dict(limits: Limits) -> dict[str, Any]:
    return {
        "max_steps": limits.max_steps,
        "max_seconds": limits.max_seconds,
        "max_cost_usd": limits.max_cost_usd,
    }


# -- the commit ---------------------------------------------------------------------------------


def stage(git: Git, base: str) -> str | None:
    """The worktree's state as a tree (edits, even the agent's own commits); None when it is
    the same as `base`'s."""
    git.run("add", "-A")
    tree = git.write_tree()
    return None if tree == _tree_of(git, base) else tree


_TREES: dict[str, str] = {}  # commit -> its tree: tasks of a wave share their base


def _tree_of(git: Git, commit: str) -> str:
    tree = _TREES.get(commit)
    if tree is None:
        tree = _TREES[commit] = git.tree_of(commit)
        if len(_TREES) > 4096:
            _TREES.clear()
    return tree


def commit_staged(git: Git, tree: str, base: str, message: str, emit: Emit) -> str:
    """One commit of `tree` on `base`, by plumbing (`git commit` would re-scan the tree), at
    HEAD of the worktree's branch: whatever the agent committed itself is squashed. A change
    that adds a secret fails here (cause `secret`), before anything can merge it."""
    commit = git.commit_tree(tree, base, message)
    check_no_secrets(git, base, commit)
    git.run("update-ref", "-m", "specflow: task commit", "HEAD", commit)
    emit(Kind.TASK_COMMITTED, commit=commit)
    return commit


def check_no_secrets(git: Git, base: str, commit: str) -> None:
    """AttemptFailed (`secret in the change: FILE:LINE: KIND`) when the diff adds a secret."""
    from specflow.secretscan import scan_diff

    diff = git.out("diff", "--no-color", "--no-ext-diff", "--no-textconv", "-U0", base, commit)
    found = scan_diff(diff)
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise AttemptFailed(f"secret in the change: {found[0]}{more}; nothing was merged")


def commit_work(git: Git, base: str, message: str, emit: Emit) -> str:
    tree = stage(git, base)
    if tree is None:
        raise AttemptFailed("agent made no changes")
    return commit_staged(git, tree, base, message, emit)


# -- the checks ---------------------------------------------------------------------------------


def verify_work(
    commands: list[str],
    git: Git,
    worktree: Path,
    *,
    task_id: str,
    timeout: float,
    log: Path,
    cancel: threading.Event,
    emit: Emit,
    confinement: Confinement | None = None,
    usage: Callable[[float, float], None] | None = None,
) -> VerifyFailure | None:
    """Run the task's checks on the committed work, in `confinement` (None: the default
    sandbox); None when they pass (or there are none). `usage(cpu_seconds, wall_seconds)` hears
    what the checks cost."""
    if not commands:
        return None
    emit(Kind.VERIFY_STARTED, commands=commands)
    res = run_checks(
        commands,
        worktree,
        timeout=timeout,
        log_path=log,
        cancel=cancel,
        confinement=confinement,
        env={
            "SPECFLOW_TASK_ID": task_id,
            "SPECFLOW_WORKTREE": str(worktree),
            "PYTHONDONTWRITEBYTECODE": "1",
        },
    )
    if cancel.is_set():
        raise Cancelled()
    if usage is not None:
        usage(res.cpu_seconds, res.seconds)
    if res.ok:
        emit(Kind.VERIFY_PASSED, commands=commands, seconds=round(res.seconds, 3), log=str(log))
        return None
    reason = res.reason or "failed"
    # The work is committed: whatever untracked files are here now, the checks made them
    # (caches, reports); the next attempt must not commit them.
    git.run("clean", "-q", "-f", "-d", check=False)
    emit(
        Kind.VERIFY_FAILED,
        reason=reason,
        command=res.command,
        seconds=round(res.seconds, 3),
        output=res.output[-MAX_EVENT_OUTPUT:],
        log=str(log),
    )
    return VerifyFailure(reason, res.output, log)


# -- the merge queue ----------------------------------------------------------------------------


@dataclass
class Conflict:
    files: list[str]
    previous: str  # the task's change before the rebase, bounded

    @property
    def feedback(self) -> str:
        return (
            "Your change conflicted with work merged meanwhile in: "
            + ", ".join(self.files)
            + ".\nThe worktree now holds the current code. Redo the task on top of it.\n\n"
            + "Your previous change was:\n\n"
            + self.previous
        )


def rebase_onto(
    merge: MergeQueue, git: Git, base: str, tip: str, message: str, emit: Emit
) -> Conflict | None:
    """Replay the task commit from `base` onto the integration `tip` (merge-tree, no worktree
    churn). On a conflict the worktree is left as it was; the caller resets it onto `tip`."""
    emit(Kind.MERGE_REBASE, onto=tip)
    res = merge.rebase(git, base, tip, message)
    if res.ok:
        return None
    files = res.conflicts or ["(unknown)"]
    previous = git.out("show", "HEAD")
    if len(previous) > MAX_PREVIOUS_DIFF:
        previous = previous[:MAX_PREVIOUS_DIFF] + "\n… (diff truncated)"
    emit(Kind.MERGE_CONFLICT, files=files, onto=tip)
    return Conflict(files, previous)


@dataclass
class Ticker:
    """Under the merge lock: the task's commit again, with its `[x]` in tasks.md added.

    Ticking at merge time (not in the agent's commit) keeps rebases free of conflicts between
    neighbouring checkboxes. The file goes through the worktree's index (one path) and
    write-tree; HEAD is not moved."""

    tasks_relpath: str  # tasks.md, relative to the repository root
    user_text: str  # the user's tasks.md, used when the branch has none (or an older one)
    mark_done: Callable[[str, set[str]], str]
    landed: set[str] = field(default_factory=set)  # ticked on the branch so far

    def text(self, worktree: Path, tid: str) -> str | None:
        """tasks.md with `tid` ticked, or None when the branch's file already is."""
        path = worktree / self.tasks_relpath
        current = None
        if _plain_file(worktree, self.tasks_relpath):  # never a symlink the agent planted
            current = path.read_text(encoding="utf-8")
        return self.ticked(current, tid)

    def ticked(self, current: str | None, tid: str, ahead: set[str] | None = None) -> str | None:
        """`current` (the branch's tasks.md, None when it has none) with `tid` ticked, or None
        when it already is. `ahead`: tasks landing before this one (ticked when the user's
        file has to be used)."""
        ids = self.landed | (ahead or set()) | {tid}
        if current is None:
            return self.mark_done(self.user_text, ids)
        text = current
        new = tick_line(text, tid)
        if new is None:
            try:
                new = self.mark_done(text, ids)
            except SpecflowError:  # the branch's tasks.md predates the user's: tick the latter
                text = self.user_text
                new = self.mark_done(text, ids)
        return None if new == text else new

    def commit(self, git: Git, worktree: Path, tid: str, base: str, message: str) -> str | None:
        new = self.text(worktree, tid)
        self.landed.add(tid)
        if new is None:
            return None
        if _plain_file(worktree, self.tasks_relpath, may_be_missing=True):
            atomic_write_text(worktree / self.tasks_relpath, new)
        # One index entry by hash: `git add` would load and refresh the whole index.
        blob = git.out("hash-object", "-w", "--stdin", input=new)
        git.run("update-index", "--add", "--cacheinfo", f"100644,{blob},{self.tasks_relpath}")
        return git.commit_tree(git.write_tree(), base, message)


def _plain_file(root: Path, rel: str, *, may_be_missing: bool = False) -> bool:
    """`root/rel` is a regular file reached through no symlink (agent-made links could point
    specflow's own reads and writes outside the worktree)."""
    current = root
    parts = Path(rel).parts
    for i, part in enumerate(parts):
        current = current / part
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            return may_be_missing
        except OSError:
            return False
        last = i == len(parts) - 1
        if stat.S_ISLNK(st.st_mode) or (not last and not stat.S_ISDIR(st.st_mode)):
            return False
        if last and not stat.S_ISREG(st.st_mode):
            return False
    return True


def tick_line(text: str, tid: str) -> str | None:
    """Fast path for one box: a big tasks.md takes a full Markdown parse tens of ms, and this
    runs under the merge lock. Only when exactly one line can be the task's (else None, and
    formats.mark_done decides); only the space in `[ ]` changes."""
    pat = re.compile(
        rf"^[ \t>]*(?:[-*+]|\d+[.)])[ \t]+\[( |x|X)\][ \t]+\**{re.escape(tid)}\b", re.M
    )
    hits = list(pat.finditer(text))
    if len(hits) != 1:
        return None
    m = hits[0]
    if m.group(1) != " ":
        return text
    return text[: m.start(1)] + "x" + text[m.end(1) :]
