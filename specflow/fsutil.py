"""Small file-system helpers: hashing and atomic writes."""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path


def sha256_text(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_bytes(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def atomic_write_text(path: Path, text: str) -> None:
    """Write through a temp file in the same folder, fsync, then rename over the target.

    A crash leaves either the old file or the new one, never a mix.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = file_mode(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:  # name the file the user knows, not the temp file's random name
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    try:
        os.fchmod(fd, mode)  # mkstemp makes 0600; the file gets the mode users expect
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename in (None, tmp):
            # name the file the user knows ("no space left", "is a directory"), not the temp file
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise


def file_mode(path: Path) -> int:
    """The mode a write to `path` should leave: an existing file keeps its own; a new one
    gets what `open()` would give it, 0666 less the umask (0644 under umask 022)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return 0o666 & ~current_umask()


def current_umask() -> int:
    """The process umask, read without changing it (os.umask can only swap, and a swap
    would race with other threads creating files)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


@contextlib.contextmanager
def atomic_batch() -> Iterator[list[tuple[Path, str]]]:
    """Collect several writes and apply them only if the block finishes without error."""
    pending: list[tuple[Path, str]] = []
    yield pending
    for path, text in pending:
        atomic_write_text(path, text)


def read_text_input(
    path: Path, hint: str = "save the file as UTF-8", label: str | None = None
) -> str:
    """Read a user-supplied text file, refusing binary or non-UTF-8 content.

    Errors are ParseErrors naming `label` (default: the path) and, for bad bytes, the line.
    """
    from specflow.errors import ParseError

    where = label or str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ParseError("no such file", path=where, hint="check the path") from None
    except IsADirectoryError:
        raise ParseError("is a directory, expected a text file", path=where) from None
    except PermissionError:
        raise ParseError(
            "permission denied", path=where, hint="check the file's permissions"
        ) from None
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise ParseError("looks like a binary file", path=where, line=line, hint=hint)
    try:
        return data.decode("utf-8").removeprefix("\ufeff")  # a BOM some Windows editors add
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ParseError("not valid UTF-8", path=where, line=line, hint=hint) from None
