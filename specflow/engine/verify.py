"""Run a task's checks (its `verify:` command, then the project's test command) in a worktree.

The checks run the agent's code (its tests, its conftest.py, its package.json scripts), so they
run in the same sandbox as the agent's own commands (`specflow.sandbox`), with the same
allowlisted environment: no keys, no network unless the project allows it, limits.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from specflow.redact import redact
from specflow.sandbox import kill_tree
from specflow.sandbox.output import RedactedLog
from specflow.sandbox.waiting import wait_exit

if TYPE_CHECKING:
    from specflow.sandbox import Confinement, Jail

MAX_FEEDBACK_CHARS = 6_000


@dataclass
class CheckResult:
    ok: bool
    command: str = ""
    output: str = ""  # tail, bounded
    reason: str | None = None
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # CPU the commands used (their waited-for children included)


def run_checks(
    commands: list[str],
    cwd: Path,
    *,
    timeout: float,
    log_path: Path,
    cancel: threading.Event,
    env: dict[str, str] | None = None,
    confinement: Confinement | None = None,
) -> CheckResult:
    """Run each command in turn (shlex-split, no shell) in `confinement` (None: the default of
    `specflow.sandbox.resolve`); stop at the first failure."""
    from specflow.sandbox import resolve

    conf = confinement if confinement is not None else resolve()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    cpu = 0.0
    for command in commands:
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            return CheckResult(False, command, f"cannot parse {command!r}: {exc}", "bad command")
        if not argv:
            continue
        with open(log_path, "ab") as log, conf.jail(cwd) as jail:
            log.write(f"$ {command}\n".encode())
            log.flush()
            offset = log.tell()
            out = RedactedLog(log)  # what the check prints, redacted as it is written
            try:
                proc = _start(argv, cwd, jail, env, out.fd)
            except OSError as exc:
                out.close()
                msg = f"cannot run {argv[0]}: {exc}"
                log.write((msg + "\n").encode())
                return CheckResult(False, command, msg, msg, time.monotonic() - start)
            out.started()
            reason, used = _wait(proc, timeout, cancel)
            cpu += used
            kill_tree(proc, grace=0.5)  # nothing a check started outlives it
            out.close(timeout=2.0)
            limit = jail.cause(proc.returncode)
        if limit is not None:
            reason = f"`{command}` stopped by the sandbox: {limit}"
        elif reason is None and proc.returncode != 0:
            reason = f"`{command}` exited with code {proc.returncode}"
        if reason is not None:
            output = redact(_read_from(log_path, offset, MAX_FEEDBACK_CHARS))
            return CheckResult(False, command, output, reason, time.monotonic() - start, cpu)
    return CheckResult(True, seconds=time.monotonic() - start, cpu_seconds=cpu)


def _start(
    argv: list[str], cwd: Path, jail: Jail, env: dict[str, str] | None, out: int
) -> subprocess.Popen[bytes]:
    """Checks run without API keys, tokens or passwords (an allowlisted environment): a test
    that prints its environment must not leak them into logs or the agent's next prompt."""
    from specflow.sandbox.core import popen_kwargs

    return subprocess.Popen(
        jail.wrap(argv),
        cwd=cwd,
        env=jail.env(os.environ, extra=env),
        stdout=out,
        stderr=subprocess.STDOUT,
        **popen_kwargs(),
    )


def _wait(
    proc: subprocess.Popen[bytes], timeout: float, cancel: threading.Event
) -> tuple[str | None, float]:
    """(why it did not finish, or None; the CPU seconds it used, from the kernel's rusage)."""
    why, used = wait_exit(proc, time.monotonic() + timeout, cancel)
    if why is None:
        return None, used
    kill_tree(proc, grace=1.0)
    return ("cancelled" if why == "cancelled" else f"timed out after {timeout:g} s"), 0.0


def _read_from(path: Path, offset: int, limit: int) -> str:
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        start = max(offset, size - limit)
        fh.seek(start)
        text = fh.read().decode("utf-8", errors="replace")
    if start > offset:
        text = f"… ({start - offset} earlier bytes in {path})\n" + text
    return text
