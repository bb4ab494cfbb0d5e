"""The sandbox launcher: a stdlib-only script run as `python -I -S launch.py SPEC -- ARGV...`.

It prepares itself and then becomes (or starts) the untrusted command:

1. joins the attempt's cgroups (process and memory limits that hold even for root);
2. sets resource limits (file size, address space, CPU time, processes, no core dumps);
3. with `landlock`, confines itself with Linux Landlock: writes only beneath the given folders,
   no TCP unless the network is allowed (ABI 4+), no signals to or abstract sockets of
   processes outside (ABI 6+). Landlock also keeps `/proc/<pid>/environ` of every process
   outside the domain unreadable;
4. with `reap`, becomes a child subreaper, runs the command as its child and, when it exits,
   kills everything it left behind (orphans, `setsid` daemons) before exiting with its status.
   Without `reap` it execs the command (bubblewrap's PID namespace does the reaping).

A wrapper rather than `preexec_fn`: the engine runs commands from threads, where `preexec_fn`
is not safe. SPEC is one JSON object (see `specflow.sandbox.core.Jail.wrap`).
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import sys

_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446  # the same number on every arch
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_CHILD_SUBREAPER = 36
_PR_CAPBSET_DROP = 24
_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

# Write-like rights: everything but EXECUTE (1), READ_FILE (4) and READ_DIR (8).
_WRITE_FILE = 1 << 1
_ABI1_WRITES = _WRITE_FILE | sum(1 << b for b in range(4, 13))  # remove, make_*
_REFER = 1 << 13  # ABI 2: moving files between folders
_TRUNCATE = 1 << 14  # ABI 3
_IOCTL_DEV = 1 << 15  # ABI 5 (not handled: terminals and /dev/null need it)
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1  # ABI 4
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1 << 0, 1 << 1  # ABI 6

_RLIMITS = {
    "fsize": resource.RLIMIT_FSIZE,
    "as": resource.RLIMIT_AS,
    "cpu": resource.RLIMIT_CPU,
    "nproc": getattr(resource, "RLIMIT_NPROC", -1),
    "core": resource.RLIMIT_CORE,
}


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = (("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32))


class _RulesetAttr(ctypes.Structure):
    _fields_ = (
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    )


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def landlock_abi() -> int:
    """The kernel's Landlock ABI version; 0 when unavailable (or not Linux)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        version = int(_libc().syscall(_CREATE_RULESET, None, 0, _CREATE_RULESET_VERSION))
    except (OSError, AttributeError):
        return 0
    return max(version, 0)


def restrict(writable: list[str], *, network: bool = False) -> int:
    """Confine this process (and what it execs) to writing beneath `writable`; without
    `network`, no TCP bind/connect where the kernel can say so. Returns the ABI used."""
    abi = landlock_abi()
    if abi < 2:
        raise OSError("landlock is not available")
    handled = _ABI1_WRITES | _REFER | (_TRUNCATE if abi >= 3 else 0)
    attr = _RulesetAttr(handled, 0, 0)
    size = 8  # ABI 1-3: handled_access_fs only
    if abi >= 4 and not network:
        attr.handled_access_net = _NET_BIND_TCP | _NET_CONNECT_TCP
        size = 16
    if abi >= 6:
        attr.scoped = _SCOPE_SIGNAL | (0 if network else _SCOPE_ABSTRACT_UNIX)
        size = 24
    libc = _libc()
    ruleset = int(libc.syscall(_CREATE_RULESET, ctypes.byref(attr), size, 0))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset")
    try:
        for path in writable:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            try:
                # A file (a device such as /dev/null) takes only the rights a file has.
                is_dir = os.path.isdir(path)
                rule = _PathBeneath(handled if is_dir else handled & (_WRITE_FILE | _TRUNCATE), fd)
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
    return abi


class _CapHeader(ctypes.Structure):
    _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))


class _CapData(ctypes.Structure):
    _fields_ = (
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    )


def drop_capabilities() -> None:
    """No capability left, now or after exec (root included): without CAP_SYS_PTRACE and
    CAP_DAC_OVERRIDE the command cannot read a non-dumpable process's memory or environment,
    nor write files it does not own."""
    libc = _libc()
    if os.geteuid() == 0:
        for cap in range(64):
            libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)  # EINVAL past the last cap: fine
    libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    if libc.capset(ctypes.byref(header), ctypes.byref(data)):
        raise OSError(ctypes.get_errno(), "capset")


def _join_cgroups(procs_files: list[str]) -> None:
    for path in procs_files:
        with open(path, "w") as fh:
            fh.write(str(os.getpid()))


def _set_limits(limits: dict[str, int]) -> None:
    for name, value in limits.items():
        which = _RLIMITS.get(name, -1)
        if which < 0 or value is None:
            continue
        _soft, hard = resource.getrlimit(which)
        value = int(value)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))


def _descendants() -> list[int]:
    """Every process below this one (orphans are re-parented here: we are a subreaper)."""
    found: list[int] = []
    todo = [os.getpid()]
    while todo:
        pid = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as fh:
                    kids = [int(p) for p in fh.read().split()]
            except OSError:
                continue
            found.extend(kids)
            todo.extend(kids)
    return found


def _kill_all() -> None:
    """SIGKILL every descendant and reap them, until none is left."""
    for _ in range(200):
        kids = _descendants()
        for pid in kids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        while True:
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                break
        if not kids:
            return


def _reap(argv: list[str]) -> int:
    _libc().prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    child = os.fork()
    if child == 0:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _exec(argv)
    status = 0

    def stop(signum: int, _frame: object) -> None:
        _kill_all()
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while True:
        try:
            pid, st = os.waitpid(child, 0)
        except InterruptedError:
            continue
        if pid == child:
            status = st
            break
    _kill_all()
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def _exec(argv: list[str]) -> None:
    # Python ignores these at startup and an ignored signal stays ignored across exec: the
    # command gets the defaults back (a file past the size limit then ends it with SIGXFSZ).
    for sig in (signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(sig, signal.SIG_DFL)
    try:
        os.execvp(argv[0], argv)
    except FileNotFoundError:
        print(f"command not found: {argv[0]}", file=sys.stderr)
        os._exit(127)
    except OSError as exc:
        print(f"cannot run {argv[0]}: {exc.strerror or exc}", file=sys.stderr)
        os._exit(126)


def main(args: list[str]) -> int:
    if len(args) < 3 or args[1] != "--":
        print("usage: launch.py SPEC_JSON -- COMMAND...", file=sys.stderr)
        return 2
    spec = json.loads(args[0])
    argv = args[2:]
    try:
        _join_cgroups(spec.get("cgroups") or [])
        _set_limits(spec.get("rlimits") or {})
        landlock = spec.get("landlock")
        if landlock is not None:
            drop_capabilities()
            restrict(landlock["rw"], network=bool(landlock.get("network")))
    except OSError as exc:
        print(f"specflow sandbox: cannot confine the command: {exc}", file=sys.stderr)
        return 126
    if spec.get("reap"):
        return _reap(argv)
    _exec(argv)
    return 126  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
