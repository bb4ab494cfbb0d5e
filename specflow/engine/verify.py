"""Run a task's checks (its `verify:` command, then the project's test command) in a worktree."""

from __future__ import annotations

import os
import shlex
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from specflow.agents.cmd import kill_group
from specflow.redact import redact

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
) -> CheckResult:
    """Run each command in turn (shlex-split, no shell); stop at the first failure."""
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
        with open(log_path, "ab") as log:
            log.write(f"$ {command}\n".encode())
            log.flush()
            offset = log.tell()
            try:
                proc = subprocess.Popen(
                    argv,
                    cwd=cwd,
                    env={**_check_env(), **(env or {})},
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as exc:
                msg = f"cannot run {argv[0]}: {exc}"
                log.write((msg + "\n").encode())
                return CheckResult(False, command, msg, msg, time.monotonic() - start)
            reason, used = _wait(proc, timeout, cancel)
            cpu += used
        if reason is None and proc.returncode != 0:
            reason = f"`{command}` exited with code {proc.returncode}"
        if reason is not None:
            output = redact(_read_from(log_path, offset, MAX_FEEDBACK_CHARS))
            return CheckResult(False, command, output, reason, time.monotonic() - start, cpu)
    return CheckResult(True, seconds=time.monotonic() - start, cpu_seconds=cpu)


def _check_env() -> dict[str, str]:
    """Checks run without API keys, tokens or passwords: a test that prints its environment
    must not leak them into logs or into the agent's next prompt."""
    from specflow.agents.builtin.runner import is_secret_name

    return {k: v for k, v in os.environ.items() if not is_secret_name(k)}


def _wait(
    proc: subprocess.Popen[bytes], timeout: float, cancel: threading.Event
) -> tuple[str | None, float]:
    """(why it did not finish, or None; the CPU seconds it used, from the kernel's rusage)."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return None, usage.ru_utime + usage.ru_stime
        if cancel.is_set():
            kill_group(proc, grace=1.0)
            return "cancelled", 0.0
        if time.monotonic() > deadline:
            kill_group(proc, grace=1.0)
            return f"timed out after {timeout:g} s", 0.0
        time.sleep(0.02)


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
