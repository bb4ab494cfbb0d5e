"""Per-command cgroups: the process and memory limits that hold even when specflow runs as root.

`RLIMIT_NPROC` is not enforced for root (CI runs as root), so a fork bomb is held by a `pids`
cgroup instead; a `memory` cgroup ends a runaway allocation without touching its neighbours.
Works with cgroup v1 hierarchies (`/sys/fs/cgroup/pids`, `/sys/fs/cgroup/memory`) and with a
cgroup v2 tree whose current group delegates the controllers. Where neither can be written
(an unprivileged user without delegation), `available()` is empty and the caller falls back to
resource limits.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_COUNTER = itertools.count(1)


@dataclass(frozen=True)
class Hierarchy:
    controller: str  # "pids" or "memory"
    base: Path  # the folder under which per-command groups are made
    v2: bool


def _mounts() -> list[tuple[str, str, str]]:
    """(mount point, fs type, super options) of every cgroup mount."""
    out: list[tuple[str, str, str]] = []
    try:
        text = Path("/proc/self/mountinfo").read_text()
    except OSError:
        return out
    for line in text.splitlines():
        left, _, right = line.partition(" - ")
        fields, rfields = left.split(), right.split()
        if len(fields) >= 5 and len(rfields) >= 3 and rfields[0] in ("cgroup", "cgroup2"):
            out.append((fields[4], rfields[0], rfields[2]))
    return out


def _own_paths() -> dict[str, str]:
    """controller (or '' for v2) -> this process's cgroup path."""
    out: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for c in controllers.split(",") if controllers else [""]:
                out[c] = path
    return out


def _writable_base(base: Path) -> bool:
    probe = base / f"specflow-probe-{os.getpid()}"
    try:
        probe.mkdir()
    except OSError:
        return False
    with contextlib.suppress(OSError):
        probe.rmdir()
    return True


@lru_cache(maxsize=1)
def available() -> tuple[Hierarchy, ...]:
    """The controllers specflow can use for its commands (cached for the process)."""
    if not os.path.isdir("/sys/fs/cgroup"):
        return ()
    own = _own_paths()
    found: dict[str, Hierarchy] = {}
    for mount, fstype, opts in _mounts():
        if fstype == "cgroup":
            for ctl in ("pids", "memory"):
                if ctl in opts.split(",") and ctl not in found and ctl in own:
                    base = Path(mount) / own[ctl].lstrip("/")
                    if _writable_base(base):
                        found[ctl] = Hierarchy(ctl, base, False)
        elif fstype == "cgroup2" and "" in own:
            base = Path(mount) / own[""].lstrip("/")
            try:
                delegated = (base / "cgroup.subtree_control").read_text().split()
            except OSError:
                continue
            for ctl in ("pids", "memory"):
                if ctl in delegated and ctl not in found and _writable_base(base):
                    found[ctl] = Hierarchy(ctl, base, True)
    for h in found.values():
        _sweep(h.base)
    return tuple(found[c] for c in ("pids", "memory") if c in found)


def _sweep(base: Path) -> None:
    """Remove the empty groups of specflow processes that are gone (killed with -9)."""
    for d in base.glob("specflow-*-*"):
        pid = d.name.split("-")[1]
        if pid.isdigit() and not os.path.exists(f"/proc/{pid}") and not _members(d):
            with contextlib.suppress(OSError):
                d.rmdir()


class CommandGroup:
    """One command's cgroups: made before it starts, read and removed after it ends."""

    def __init__(
        self, max_processes: int | None, memory_bytes: int | None, *, track: bool = False
    ) -> None:
        """`track`: a pids group even without a limit, to find every process later."""
        self.dirs: dict[str, Path] = {}
        self.max_processes = max_processes
        self.memory_bytes = memory_bytes
        name = f"specflow-{os.getpid()}-{next(_COUNTER)}"
        for h in available():
            limit: int | str | None = max_processes if h.controller == "pids" else memory_bytes
            if limit is None and track and h.controller == "pids":
                limit = "max"
            if limit is None:
                continue
            d = h.base / name
            try:
                d.mkdir()
                if h.controller == "pids":
                    (d / "pids.max").write_text(str(limit))
                elif h.v2:
                    (d / "memory.max").write_text(str(limit))
                    with contextlib.suppress(OSError):
                        (d / "memory.swap.max").write_text("0")
                else:
                    (d / "memory.limit_in_bytes").write_text(str(limit))
                    with contextlib.suppress(OSError):
                        (d / "memory.memsw.limit_in_bytes").write_text(str(limit))
            except OSError:
                with contextlib.suppress(OSError):
                    d.rmdir()
                continue
            self.dirs[h.controller] = d

    @property
    def holds_processes(self) -> bool:
        return "pids" in self.dirs

    @property
    def holds_memory(self) -> bool:
        return "memory" in self.dirs

    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs.values()]

    def cause(self) -> str | None:
        """Why the command was stopped, when a limit of this group was hit."""
        pids = self.dirs.get("pids")
        if pids is not None and _event_count(pids / "pids.events", "max") > 0:
            return f"process limit ({self.max_processes} processes) reached"
        mem = self.dirs.get("memory")
        if mem is not None:
            hit = _event_count(mem / "memory.events", "oom_kill") or _event_count(
                mem / "memory.oom_control", "oom_kill"
            )
            if hit > 0:
                mb = (self.memory_bytes or 0) // (1024 * 1024)
                return f"memory limit ({mb} MB) reached"
        return None

    def close(self) -> None:
        """Kill whatever is still in the groups, then remove them."""
        for d in self.dirs.values():
            for _ in range(100):
                pids = _members(d)
                if not pids:
                    break
                for pid in pids:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
                time.sleep(0.01)
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
        self.dirs.clear()


def _members(d: Path) -> list[int]:
    try:
        return [int(p) for p in (d / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


def _event_count(path: Path, key: str) -> int:
    try:
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value.strip() or 0)
    except (OSError, ValueError):
        return 0
    return 0
