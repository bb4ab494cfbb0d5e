"""Bugfix verify: the reproducing test fails on the base commit and passes with the fix.

Given the base commit the fix task started from and the commit with its fix, the test files
are taken from the fix commit and run against the base tree (they must fail: the test really
reproduces the bug), then the fix commit is run as it is (it must pass). Both runs happen in a
throwaway detached worktree, through the same check runner as every verify command, so an
agent's test code runs nowhere else; the user's checkout is never touched.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from specflow.engine.attempt import MAX_EVENT_OUTPUT, VerifyFailure
from specflow.errors import InputError

# Our own git calls: no hooks, no configured programs from the repository.
GIT_SAFE = ["-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false"]


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


def _git(repo: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", *GIT_SAFE, *args], cwd=repo, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise InputError(f"git {args[0]} failed: {out.stderr.strip()[:300]}", "check the commits")
    return out.stdout


def check_reproduction(
    repo: Path,
    base: str,
    fixed: str,
    tests: list[str],
    command: str,
    *,
    timeout: float = 600.0,
    log_path: Path | None = None,
) -> Reproduction:
    from specflow.engine.verify import run_checks

    if not tests:
        raise InputError("no reproducing test named", "name the test file in the bugfix spec")
    work = Path(tempfile.mkdtemp(prefix="specflow-repro-"))
    tree = work / "tree"
    log = log_path or work / "reproduce.log"
    cancel = threading.Event()
    try:
        _git(repo, "worktree", "add", "--detach", "--quiet", str(tree), base)
        for rel in tests:
            data = subprocess.run(
                ["git", *GIT_SAFE, "show", f"{fixed}:{rel}"], cwd=repo, capture_output=True
            )
            if data.returncode != 0:
                return Reproduction(False, False, False, f"{rel} is not in the fix commit")
            target = tree / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data.stdout)
        before = run_checks([command], tree, timeout=timeout, log_path=log, cancel=cancel)
        _git(tree, "checkout", "--quiet", "--force", "--detach", fixed)
        _git(tree, "clean", "-fdxq")
        after = run_checks([command], tree, timeout=timeout, log_path=log, cancel=cancel)
    finally:
        subprocess.run(
            ["git", *GIT_SAFE, "worktree", "remove", "--force", str(tree)],
            cwd=repo,
            capture_output=True,
            check=False,
        )
        shutil.rmtree(work, ignore_errors=True)
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
    worktree: Path,
    base: str,
    head: str,
    *,
    timeout: float,
    log: Path,
    emit: Callable[..., Any],
) -> VerifyFailure | None:
    """The engine's verify step for a bugfix's fix task, after its checks passed: reported as
    one more verify (started, then passed or failed), a failure going back to the agent."""
    from specflow.runs.catalogue import Kind

    what = f"{r.command} (must fail on {base[:10]} with only the new test, pass with the fix)"
    emit(Kind.VERIFY_STARTED, commands=[what])
    started = time.monotonic()
    res = check_reproduction(
        worktree, base, head, list(r.tests), r.command, timeout=timeout, log_path=log
    )
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
