"""Run one command for the builtin agent: argv only, inside the worktree, in the sandbox.

No shell ever sees the command (a string is split with shlex), so text from a task title such as
`$(touch pwned)` stays a literal argument. The command runs in the run's confinement
(`specflow.sandbox`: bubblewrap or Landlock, an allowlisted environment, limits), so a timeout,
a cancel or its own end kills everything it started. Output goes to a temp file (never a pipe
that could fill up) and comes back bounded: head and tail.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from specflow.agents.builtin.sandbox import ToolError

if TYPE_CHECKING:
    from specflow.sandbox import Confinement


def to_argv(command: object) -> list[str]:
    """A list of strings from what the model sent: a list as is, a string split with shlex."""
    if isinstance(command, str):
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise ToolError(f"cannot split command: {exc}") from None
    elif isinstance(command, list) and all(isinstance(a, str) for a in command):
        argv = list(command)
    else:
        raise ToolError("command must be a list of strings (argv) or a string")
    if not argv:
        raise ToolError("empty command")
    return argv


@dataclass
class RunOutcome:
    argv: list[str]
    exit_code: int | None  # None when killed for a timeout or a cancel
    output: str
    timed_out: bool = False
    cancelled: bool = False
    duration_s: float = 0.0
    limit: str | None = None  # a sandbox limit that stopped it ("memory limit (…) reached")

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def bounded(text: str, limit: int, *, head_share: float = 0.4) -> str:
    """`text` cut to about `limit` characters, keeping its head and its tail."""
    if len(text) <= limit:
        return text
    head = int(limit * head_share)
    tail = limit - head
    omitted = len(text) - head - tail
    return f"{text[:head]}\n[... {omitted} characters omitted ...]\n{text[-tail:]}"


def _read_bounded(fh: IO[bytes], limit: int) -> str:
    size = fh.seek(0, os.SEEK_END)
    if size <= limit:
        fh.seek(0)
        return fh.read().decode("utf-8", errors="replace")
    head = int(limit * 0.4)
    tail = limit - head
    fh.seek(0)
    first = fh.read(head).decode("utf-8", errors="replace")
    fh.seek(size - tail)
    last = fh.read(tail).decode("utf-8", errors="replace")
    return f"{first}\n[... {size - head - tail} bytes omitted ...]\n{last}"


def run_command(
    argv: list[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout_s: float,
    cancel: threading.Event | None = None,
    max_output: int = 12_000,
    confinement: Confinement | None = None,
) -> RunOutcome:
    """Run `argv` in `cwd` (no shell) in `confinement` (None: the project's default, see
    `specflow.sandbox.resolve`); kill everything it started on timeout, cancel or exit."""
    from specflow.sandbox import kill_tree, resolve
    from specflow.sandbox.core import popen_kwargs
    from specflow.sandbox.waiting import wait_exit

    conf = confinement if confinement is not None else resolve()
    if "/" not in argv[0] and shutil.which(argv[0], path=env.get("PATH")) is None:
        raise ToolError(f"command not found: {argv[0]}")
    start = time.monotonic()
    with tempfile.TemporaryFile() as out, conf.jail(cwd) as jail:
        try:
            proc = subprocess.Popen(
                jail.wrap(argv),
                cwd=cwd,
                env=jail.env(env),
                stdout=out,
                stderr=subprocess.STDOUT,
                **popen_kwargs(),
            )
        except FileNotFoundError:
            raise ToolError(f"command not found: {argv[0]}") from None
        except PermissionError:
            raise ToolError(f"permission denied: {argv[0]}") from None
        except OSError as exc:
            raise ToolError(f"cannot start {argv[0]}: {exc.strerror or exc}") from None
        try:
            why, _ = wait_exit(proc, start + timeout_s, cancel)
        finally:
            kill_tree(proc, grace=0.5)  # also whatever it left running in the background
        limit = jail.cause(proc.returncode)
        output = _read_bounded(out, max_output)
    timed_out, cancelled = why == "timeout", why == "cancelled"
    code = None if why is not None else proc.returncode
    return RunOutcome(
        argv=argv,
        exit_code=code,
        output=output,
        timed_out=timed_out,
        cancelled=cancelled,
        duration_s=time.monotonic() - start,
        limit=limit,
    )


def describe(outcome: RunOutcome) -> str:
    """The tool result text for the model."""
    cmd = shlex.join(outcome.argv)
    if outcome.timed_out:
        head = f"$ {cmd}\n[killed: timed out after {outcome.duration_s:.0f}s]"
    elif outcome.cancelled:
        head = f"$ {cmd}\n[killed: cancelled]"
    elif outcome.limit:
        head = f"$ {cmd}\n[stopped by the sandbox: {outcome.limit}; exit code {outcome.exit_code}]"
    else:
        head = f"$ {cmd}\n[exit code {outcome.exit_code}]"
    body = outcome.output.rstrip("\n")
    return f"{head}\n{body}" if body else f"{head}\n(no output)"
