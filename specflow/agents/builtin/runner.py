"""Run one command for the builtin agent: argv only, inside the worktree, secrets scrubbed.

No shell ever sees the command (a string is split with shlex), so text from a task title such as
`$(touch pwned)` stays a literal argument. The child gets its own process group, so a timeout or a
cancel kills everything it started. Output goes to a temp file (never a pipe that could fill up)
and comes back bounded: head and tail.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from specflow.agents.builtin.sandbox import ToolError

_SECRET_SUFFIXES = ("_KEY", "_TOKEN", "_SECRET", "_CREDENTIALS")
_SECRET_PARTS = ("PASSWORD", "PASSWD")
# These would point git (run by the agent inside the worktree) at some other repository.
_GIT_REDIRECTS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY")


def is_secret_name(name: str) -> bool:
    upper = name.upper()
    return upper.endswith(_SECRET_SUFFIXES) or any(p in upper for p in _SECRET_PARTS)


def scrub_env(environ: Mapping[str, str], worktree: Path) -> dict[str, str]:
    """The environment for an agent's command: no API keys, tokens, secrets or passwords."""
    env = {k: v for k, v in environ.items() if not is_secret_name(k) and k not in _GIT_REDIRECTS}
    env["PWD"] = str(worktree)
    if not env.get("PYTHONDONTWRITEBYTECODE"):  # empty means "write", as if unset
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["GIT_TERMINAL_PROMPT"] = "0"
    # Plain output: no pagers waiting for a terminal, no colour codes costing tokens.
    for key, value in (("PAGER", "cat"), ("GIT_PAGER", "cat"), ("NO_COLOR", "1")):
        env.setdefault(key, value)
    return env


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


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError, OSError):
        proc.kill()


def run_command(
    argv: list[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout_s: float,
    cancel: threading.Event | None = None,
    max_output: int = 12_000,
    confine: bool = False,
) -> RunOutcome:
    """Run `argv` in `cwd` (no shell); kill its whole process group on timeout or cancel.
    With `confine`, the command's writes are limited to `cwd` and temp folders (see jail.py)."""
    from specflow.agents.builtin import jail

    start = time.monotonic()
    command = jail.wrap(argv, str(cwd)) if confine else argv
    with tempfile.TemporaryFile() as out:
        try:
            proc = subprocess.Popen(
                command,
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )
        except FileNotFoundError:
            raise ToolError(f"command not found: {argv[0]}") from None
        except PermissionError:
            raise ToolError(f"permission denied: {argv[0]}") from None
        except OSError as exc:
            raise ToolError(f"cannot start {argv[0]}: {exc.strerror or exc}") from None
        timed_out = cancelled = False
        deadline = start + timeout_s
        try:
            while True:
                try:
                    proc.wait(timeout=0.05)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if cancel is not None and cancel.is_set():
                    cancelled = True
                    break
                if time.monotonic() >= deadline:
                    timed_out = True
                    break
        finally:
            # Also reaps anything the command left running in the background.
            _kill_group(proc)
            proc.wait()
        output = _read_bounded(out, max_output)
    code = None if (timed_out or cancelled) else proc.returncode
    return RunOutcome(
        argv=argv,
        exit_code=code,
        output=output,
        timed_out=timed_out,
        cancelled=cancelled,
        duration_s=time.monotonic() - start,
    )


def describe(outcome: RunOutcome) -> str:
    """The tool result text for the model."""
    cmd = shlex.join(outcome.argv)
    if outcome.timed_out:
        head = f"$ {cmd}\n[killed: timed out after {outcome.duration_s:.0f}s]"
    elif outcome.cancelled:
        head = f"$ {cmd}\n[killed: cancelled]"
    else:
        head = f"$ {cmd}\n[exit code {outcome.exit_code}]"
    body = outcome.output.rstrip("\n")
    return f"{head}\n{body}" if body else f"{head}\n(no output)"
