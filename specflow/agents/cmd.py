"""`--agent cmd:<command>`: any program, run in the worktree, the task handed over by env/file.

The command is split with shlex and run without a shell; the task text only ever reaches the
program through `SPECFLOW_TASK_FILE` (a Markdown brief) and the environment. The program runs
in its own process group so a wall-time limit or a cancel kills everything it started.
Exit 0 means done.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from specflow.agents.base import AgentResult, AgentTask, EventSink
from specflow.errors import InputError
from specflow.sandbox.core import kill_tree, tracked
from specflow.sandbox.output import RedactedLog
from specflow.sandbox.waiting import wait_exit

if TYPE_CHECKING:
    from specflow.sandbox import Confinement, Jail

_INTERPRETERS = {"python", "python3", "bash", "sh", "node", "ruby", "perl", "uv", "deno"}
GRACE_S = 2.0  # SIGTERM to SIGKILL when an agent is stopped
_SCRIPT_SUFFIXES = {".py", ".sh", ".bash", ".js", ".mjs", ".ts", ".rb", ".pl"}


class CmdAgent:
    def __init__(
        self,
        command: str,
        *,
        log_dir: Path | None = None,
        confinement: Confinement | None = None,
    ) -> None:
        """`confinement`: run the program in the sandbox (`[sandbox].cmd_agents = true`), with
        an allowlisted environment; None: unconfined, with specflow's environment."""
        try:
            self.argv = shlex.split(command)
        except ValueError as exc:
            raise InputError(f"cannot parse agent command {command!r}: {exc}") from None
        if not self.argv:
            raise InputError("empty agent command", "use --agent 'cmd:<program> [args]'")
        self.command = command
        self.name = f"cmd:{Path(self.argv[0]).name}"
        self.log_dir = log_dir
        self.invoked_from = Path.cwd()
        self.confinement = confinement

    def env_for(self, job: AgentTask, jail: Jail | None = None) -> dict[str, str]:
        env = dict(os.environ) if jail is None else {}
        env.update(
            SPECFLOW_TASK_ID=job.task.id,
            SPECFLOW_TASK_FILE=str(job.brief_path),
            SPECFLOW_FEATURE=job.feature,
            SPECFLOW_WORKTREE=str(job.worktree),
            SPECFLOW_ATTEMPT=str(job.attempt),
            SPECFLOW_RUN_ID=job.run_id,
            PWD=str(job.worktree),
        )
        env.pop("SPECFLOW_FEEDBACK_FILE", None)
        if job.feedback is not None:
            fb = job.brief_path.with_name(f"{job.task.id}.feedback-{job.attempt}.md")
            fb.write_text(job.feedback, encoding="utf-8")
            env["SPECFLOW_FEEDBACK_FILE"] = str(fb)
        if job.model:
            env["SPECFLOW_MODEL"] = job.model
        return env if jail is None else jail.env(os.environ, extra=env)

    def run(self, job: AgentTask, emit: EventSink, cancel: threading.Event) -> AgentResult:
        log_path = self._log_path(job)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        start = time.monotonic()
        jail = self.confinement.jail(job.worktree) if self.confinement is not None else None
        argv = self.argv_for(job.worktree)
        with open(log_path, "ab") as log, contextlib.ExitStack() as stack:
            if jail is not None:
                stack.enter_context(jail)
                command = jail.wrap(argv)
            else:  # unconfined, still: nothing it starts outlives it
                command, group = tracked(argv)
                stack.callback(group.close)
            out = RedactedLog(log)  # keys never reach the log in clear, even on kill -9
            try:
                proc = subprocess.Popen(
                    command,
                    cwd=job.worktree,
                    env=self.env_for(job, jail),
                    stdin=subprocess.DEVNULL,
                    stdout=out.fd,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as exc:
                out.close()
                return AgentResult(ok=False, reason=f"cannot start {self.argv[0]}: {exc}")
            out.started()
            emit("agent_process", pid=proc.pid, command=self.command, log=str(log_path))
            reason = _wait(proc, job.limits.max_seconds, start, cancel)
            # Exit of the leader ends the attempt: nothing it left behind may keep writing.
            kill_tree(proc, grace=0.5)
            out.close(timeout=2.0)
            limit = jail.cause(proc.returncode) if jail is not None else None
        reason = reason or limit
        code = proc.returncode
        if reason is None and code != 0:
            reason = f"exit code {code}"
        tail = _tail(log_path, 2000)
        return AgentResult(ok=reason is None, summary=tail, reason=reason, steps=1)

    def argv_for(self, worktree: Path) -> list[str]:
        """The program (or the script an interpreter runs) given as a relative path that is
        not in the worktree — an uncommitted helper script next to the user's checkout — is
        taken from where specflow was invoked. Other arguments are left alone: a relative path
        there means a file in the worktree."""
        argv = list(self.argv)
        positions = [0]
        if Path(argv[0]).name.rstrip("0123456789.") in _INTERPRETERS and len(argv) > 1:
            positions.append(1)
        for i in positions:
            arg = argv[i]
            if arg.startswith("-") or Path(arg).is_absolute() or (i == 0 and "/" not in arg):
                continue
            if not (worktree / arg).exists() and (self.invoked_from / arg).is_file():
                argv[i] = str((self.invoked_from / arg).resolve())
        return argv

    def _log_path(self, job: AgentTask) -> Path:
        if self.log_dir is not None:
            return self.log_dir / job.task.id / f"agent-{job.attempt}.log"
        return job.brief_path.with_name(f"{job.task.id}.agent-{job.attempt}.log")


def _wait(
    proc: subprocess.Popen[bytes], max_seconds: float, start: float, cancel: threading.Event
) -> str | None:
    """Wait for the program; kill its process group on timeout or cancel. Returns why it stopped
    early, or None if it exited on its own."""
    why, _ = wait_exit(proc, start + max_seconds, cancel)
    if why is None:
        return None
    kill_tree(proc, grace=GRACE_S)
    return "cancelled" if why == "cancelled" else f"time limit ({max_seconds:g} s)"


def pid_alive(pid: int) -> bool:
    """Whether process `pid` exists (a zombie not reaped yet counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def _tail(path: Path, limit: int) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - limit))
            return fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def check_command(command: str, invoked_from: Path, repo_root: Path | None = None) -> None:
    """Refuse a `cmd:` agent whose program (or the script its interpreter runs) is not there,
    before any branch or worktree exists. Relative paths are looked up where CmdAgent.argv_for
    finds them: the invocation folder, or the repository (what the worktree will hold)."""
    argv = CmdAgent(command).argv
    positions = [0]
    if Path(argv[0]).name.rstrip("0123456789.") in _INTERPRETERS and len(argv) > 1:
        positions.append(1)
    for i in positions:
        arg = argv[i]
        if arg.startswith("-"):
            return  # `python -m module`, `bash -c …`: nothing to look up
        if i == 1 and "/" not in arg and Path(arg).suffix not in _SCRIPT_SUFFIXES:
            return  # `uv run …`, `deno run …`: a subcommand, not a script
        if i == 0 and "/" not in arg:
            if shutil.which(arg) is None:
                raise InputError(
                    f"agent program '{arg}' is not on PATH",
                    "install it, or give its path: --agent 'cmd:/path/to/program'",
                )
            continue
        places = [Path(arg)] if Path(arg).is_absolute() else [invoked_from / arg]
        if repo_root is not None and not Path(arg).is_absolute():
            places.append(repo_root / arg)
        if not any(p.is_file() for p in places):
            raise InputError(
                f"agent {'program' if i == 0 else 'script'} '{arg}' does not exist",
                "check the path given to --agent; a relative path starts at this folder",
            )
