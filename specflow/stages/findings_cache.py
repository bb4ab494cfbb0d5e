"""`check`'s findings remembered by everything they were computed from, in
`.specflow/cache/check.json`.

`check` on hundreds of features spends nearly all its time parsing Markdown that has not
changed since the last run. A feature's findings (everything but `--drift`, which reads git)
are a function of: the files in the feature's folder (changes/ and .history included), the
constitution, the project's effective configuration, `--strict`, and specflow's own code. The
key is a hash of all of them, so an entry can never be stale: edit any of them and the feature
is checked again. Lint findings are keyed by the spec's text and the lint settings (word lists
included). Like the status summaries (`stages/summaries.py`) the file is JSON only (nothing in
it is executed or unpickled); unreadable or missing, it is rebuilt; a read-only checkout does
without it.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from specflow.project import Feature, Project
from specflow.stages.summaries import Summaries

MAX_FILE_BYTES = 4 * 2**20  # a larger file in a feature folder: its size and mtime stand in


class FindingsCache:
    def __init__(self, project: Project, strict: bool) -> None:
        self.project = project
        self.store = Summaries(project.state_dir / "cache" / "check.json")
        base = hashlib.sha256()
        for part in (_code_fingerprint(), repr(project.config), f"strict={strict}"):
            base.update(part.encode("utf-8", "surrogateescape") + b"\0")
        base.update(_digest(str(project.specs_dir / "constitution.md")))
        self._base = base.hexdigest()
        self._settings: tuple[Any, str] | None = None  # the lint settings and their digest

    def feature(
        self, feature: Feature, compute: Callable[[], list[dict[str, Any]]]
    ) -> list[dict[str, Any]]:
        """`compute()` (the feature's findings as dicts), or what it gave for the same inputs."""
        key = hashlib.sha256(self._base.encode())
        # findings name their files: the folder's own path is part of what they came from
        key.update(self.project.rel(feature.path).encode("utf-8", "surrogateescape") + b"\0")
        for rel, path in _files(str(feature.path)):
            key.update(rel.encode("utf-8", "replace"))
            key.update(b"\0" + _digest(path))
        result: list[dict[str, Any]] = self.store.get("feature", key.hexdigest(), compute)
        return result

    def lint(
        self, text: str, settings: Any, compute: Callable[[], list[dict[str, Any]]]
    ) -> list[dict[str, Any]]:
        """Lint findings of one spec's `text` under `settings`."""
        if self._settings is None or self._settings[0] is not settings:  # one repr per run
            digest = hashlib.sha256(repr(settings).encode("utf-8", "surrogateescape")).hexdigest()
            self._settings = (settings, digest)
        key = hashlib.sha256(f"{self._base}\0{self._settings[1]}\0".encode())
        key.update(text.encode("utf-8", "surrogateescape"))
        result: list[dict[str, Any]] = self.store.get("lint", key.hexdigest(), compute)
        return result

    def save(self) -> None:
        self.store.save()


def _files(folder: str) -> list[tuple[str, str]]:
    """(path relative to `folder` with `/`, path) of every file under it, sorted, symlinks
    included as themselves (strings, not Paths: this runs for every file of every feature)."""
    out: list[tuple[str, str]] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        rel = os.path.relpath(dirpath, folder).replace(os.sep, "/")
        prefix = "" if rel == "." else rel + "/"
        out += [(prefix + n, os.path.join(dirpath, n)) for n in sorted(filenames)]
    return out


def _digest(path: str) -> bytes:
    """The file's content hash; for a symlink its target, for a missing file a fixed mark."""
    try:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            return b"link:" + os.readlink(path).encode("utf-8", "surrogateescape")
        st = os.stat(path)
        if st.st_size > MAX_FILE_BYTES:
            return f"big:{st.st_size}:{st.st_mtime_ns}".encode()
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).digest()
    except OSError:
        return b"missing"


@lru_cache(maxsize=1)
def _code_fingerprint() -> str:
    """specflow's version and its source files' sizes and times: a changed check or lint rule
    (even an edited checkout between releases) invalidates every entry."""
    from specflow import __version__

    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256(__version__.encode())
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith((".py", ".txt", ".toml", ".j2", ".md")):
                st = os.stat(os.path.join(dirpath, name))
                h.update(f"{dirpath}/{name}:{st.st_size}:{st.st_mtime_ns}\0".encode())
    return h.hexdigest()
