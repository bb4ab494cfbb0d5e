"""Where a library's files come from, and the read-only copy of one pinned version.

A git source (URL or local repository) is mirrored once into `.specflow/libraries/NAME/mirror.git`
and each pinned commit is unpacked (`git archive`) into `.specflow/libraries/NAME/<commit>/`.
A plain folder is pinned by a content hash and copied into `.specflow/libraries/NAME/<hash>/`.
The copies are caches: `.specflow/` is git-ignored and any checkout rebuilds them from the pin.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from specflow.errors import InputError, WorkFailed

HASH_PREFIX = "sha256:"
_SKIP = {".git", "__pycache__", ".DS_Store"}


class LibraryError(WorkFailed):
    """A library could not be fetched or no longer matches its pin (exit 1)."""


def _git(
    *args: str, cwd: Path | None = None, binary: bool = False
) -> subprocess.CompletedProcess[Any]:
    try:
        proc = subprocess.run(
            ["git", "-c", "core.pager=cat", *args],
            cwd=cwd,
            capture_output=True,
            text=not binary,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
            check=False,
        )
    except FileNotFoundError:
        raise LibraryError("git is not installed", "install git") from None
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace") if binary else proc.stderr
        first = next((ln.strip() for ln in err.splitlines() if ln.strip()), "")
        raise LibraryError(f"git {args[0]}: {first or proc.returncode}")
    return proc


def resolve_source(source: str, root: Path) -> Path | None:
    """The local folder a source names (relative to the project root), or None for a URL."""
    if "://" in source or (source.startswith("git@") and ":" in source):
        return None
    path = Path(source).expanduser()
    path = path if path.is_absolute() else root / path
    if not path.exists():
        raise InputError(f"library source {source} does not exist", "pass a git URL or a folder")
    if not path.is_dir():
        raise InputError(f"library source {source} is not a folder")
    return path.resolve()


def is_git_source(source: str, root: Path) -> bool:
    local = resolve_source(source, root)
    if local is None:
        return True
    try:
        top = _git("rev-parse", "--show-toplevel", cwd=local).stdout.strip()
    except LibraryError:
        # a bare repository has no toplevel but is a git source all the same
        try:
            return _git("rev-parse", "--is-bare-repository", cwd=local).stdout.strip() == "true"
        except LibraryError:
            return False
    return Path(top).resolve() == local


def _git_url(source: str, root: Path) -> str:
    local = resolve_source(source, root)
    return str(local) if local is not None else source


def mirror(libdir: Path, source: str, root: Path, *, fetch: bool = True) -> Path:
    """A bare mirror of the source, cloned on first use and fetched when asked."""
    path = libdir / "mirror.git"
    url = _git_url(source, root)
    if not (path / "HEAD").is_file():
        libdir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".mirror-", dir=libdir))
        try:
            _git("clone", "--quiet", "--mirror", url, str(tmp / "m"))
            _move(tmp / "m", path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    elif fetch:
        _git("remote", "set-url", "origin", url, cwd=path)
        _git("fetch", "--quiet", "--prune", "--tags", "origin", cwd=path)
    return path


def resolve_commit(mirror_path: Path, ref: str | None) -> str:
    want = ref or "HEAD"
    try:
        return str(
            _git("rev-parse", "--verify", f"{want}^{{commit}}", cwd=mirror_path).stdout.strip()
        )
    except LibraryError:
        raise InputError(
            f"the library has no commit '{want}'", "pass a branch, tag or commit that exists"
        ) from None


def has_commit(mirror_path: Path, commit: str) -> bool:
    try:
        _git("cat-file", "-e", f"{commit}^{{commit}}", cwd=mirror_path)
    except LibraryError:
        return False
    return True


def unpack_commit(mirror_path: Path, commit: str, dest: Path) -> Path:
    """`git archive` the commit into `dest` (atomically: all of it or nothing)."""
    if dest.is_dir():
        return dest
    data = _git("archive", "--format=tar", commit, cwd=mirror_path, binary=True).stdout
    tmp = Path(tempfile.mkdtemp(prefix=".unpack-", dir=dest.parent))
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(tmp, filter="data")
            else:  # pragma: no cover - Pythons without extraction filters
                tar.extractall(tmp)
        _move(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def folder_hash(folder: Path) -> str:
    """sha256 over every file's relative path and bytes, in sorted order."""
    digest = hashlib.sha256()
    for path in sorted(_files(folder)):
        rel = path.relative_to(folder).as_posix()
        digest.update(rel.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return HASH_PREFIX + digest.hexdigest()


def _files(folder: Path) -> list[Path]:
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if d not in _SKIP]
        out += [Path(dirpath) / f for f in filenames if f not in _SKIP]
    return out


def copy_folder(src: Path, libdir: Path, expected: str | None) -> tuple[Path, str]:
    """Copy a plain folder into `libdir/<hash>/`; refuse if its hash differs from `expected`."""
    libdir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".copy-", dir=libdir))
    try:
        shutil.copytree(src, tmp / "c", ignore=shutil.ignore_patterns(*_SKIP))
        got = folder_hash(tmp / "c")
        if expected is not None and got != expected:
            raise LibraryError(
                f"the library folder {src} changed since it was pinned "
                f"({expected[:19]}…, now {got[:19]}…)",
                f"run 'specflow library update {libdir.name}' to pin its current content",
            )
        dest = libdir / cache_name(got)
        if not dest.is_dir():
            _move(tmp / "c", dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest, got


def _move(tmp: Path, dest: Path) -> None:
    """Rename a finished copy into place; another process that got there first wins."""
    try:
        os.replace(tmp, dest)
    except OSError:
        if not dest.is_dir():
            raise


def cache_name(pin: str) -> str:
    return pin[len(HASH_PREFIX) :] if pin.startswith(HASH_PREFIX) else pin
