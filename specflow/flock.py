"""`flock` locks, the one way specflow locks files: the kernel drops a lock when its process dies
(even with kill -9), so a lock is never left behind by a crash. The lock file's text, where a
caller writes one, only serves messages ("held by run X, pid N").
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


def open_lock_file(path: Path) -> int:
    """An fd on `path` (created with its folder) to flock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)


def try_lock(fd: int, *, shared: bool = False) -> bool:
    """Take the lock on `fd` without waiting: False when another process holds it."""
    try:
        fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            raise
        return False
    return True


def try_lock_path(path: Path, *, shared: bool = False) -> int | None:
    """An fd holding the lock on `path`, or None (closed again) when it is held elsewhere."""
    fd = open_lock_file(path)
    try:
        if try_lock(fd, shared=shared):
            return fd
    except BaseException:
        os.close(fd)
        raise
    os.close(fd)
    return None


def lock_path(path: Path, *, shared: bool = False) -> int:
    """An fd holding the lock on `path`, waiting for it as long as it takes."""
    fd = open_lock_file(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextlib.contextmanager
def locked(path: Path, *, shared: bool = False) -> Iterator[int]:
    """Hold the lock on `path` for a `with` block (waiting for it); closing the fd drops it."""
    fd = lock_path(path, shared=shared)
    try:
        yield fd
    finally:
        os.close(fd)


def write_note(fd: int, text: str) -> None:
    """Replace the lock file's text (who holds it), for messages only."""
    os.ftruncate(fd, 0)
    os.pwrite(fd, text.encode(), 0)
