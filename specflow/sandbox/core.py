"""One confinement for everything untrusted: agent commands, `verify:` lines, `test_command`,
and `cmd:` agents when the project asks for it (docs/security.md).

Backends, best first:

- `bwrap` (bubblewrap): the root filesystem read-only, the worktree the only writable folder
  besides a private /tmp, credential folders of the home directory hidden, its own PID, IPC,
  UTS and (unless `[sandbox].network`) network namespaces, every capability dropped, killed
  with specflow (`--die-with-parent`); when the command ends its PID namespace ends with it,
  so no background process survives.
- `landlock`: writes only beneath the worktree and a private temp folder, no TCP (kernel ABI
  4+), no signals out (ABI 6+), `/proc/<pid>/environ` of outside processes unreadable; the
  launcher is a subreaper that kills every process the command left behind.
- `none`: only with `[sandbox].mode = "off"` (or SPECFLOW_SANDBOX=off): an explicit opt-out.

Both backends add per-command cgroups (processes, memory) where they can be made, and resource
limits (file size, processes, address space when no memory cgroup), and say why a command was
stopped: `Jail.cause()`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from specflow.config import SandboxSection
from specflow.errors import ConfigError
from specflow.sandbox import cgroup
from specflow.sandbox.env import sandbox_env

LAUNCHER = str(Path(__file__).with_name("launch.py"))
BACKENDS = ("auto", "bwrap", "landlock", "off")
_OFF = ("off", "0", "none", "false", "no")
# Hidden inside bwrap: where tools keep credentials (a tmpfs over each folder that exists).
_HIDDEN_HOME = (
    ".ssh", ".aws", ".azure", ".gnupg", ".kube", ".docker", ".config/gcloud", ".config/gh",
    ".config/hub", ".netrc", ".git-credentials", ".pypirc", ".npmrc", ".cargo/credentials.toml",
    ".config/specflow", ".local/share/keyrings",
)  # fmt: skip


# `sh -c _JOIN sh "CGROUP_PROCS_FILES" CMD...`: the shell joins the cgroups, then becomes CMD.
_JOIN = 'for f in $1; do echo $$ > "$f" || exit 126; done; shift; exec "$@"'
_PRLIMIT = {"fsize": "fsize", "nproc": "nproc", "core": "core", "as": "as"}
# Writable under Landlock besides the worktree and the private tmp (not /dev/shm).
_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/ptmx", "/dev/pts")


@lru_cache(maxsize=1)
def bwrap_works() -> str | None:
    """None when bubblewrap can make the namespaces specflow needs here, else why not."""
    exe = shutil.which("bwrap")
    if exe is None:
        return "bubblewrap (bwrap) is not installed"
    probe = [exe, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid"]
    probe += ["--unshare-net", "--unshare-ipc", "--die-with-parent", "--cap-drop", "ALL", "true"]
    try:
        proc = subprocess.run(probe, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap does not run: {exc}"
    if proc.returncode != 0:
        first = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[0]
        return f"bwrap cannot make namespaces here ({first})"
    return None


def landlock_abi() -> int:
    from specflow.sandbox.launch import landlock_abi as abi

    return abi()


@dataclass(frozen=True)
class Confinement:
    """What confines untrusted commands in this run; `jail()` per command."""

    backend: str  # "bwrap" | "landlock" | "none"
    settings: SandboxSection
    why: str = ""  # why not a better backend
    readable: tuple[str, ...] = ()  # shown read-only even under /tmp (the repository, the run)

    @property
    def active(self) -> bool:
        return self.backend != "none"

    def describe(self) -> str:
        """One line for the run's start, e.g. `bwrap (network off, 512 processes, ...)`."""
        if not self.active:
            return 'none: agent commands and checks run unconfined ([sandbox] mode = "off")'
        s = self.settings
        parts = [
            "network " + ("on" if s.network else "off"),
            f"{s.max_processes} processes",
            f"{s.memory_mb} MB",
            f"files up to {s.max_file_mb} MB",
        ]
        if self.backend == "landlock":
            parts.append("writes: worktree + private tmp")
        held = {h.controller for h in cgroup.available()}
        if "pids" not in held and os.geteuid() == 0:
            parts.append("process limit not enforceable as root without a pids cgroup")
        return f"{self.backend} ({', '.join(parts)})"

    def event(self) -> dict[str, Any]:
        s = self.settings
        return {
            "backend": self.backend,
            "network": s.network,
            "cmd_agents": s.cmd_agents,
            "max_processes": s.max_processes,
            "memory_mb": s.memory_mb,
            "max_file_mb": s.max_file_mb,
            "cgroups": [h.controller for h in cgroup.available()] if self.active else [],
            "why": self.why,
            "summary": self.describe(),
        }

    def activate(self) -> None:
        """At the run's start: with Landlock (no PID namespace), make specflow's own process
        non-dumpable, so `/proc/<specflow>/environ` and its memory are closed to commands
        (which run without capabilities)."""
        if self.backend == "landlock" and sys.platform.startswith("linux"):
            import ctypes

            with contextlib.suppress(OSError, AttributeError):
                ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE

    def jail(self, worktree: Path, *, readable: Iterable[str | Path] = ()) -> Jail:
        return Jail(self, Path(worktree), [Path(p) for p in (*self.readable, *readable)])


def resolve(
    settings: SandboxSection | None = None, environ: Mapping[str, str] | None = None
) -> Confinement:
    """The confinement to use, or ConfigError when the one asked for cannot work here."""
    s = settings or SandboxSection()
    env = os.environ if environ is None else environ
    mode = s.mode
    if env.get("SPECFLOW_SANDBOX", "").strip().lower() in _OFF:
        mode = "off"
    if mode == "off":
        return Confinement("none", s, "turned off")
    bwrap_problem = bwrap_works() if mode in ("auto", "bwrap") else "not asked for"
    if bwrap_problem is None:
        return Confinement("bwrap", s)
    if mode == "bwrap":
        raise ConfigError(
            f'[sandbox] mode = "bwrap" but {bwrap_problem}',
            "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap) or set "
            '[sandbox] mode = "auto"',
        )
    abi = landlock_abi()
    if abi >= 2:
        return Confinement("landlock", s, bwrap_problem)
    raise ConfigError(
        f"no confinement for agent commands: {bwrap_problem}, and Linux Landlock is not available",
        "install bubblewrap (apt-get install bubblewrap), or accept running agents unconfined "
        'with [sandbox] mode = "off" in specflow.toml (or SPECFLOW_SANDBOX=off)',
    )


@dataclass
class Jail:
    """One untrusted command: its private tmp, its cgroups, its wrapped argv and env."""

    conf: Confinement
    worktree: Path
    readable: list[Path]
    _tmp: Path | None = None
    _group: cgroup.CommandGroup | None = None
    _cleaned: bool = field(default=False)

    def __enter__(self) -> Jail:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def env(
        self, base: Mapping[str, str], extra: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """The command's environment: allowlisted, credential-free (even when unconfined)."""
        env = sandbox_env(base, extra=extra, pass_env=self.conf.settings.pass_env)
        env["PWD"] = str(self.worktree)
        if self.conf.backend == "bwrap":
            env["TMPDIR"] = "/tmp"
        elif self.conf.backend == "landlock":
            env["TMPDIR"] = str(self._private_tmp())
        return env

    def wrap(self, argv: list[str]) -> list[str]:
        """`argv` as the launcher (and bwrap) will run it."""
        if not self.conf.active:  # unconfined, still: nothing it starts outlives it (close())
            command, self._group = tracked(argv)
            return command
        s = self.conf.settings
        self._group = cgroup.CommandGroup(s.max_processes, s.memory_mb * 1024 * 1024)
        rlimits: dict[str, int] = {
            "fsize": s.max_file_mb * 1024 * 1024,
            "nproc": s.max_processes,
            "core": 0,
        }
        if not self._group.holds_memory:  # address space: looser than resident memory
            rlimits["as"] = s.memory_mb * 4 * 1024 * 1024
        cgroups = self._group.procs_files()
        if self.conf.backend == "landlock":
            spec = {"cgroups": cgroups, "rlimits": rlimits, "reap": True}
            spec["landlock"] = {"rw": self._landlock_rw(), "network": s.network}
            return [sys.executable, "-I", "-S", LAUNCHER, json.dumps(spec), "--", *argv]
        inner = self._bwrap_args() + ["--", *argv]
        prlimit = shutil.which("prlimit")
        if prlimit is None:  # the Python launcher does the same, a few tens of ms slower
            spec = {"cgroups": cgroups, "rlimits": rlimits}
            return [sys.executable, "-I", "-S", LAUNCHER, json.dumps(spec), "--", *inner]
        # The fast path, a shell and prlimit: join the cgroups, set the limits, exec bwrap.
        limits = [f"--{_PRLIMIT[k]}={v}" for k, v in rlimits.items()]
        return ["/bin/sh", "-c", _JOIN, "sh", " ".join(cgroups), prlimit, *limits, "--", *inner]

    def cause(self, returncode: int | None) -> str | None:
        """Why the command was stopped by a limit (None: it ended on its own)."""
        s = self.conf.settings
        if self._group is not None:
            why = self._group.cause()
            if why:
                return why
        if returncode in (-signal.SIGXFSZ, 128 + signal.SIGXFSZ):
            return f"file size limit ({s.max_file_mb} MB) reached"
        if returncode in (-signal.SIGXCPU, 128 + signal.SIGXCPU):
            return "CPU time limit reached"
        return None

    def close(self) -> None:
        """Kill what is left in the command's cgroups; remove them and the private tmp."""
        if self._group is not None:
            self._group.close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    # -- backends ---------------------------------------------------------------------------

    def _private_tmp(self) -> Path:
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="specflow-sbx-"))
        return self._tmp

    def _landlock_rw(self) -> list[str]:
        extra = [p for p in self.conf.settings.writable if os.path.isdir(p)]
        devices = [d for d in _DEVICES if os.path.exists(d)]
        return [str(self.worktree), str(self._private_tmp()), *devices, *extra]

    def _bwrap_args(self) -> list[str]:
        s = self.conf.settings
        tmp = str(self._private_tmp())
        args = [
            shutil.which("bwrap") or "bwrap",
            "--ro-bind", "/", "/",
            "--dev", "/dev",
            "--proc", "/proc",
            "--bind", tmp, "/tmp",
            "--tmpfs", "/var/tmp",
            "--tmpfs", "/dev/shm",
            "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session", "--cap-drop", "ALL",
        ]  # fmt: skip
        if not s.network:
            args.append("--unshare-net")
        home = os.path.expanduser("~")
        for rel in _HIDDEN_HOME:
            hidden = os.path.join(home, rel)
            if os.path.isdir(hidden):
                args += ["--tmpfs", hidden]
            elif os.path.isfile(hidden):
                args += ["--ro-bind", "/dev/null", hidden]
        # /tmp and /var/tmp are private: what the command must see there comes back read-only
        # (a repository that lives under /tmp), and the worktree read-write on top.
        # the Python that runs specflow (a venv inside a clone under /tmp) stays reachable too
        interpreter = [Path(sys.prefix), Path(sys.base_prefix)]
        for seen in [*self.readable, *interpreter]:
            if _under_private(seen) and seen.exists():
                args += ["--ro-bind", str(seen), str(seen)]
        for extra in s.writable:
            if os.path.isdir(extra):
                args += ["--bind", extra, extra]
        wt = str(self.worktree)
        args += ["--bind", wt, wt, "--chdir", wt]
        return args


def _under_private(p: Path) -> bool:
    s = str(p)
    return any(s == d or s.startswith(d + "/") for d in ("/tmp", "/var/tmp", "/dev/shm"))


def tracked(argv: list[str]) -> tuple[list[str], cgroup.CommandGroup]:
    """An unconfined command in a pids cgroup of its own (where one can be made): closing the
    group kills whatever it left behind, `setsid` daemons included, while the process tree
    stays as it was (the shell execs the command)."""
    group = cgroup.CommandGroup(None, None, track=True)
    if not group.dirs:
        return list(argv), group
    return ["/bin/sh", "-c", _JOIN, "sh", " ".join(group.procs_files()), *argv], group


def popen_kwargs() -> dict[str, Any]:
    """What every untrusted command's Popen shares: its own session, no stdin, no fds."""
    return {"stdin": subprocess.DEVNULL, "start_new_session": True, "close_fds": True}


def kill_tree(proc: subprocess.Popen[bytes], grace: float = 1.0) -> None:
    """SIGTERM the command's process group (the landlock launcher then kills every process
    the command started), SIGKILL what is left after `grace` seconds."""
    with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
