"""How a CLI agent process is run and watched: a plain child in its own process group, or (see
`specflow.agents.tmux`) a tmux window. Either way its output lands in a log file, which
`LineTail` reads line by line while it runs, so events reach the run as they happen."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from specflow.agents.cmd import GRACE_S
from specflow.sandbox.core import kill_tree

LOST = -1000  # exit "code" of an agent whose tmux window vanished without a status


@dataclass
class Launch:
    """One agent process to start: argv (never a shell string), where, with what."""

    argv: list[str]
    cwd: Path
    env: dict[str, str]
    log: Path  # stdout and stderr, as printed
    stdin: Path | None = None  # a file fed to stdin, else /dev/null


class Handle(Protocol):
    pid: int

    def poll(self) -> int | None:
        """The exit code once the process has ended, else None."""
        ...

    def stop(self) -> None:
        """Kill the whole process group (SIGTERM, then SIGKILL)."""
        ...

    def reap(self) -> None:
        """After the exit: nothing the agent started may keep running."""
        ...


class PlainHandle:
    def __init__(self, launch: Launch) -> None:
        launch.log.parent.mkdir(parents=True, exist_ok=True)
        stdin = open(launch.stdin, "rb") if launch.stdin else subprocess.DEVNULL  # noqa: SIM115
        try:
            with open(launch.log, "ab") as log:
                self.proc = subprocess.Popen(
                    launch.argv,
                    cwd=launch.cwd,
                    env=launch.env,
                    stdin=stdin,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        finally:
            if not isinstance(stdin, int):
                stdin.close()
        self.pid = self.proc.pid

    def poll(self) -> int | None:
        return self.proc.poll()

    def stop(self) -> None:
        kill_tree(self.proc, grace=GRACE_S)

    def reap(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=2)


class LineTail:
    """Complete lines appended to a file since the last read (a partial last line waits)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.rest = b""

    def lines(self, final: bool = False) -> list[str]:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                data = fh.read()
        except OSError:
            data = b""
        self.offset += len(data)
        data = self.rest + data
        parts = data.split(b"\n")
        self.rest = b"" if final else parts.pop()
        return [p.decode("utf-8", errors="replace").rstrip("\r") for p in parts if p]
