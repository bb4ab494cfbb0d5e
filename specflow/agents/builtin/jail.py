"""Confine the builtin agent's commands' writes to the worktree with Linux Landlock.

The file tools check every path; a command is arbitrary code, so its writes are confined by the
kernel instead: a tiny wrapper (this file, run as a stdlib-only script with `python -I -S`)
restricts itself with Landlock — writes allowed only beneath the worktree, the temp folders,
/dev and the user's cache folder; reads and execution everywhere — and then execs the command.
A wrapper rather than `preexec_fn`, because the engine runs agents in threads and `preexec_fn`
is not safe there.

Where Landlock is missing (macOS, old kernels, some containers) commands run unconfined; the
file tools' checks hold either way. `SPECFLOW_SANDBOX=off` turns the jail off;
`SPECFLOW_SANDBOX_WRITABLE` (paths separated by os.pathsep) adds writable folders.
"""

from __future__ import annotations

import ctypes
import os
import sys
import tempfile
from functools import lru_cache

_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446  # the same number on every arch
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

# Write-like rights: everything but EXECUTE (1), READ_FILE (4) and READ_DIR (8).
_WRITE_FILE = 1 << 1
_ABI1_WRITES = _WRITE_FILE | sum(1 << b for b in range(4, 13))  # remove, make_*
_REFER = 1 << 13  # ABI 2: moving files between folders
_TRUNCATE = 1 << 14  # ABI 3


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = (("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32))


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


@lru_cache(maxsize=1)
def landlock_abi() -> int:
    """The kernel's Landlock ABI version; 0 when unavailable (or not Linux)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        version = int(_libc().syscall(_CREATE_RULESET, None, 0, _CREATE_RULESET_VERSION))
    except (OSError, AttributeError):
        return 0
    return max(version, 0)


def enabled() -> bool:
    """Landlock is usable (ABI 2+, so files may move between allowed folders) and not off."""
    if os.environ.get("SPECFLOW_SANDBOX", "").lower() in ("off", "0", "none", "false"):
        return False
    return landlock_abi() >= 2


def writable_dirs(worktree: str) -> list[str]:
    home_cache = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    dirs = [worktree, tempfile.gettempdir(), "/tmp", "/var/tmp", "/dev", home_cache]
    extra = os.environ.get("SPECFLOW_SANDBOX_WRITABLE", "")
    dirs += [d for d in extra.split(os.pathsep) if d]
    return [d for d in dict.fromkeys(dirs) if os.path.isdir(d)]


def wrap(argv: list[str], worktree: str) -> list[str]:
    """`argv` run through this wrapper with writes confined (when Landlock is enabled)."""
    if not enabled():
        return argv
    args = [sys.executable, "-I", "-S", os.path.abspath(__file__)]
    for d in writable_dirs(worktree):
        args += ["--rw", d]
    return [*args, "--", *argv]


def restrict(writable: list[str]) -> None:
    """Confine this process (and what it execs) to writing beneath `writable`."""
    abi = landlock_abi()
    if abi < 2:
        raise OSError("landlock is not available")
    handled = _ABI1_WRITES | _REFER | (_TRUNCATE if abi >= 3 else 0)
    libc = _libc()
    attr = ctypes.c_uint64(handled)  # struct landlock_ruleset_attr, handled_access_fs only
    ruleset = int(libc.syscall(_CREATE_RULESET, ctypes.byref(attr), ctypes.sizeof(attr), 0))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset")
    try:
        for path in writable:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            try:
                rule = _PathBeneath(handled, fd)
                if libc.syscall(_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0):
                    raise OSError(ctypes.get_errno(), f"landlock_add_rule {path}")
            finally:
                os.close(fd)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0):
            raise OSError(ctypes.get_errno(), "prctl(NO_NEW_PRIVS)")
        if libc.syscall(_RESTRICT_SELF, ruleset, 0):
            raise OSError(ctypes.get_errno(), "landlock_restrict_self")
    finally:
        os.close(ruleset)


def _main(args: list[str]) -> int:
    writable: list[str] = []
    while args and args[0] == "--rw":
        writable.append(args[1])
        args = args[2:]
    if not args or args[0] != "--":
        print("usage: jail.py [--rw DIR]... -- COMMAND...", file=sys.stderr)
        return 2
    argv = args[1:]
    try:
        restrict(writable)
    except OSError as exc:
        print(f"specflow jail: cannot confine the command: {exc}", file=sys.stderr)
        return 126
    try:
        os.execvp(argv[0], argv)
    except FileNotFoundError:
        print(f"command not found: {argv[0]}", file=sys.stderr)
        return 127
    except OSError as exc:
        print(f"cannot run {argv[0]}: {exc.strerror or exc}", file=sys.stderr)
        return 126


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
