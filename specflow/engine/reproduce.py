"""Bugfix verify: the reproducing test fails on the base commit and passes with the fix.

Given the base commit the fix task started from and the commit with its fix, the test files
are taken from the fix commit and run against the base tree (they must fail: the test really
reproduces the bug), then the fix commit is run as it is (it must pass). Both runs happen in
throwaway detached worktrees made from the slot's hardened git, through the same check runner
(and the run's sandbox) as every verify command, so an agent's test code runs nowhere else and
no git command reads a file that code could have written; the user's checkout is never
touched.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specflow.engine.attempt import MAX_EVENT_OUTPUT, VerifyFailure, verify_work
from specflow.errors import InputError
from specflow.workspace.git import IDENTITY, Git

if TYPE_CHECKING:
    from specflow.sandbox import Confinement


@dataclass(frozen=True)
class Reproduce:
    """What a bugfix spec asks of its fix task (bugfix/spec.py finds it)."""

    tests: tuple[str, ...]  # test files the fix adds, repository paths
    command: str  # runs just those tests


@dataclass
class Reproduction:
    ok: bool
    failed_on_base: bool
    passed_with_fix: bool
    reason: str = ""
    base_output: str = ""
    fix_output: str = ""


def with_tests(git: Git, base: str, fixed: str, tests: list[str]) -> str | None:
    """A commit: `base` plus the test files as `fixed` has them (None: one is not there).
    Plumbing only: nothing of the agent's is read into a file or run."""
    from specflow.workspace.integration import tree_with

    entries: dict[str, tuple[str, str]] = {}
    for rel in tests:
        line = git.out("ls-tree", fixed, "--", rel)
        meta, _, path = line.partition("\t")
        parts = meta.split()
        if path != rel or len(parts) != 3 or parts[1] != "blob":
            return None
        entries[rel] = (parts[0], parts[2])
    tree = tree_with(git, base, entries)
    message = "specflow: the fix's tests on its base\n"
    return git.out(*IDENTITY, "commit-tree", tree, "-p", base, "-F", "-", input=message)


def check_reproduction(
    git: Git,
    base: str,
    fixed: str,
    tests: list[str],
    command: str,
    *,
    timeout: float = 600.0,
    log_path: Path | None = None,
    confinement: Confinement | None = None,
) -> Reproduction:
    """Run `command` on `base` with the fix's tests, then on `fixed`, each in a throwaway
    worktree made by `git` (the slot's hardened git: no `.git` file the agent's code could have
    rewritten is ever read), in `confinement`."""
    from specflow.engine.verify import run_checks

    if not tests:
        raise InputError("no reproducing test named", "name the test file in the bugfix spec")
    probe = with_tests(git, base, fixed, tests)
    if probe is None:
        missing = ", ".join(tests)
        return Reproduction(False, False, False, f"{missing} is not in the fix commit")
    work = Path(tempfile.mkdtemp(prefix="specflow-repro-"))
    log = log_path or work / "reproduce.log"
    cancel = threading.Event()
    results = []
    try:
        for name, commit in (("base", probe), ("fix", fixed)):
            tree = work / name
            git.run("worktree", "add", "--detach", "--quiet", str(tree), commit)
            res = run_checks(
                [command], tree, timeout=timeout, log_path=log, cancel=cancel,
                confinement=confinement,
            )  # fmt: skip
            results.append(res)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # never follows symlinks
        git.run("worktree", "prune", check=False)
    before, after = results
    reason = ""
    if before.ok:
        reason = f"`{command}` passes on the base commit: the test does not reproduce the bug"
    elif not after.ok:
        reason = f"`{command}` fails with the fix: {after.reason}"
    return Reproduction(
        ok=not before.ok and after.ok,
        failed_on_base=not before.ok,
        passed_with_fix=after.ok,
        reason=reason,
        base_output=before.output,
        fix_output=after.output,
    )


def reproduce_work(
    r: Reproduce,
    git: Git,
    base: str,
    head: str,
    *,
    timeout: float,
    log: Path,
    emit: Callable[..., Any],
    confinement: Confinement | None = None,
) -> VerifyFailure | None:
    """The engine's verify step for a bugfix's fix task, after its checks passed: reported as
    one more verify (started, then passed or failed), a failure going back to the agent."""
    from specflow.runs.catalogue import Kind

    what = f"{r.command} (must fail on {base[:10]} with only the new test, pass with the fix)"
    emit(Kind.VERIFY_STARTED, commands=[what])
    started = time.monotonic()
    res = check_reproduction(
        git, base, head, list(r.tests), r.command, timeout=timeout, log_path=log,
        confinement=confinement,
    )  # fmt: skip
    if res.ok:
        seconds = round(time.monotonic() - started, 3)
        emit(Kind.VERIFY_PASSED, commands=[what], seconds=seconds, log=str(log))
        return None
    output = res.fix_output if res.failed_on_base else res.base_output
    emit(
        Kind.VERIFY_FAILED,
        seconds=round(time.monotonic() - started, 3),
        reason=res.reason,
        command=r.command,
        output=output[-MAX_EVENT_OUTPUT:],
        log=str(log),
    )
    return VerifyFailure(res.reason, output, log)


def verify_task(
    commands: list[str],
    git: Git,
    worktree: Path,
    *,
    task_id: str,
    base: str,
    reproduce: Reproduce | None,
    timeout: float,
    log: Path,
    cancel: threading.Event,
    emit: Callable[..., Any],
    confinement: Confinement | None = None,
) -> VerifyFailure | None:
    """A task's verify on its committed work, wherever it lands (the engine's merge queue,
    an MCP client's complete_task): its checks, then, for a bugfix's fix task, the
    reproduction on `base`."""
    failure = verify_work(
        commands, git, worktree, task_id=task_id, timeout=timeout, log=log, cancel=cancel,
        emit=emit, confinement=confinement,
    )  # fmt: skip
    if failure is None and reproduce is not None:
        failure = reproduce_work(
            reproduce, git, base, git.head(), timeout=timeout, log=log, emit=emit,
            confinement=confinement,
        )  # fmt: skip
    return failure
