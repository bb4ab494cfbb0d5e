"""What `status` shows of a feature's body (task counts, open questions), remembered by the
body's hash in `.specflow/cache/summaries.json`.

A Markdown parse costs a millisecond or more per file; `status` on hundreds of features would
spend most of its time re-parsing text that has not changed since the last time. The cache is
keyed by content, so it can never be stale; unreadable or missing, it is simply rebuilt, and a
read-only checkout just does without it.

Keys are salted with a secret of this machine's user (`~/.cache/specflow/cache-salt`): a cache
file that arrives with the repository (an agent can commit one past .gitignore) matches
nothing, so `check` on a fresh CI clone cannot be fed findings someone wrote in advance.
Without a usable salt there is no cache: everything is computed.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from specflow.fsutil import atomic_write_text, sha256_text

MAX_ENTRIES = 5000
VERSION = 1  # bump when what is summarised changes


class Summaries:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._old: dict[str, Any] = {}
        self._used: dict[str, Any] = {}
        self._new = False
        self._salt = machine_salt()
        if self._salt is None:
            return
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("version") == VERSION:
                entries = data.get("entries")
                self._old = entries if isinstance(entries, dict) else {}

    def get(self, kind: str, body: str, compute: Callable[[], Any]) -> Any:
        """`compute()` for this body, or what it returned for the same body before. Errors are
        not remembered (they are raised again on every call, as without the cache)."""
        if self._salt is None:
            return compute()
        key = f"{kind}:{sha256_text(self._salt + body)}"
        if key in self._used:
            return self._used[key]
        if key in self._old:
            value = self._old[key]
        else:
            value = compute()
            self._new = True
        self._used[key] = value
        return value

    def save(self) -> None:
        """Write back when something new was computed: this run's entries first, then older
        ones up to MAX_ENTRIES."""
        if not self._new or self._salt is None:
            return
        entries = dict(self._used)
        for k, v in self._old.items():
            if len(entries) >= MAX_ENTRIES:
                break
            entries.setdefault(k, v)
        with contextlib.suppress(OSError):
            atomic_write_text(self.path, json.dumps({"version": VERSION, "entries": entries}))


@lru_cache(maxsize=1)
def machine_salt() -> str | None:
    """This user's random cache salt, made on first use (mode 0600); None when it can be
    neither read nor made."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = Path(base) / "specflow" / "cache-salt"
    with contextlib.suppress(OSError, UnicodeError):
        return _read_salt(path)
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(os.urandom(16).hex() + "\n")
    with contextlib.suppress(OSError, UnicodeError):  # ours, or a concurrent first run's
        return _read_salt(path)
    return None


def _read_salt(path: Path) -> str:
    salt = path.read_text(encoding="ascii").strip()
    if len(salt) < 32:
        raise OSError("short salt")  # half-written by a concurrent first run, or not ours
    return salt
