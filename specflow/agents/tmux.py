"""`--tmux`: CLI agents run in windows of a tmux session `specflow-<feature>`, one window per
task named by its id, so a person can watch any agent live or take over (`specflow attach T012`).

The pane runs a small wrapper (`clis/_wrapper.py`) that starts the agent, tees its output into
the run's log (so events and `specflow log` work as without tmux) and writes the exit code to a
status file. The window closes when the agent ends. Where each window lives is recorded in the
run's events (`agent_tmux`), which is how `specflow attach` finds it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from specflow.agents.base import AgentTask, EventSink
from specflow.agents.clis.proc import LOST, Launch
from specflow.agents.cmd import pid_alive
from specflow.errors import InputError

WRAPPER = Path(__file__).with_name("clis") / "_wrapper.py"
_FORMAT = "#{pane_pid} #{window_id} #{socket_path}"
_GRACE_S = 2.0


def session_name(feature: str) -> str:
    return "specflow-" + re.sub(r"[^A-Za-z0-9_-]", "-", feature)


class TmuxLauncher:
    _lock = threading.Lock()  # two tasks must not both create the session

    def __init__(self, tmux: str) -> None:
        self.tmux = tmux

    @classmethod
    def create(cls) -> TmuxLauncher:
        found = shutil.which("tmux")
        if not found:
            raise InputError(
                "tmux not found on PATH", "install tmux (apt install tmux), or run without --tmux"
            )
        return cls(found)

    def start(self, launch: Launch, job: AgentTask, emit: EventSink) -> TmuxHandle:
        session = session_name(job.feature)
        status = launch.log.with_name(launch.log.stem + ".status")
        status.unlink(missing_ok=True)
        spec = launch.log.with_name(launch.log.stem + ".tmux.json")
        fd = os.open(spec, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(
                {
                    "argv": launch.argv,
                    "cwd": str(launch.cwd),
                    "env": launch.env,
                    "log": str(launch.log),
                    "stdin": str(launch.stdin) if launch.stdin else None,
                    "status": str(status),
                    "title": f"{job.task.id} {job.task.title} (attempt {job.attempt})",
                },
                fh,
            )
        where = [
            "-n",
            job.task.id,
            "-c",
            str(launch.cwd),
            "-P",
            "-F",
            _FORMAT,
        ]
        cmd = [sys.executable, str(WRAPPER), str(spec), job.run_id]
        with self._lock:
            if self._tmux("has-session", "-t", f"={session}").returncode == 0:
                res = self._tmux("new-window", "-d", "-t", f"={session}:", *where, *cmd)
            else:
                res = self._tmux("new-session", "-d", "-s", session, *where, *cmd)
        if res.returncode != 0:
            spec.unlink(missing_ok=True)
            raise InputError(f"tmux could not open a window: {res.stderr.strip()}")
        pid, window_id, socket = res.stdout.strip().split(" ", 2)
        emit(
            "agent_tmux",
            session=session,
            window=job.task.id,
            window_id=window_id,
            socket=socket,
            attach=shlex.join(attach_argv(socket, session, window_id)),
        )
        return TmuxHandle(self, int(pid), window_id, socket, status)

    def _tmux(self, *args: str, socket: str | None = None) -> subprocess.CompletedProcess[str]:
        base = [self.tmux, *(["-S", socket] if socket else [])]
        return subprocess.run([*base, *args], capture_output=True, text=True, check=False)


class TmuxHandle:
    def __init__(
        self, launcher: TmuxLauncher, pid: int, window_id: str, socket: str, status: Path
    ) -> None:
        self.launcher = launcher
        self.pid = pid
        self.window_id = window_id
        self.socket = socket
        self.status = status
        self._gone_at: float | None = None

    def poll(self) -> int | None:
        code = self._status()
        if code is not None:
            return code
        if pid_alive(self.pid):
            return None
        # The pane is gone: its status may still be on its way to the disk, for a moment.
        self._gone_at = self._gone_at or time.monotonic()
        return LOST if time.monotonic() - self._gone_at > 0.5 else None

    def _status(self) -> int | None:
        try:
            return int(self.status.read_text().strip())
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + _GRACE_S
        while pid_alive(self.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.reap()

    def reap(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        self.launcher._tmux("kill-window", "-t", self.window_id, socket=self.socket)


def attach_argv(socket: str, session: str, window_id: str, *, inside: bool = False) -> list[str]:
    verb = "switch-client" if inside else "attach-session"
    return ["tmux", "-S", socket, verb, "-t", f"={session}:{window_id}"]


# -- specflow attach ------------------------------------------------------------------------


@dataclass
class AttachTarget:
    task: str
    run_id: str
    session: str
    window_id: str
    socket: str

    def argv(self, inside: bool) -> list[str]:
        return attach_argv(self.socket, self.session, self.window_id, inside=inside)


def find_window(state_dir: Path, run_id: str, task: str) -> AttachTarget:
    """The live tmux window of `task` in run `run_id`, or an InputError saying why there is none."""
    from specflow.runs.events import read_events
    from specflow.runs.state import TERMINAL, RunPaths, rebuild

    task = task.strip().upper()
    paths = RunPaths(state_dir, run_id)
    records = rebuild(paths.events)
    rec = records.get(task)
    if rec is None:
        raise InputError(f"task {task} is not part of run {run_id}", "see 'specflow status'")
    if rec.status in TERMINAL:
        raise InputError(
            f"{task} has finished ({rec.status}) in run {run_id}; nothing to attach to",
            f"see 'specflow log {run_id} --task {task}'",
        )
    windows = [
        ev
        for ev in read_events(paths.events)
        if ev.get("kind") == "agent_tmux" and ev.get("task") == task
    ]
    if not windows:
        hint = "start the run with 'specflow implement --tmux'"
        if rec.status == "pending":
            raise InputError(f"{task} has not started yet in run {run_id}", hint)
        raise InputError(f"{task} is not running in tmux in run {run_id}", hint)
    ev = windows[-1]
    target = AttachTarget(task, run_id, str(ev["session"]), str(ev["window_id"]), str(ev["socket"]))
    tmux = shutil.which("tmux") or "tmux"
    res = subprocess.run(
        [
            tmux,
            "-S",
            target.socket,
            "list-windows",
            "-t",
            f"={target.session}",
            "-F",
            "#{window_id}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if target.window_id not in res.stdout.split():
        raise InputError(
            f"{task}'s tmux window is gone (its agent attempt ended); nothing to attach to",
            f"see 'specflow log {run_id} --task {task}'",
        )
    return target
