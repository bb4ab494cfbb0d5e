"""Keep the builtin agent's file tools inside its worktree.

Every path the model gives is resolved (realpath) against the worktree and refused when it, or
any existing parent, lands outside — `..`, absolute paths elsewhere, symlinks pointing out
(including ones the agent's own commands created a step earlier) — or inside `.git`.
Reads and writes then walk the resolved path one component at a time with
`O_NOFOLLOW` directory file descriptors, so a symlink swapped in after the check is refused
by the kernel instead of being followed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from specflow.errors import SpecflowError

_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
# Opening a FIFO would block until a peer shows up; non-blocking opens fail fast instead.
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


class ToolError(SpecflowError):
    """A tool call that cannot be carried out; its message goes back to the model."""

    exit_code = 1


class PathRefused(ToolError):
    """A path outside the worktree, or inside `.git`."""


class Sandbox:
    """The worktree as the only place the file tools may touch."""

    def __init__(self, root: Path) -> None:
        self.root = Path(os.path.realpath(root))
        self._given_root = Path(os.path.abspath(root))  # e.g. /tmp/wt where /tmp -> /private/tmp
        if not self.root.is_dir():
            raise ToolError(f"worktree {root} is not a directory")

    # -- resolution -------------------------------------------------------------------------

    def resolve(self, path: str) -> Path:
        """The real, absolute path for `path` (relative to the worktree), or PathRefused."""
        if not isinstance(path, str) or not path.strip():
            raise PathRefused("empty path")
        if "\x00" in path:
            raise PathRefused(f"{path!r}: NUL byte in path")
        given = Path(os.path.expanduser(path)) if path.startswith("~") else Path(path)
        candidate = given if given.is_absolute() else self.root / given
        lexical = Path(os.path.normpath(candidate))
        if not self._inside(lexical) and self._given_root != self.root:
            with contextlib.suppress(ValueError):  # an absolute path spelled via the root's alias
                lexical = self.root / lexical.relative_to(self._given_root)
        if not self._inside(lexical):
            raise PathRefused(
                f"{path}: outside the worktree; use paths relative to the worktree root"
            )
        self._refuse_git(lexical, path)
        # Every existing ancestor must resolve inside too: a symlinked directory pointing out
        # would otherwise let `out/x` escape even though `out` itself looks local.
        for ancestor in self._ancestors(lexical):
            if os.path.islink(ancestor) and not self._inside(Path(os.path.realpath(ancestor))):
                raise PathRefused(
                    f"{path}: {self.display(ancestor)} is a symlink pointing outside the worktree"
                )
        real = Path(os.path.realpath(lexical))
        if not self._inside(real):
            raise PathRefused(f"{path}: resolves outside the worktree (through a symlink)")
        self._refuse_git(real, path)
        return real

    def display(self, path: Path) -> str:
        """`path` relative to the worktree, with forward slashes ('.' for the root)."""
        try:
            rel = Path(path).relative_to(self.root)
        except ValueError:
            return str(path)
        return rel.as_posix() if rel.parts else "."

    def is_git_internal(self, path: Path) -> bool:
        try:
            parts = Path(path).relative_to(self.root).parts
        except ValueError:
            return False
        return any(p.lower() == ".git" for p in parts)

    def _inside(self, path: Path) -> bool:
        try:
            return os.path.commonpath([self.root, path]) == str(self.root)
        except ValueError:
            return False

    def _refuse_git(self, path: Path, given: str) -> None:
        if self.is_git_internal(path):
            raise PathRefused(f"{given}: .git is off limits; specflow commits your changes")

    def _ancestors(self, path: Path) -> Iterator[Path]:
        rel = path.relative_to(self.root) if path != self.root else Path()
        current = self.root
        for part in rel.parts:
            current = current / part
            if not os.path.lexists(current):
                return
            yield current

    # -- symlink-safe I/O -------------------------------------------------------------------

    def _parts(self, real: Path) -> tuple[str, ...]:
        return real.relative_to(self.root).parts

    def _open_dir(self, parts: tuple[str, ...], *, create: bool) -> int:
        """An fd for the directory `parts` under the root, never following a symlink."""
        fd = os.open(self.root, _DIR_FLAGS | _CLOEXEC)
        part = "."
        try:
            for part in parts:
                if create:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(part, 0o755, dir_fd=fd)
                nxt = os.open(part, _DIR_FLAGS | _CLOEXEC, dir_fd=fd)
                os.close(fd)
                fd = nxt
        except OSError as exc:
            is_link = self._is_link_at(fd, part)
            os.close(fd)
            if is_link:
                raise PathRefused(
                    f"{'/'.join(parts)}: {part} is a symlink; refusing to follow it"
                ) from None
            raise self._os_error(exc, parts) from None
        return fd

    @staticmethod
    def _is_link_at(dir_fd: int, name: str) -> bool:
        try:
            return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
        except OSError:
            return False

    def _os_error(self, exc: OSError, parts: tuple[str, ...]) -> ToolError:
        name = "/".join(parts) or "."
        if exc.errno in (errno.ELOOP, errno.EMLINK):
            return PathRefused(f"{name}: is a symlink; refusing to follow it")
        if exc.errno == errno.ENOTDIR:
            return ToolError(f"{name}: a parent is not a directory")
        if exc.errno == errno.ENOENT:
            return ToolError(f"{name}: no such file or directory")
        if exc.errno == errno.EISDIR:
            return ToolError(f"{name}: is a directory")
        return ToolError(f"{name}: {exc.strerror or exc}")

    def read_bytes(self, real: Path, limit: int | None = None) -> bytes:
        """Read a regular file (at most `limit` bytes) without following symlinks."""
        parts = self._parts(real)
        if not parts:
            raise ToolError(".: is a directory")
        dfd = self._open_dir(parts[:-1], create=False)
        try:
            fd = os.open(parts[-1], os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC, dir_fd=dfd)
        except OSError as exc:
            raise self._os_error(exc, parts) from None
        finally:
            os.close(dfd)
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise ToolError(f"{'/'.join(parts)}: not a regular file")
            return fh.read() if limit is None else fh.read(limit)

    def write_bytes(self, real: Path, data: bytes) -> bool:
        """Create or overwrite a regular file; parents are created. True if it existed."""
        parts = self._parts(real)
        if not parts:
            raise ToolError(".: is a directory")
        dfd = self._open_dir(parts[:-1], create=True)
        existed = True
        try:
            try:
                fd = os.open(parts[-1], os.O_WRONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC, dir_fd=dfd)
            except FileNotFoundError:
                existed = False
                flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
                fd = os.open(parts[-1], flags, 0o644, dir_fd=dfd)
        except OSError as exc:
            raise self._os_error(exc, parts) from None
        finally:
            os.close(dfd)
        with os.fdopen(fd, "wb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise ToolError(f"{'/'.join(parts)}: not a regular file")
            # A hard link made by a command could alias a file outside the worktree.
            if st.st_nlink > 1:
                raise PathRefused(f"{'/'.join(parts)}: has several hard links; refusing to write")
            fh.truncate(0)
            fh.write(data)
        return existed
