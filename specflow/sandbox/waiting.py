"""Waiting for a command to exit without polling it.

`Popen.wait(timeout)` sleeps 0.5, 1, 2 … 50 ms between `waitpid` calls: about 140 wake-ups a
second for every agent or check that runs, each one taking the GIL from the threads that start
other agents and land their work. On Linux a process's pidfd becomes readable when it exits, so
the waiting thread sleeps in the kernel and wakes only every `TICK` seconds to look at the
cancel flag and the time limit. Elsewhere (no pidfd), `waitpid` every 20 ms as before.
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import threading
import time

TICK = 0.1  # how late a cancel or a time limit may be noticed
_POLL = 0.02  # without a pidfd


def wait_exit(
    proc: subprocess.Popen[bytes], deadline: float | None, cancel: threading.Event | None
) -> tuple[str | None, float]:
    """Wait until `proc` exits (reaped: `proc.returncode` set), `cancel` is set or
    `time.monotonic()` passes `deadline`. (None, CPU seconds it used) when it exited;
    ("cancelled" | "timeout", 0.0) when it is still running (the caller stops it)."""
    fd = _pidfd(proc.pid)
    try:
        while True:
            done = _reap(proc)
            if done is not None:
                return None, done
            if cancel is not None and cancel.is_set():
                return "cancelled", 0.0
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return "timeout", 0.0
            step = TICK if deadline is None else max(0.0, min(TICK, deadline - now))
            if fd is None:
                time.sleep(min(step, _POLL))
            else:
                select.select([fd], [], [], step)
    finally:
        if fd is not None:
            os.close(fd)


def _pidfd(pid: int) -> int | None:
    opener = getattr(os, "pidfd_open", None)
    if opener is None:
        return None
    try:
        return int(opener(pid))
    except OSError:  # an old kernel, a seccomp filter, or the process is gone already
        return None


def _reap(proc: subprocess.Popen[bytes]) -> float | None:
    """The CPU seconds of `proc` if it has exited (reaping it), else None."""
    if proc.returncode is not None:
        return 0.0
    try:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
    except ChildProcessError:  # reaped elsewhere
        with contextlib.suppress(Exception):
            proc.wait(timeout=0)
        if proc.returncode is None:
            proc.returncode = 0
        return 0.0
    if not pid:
        return None
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime
