"""The run's append-only event log: one JSON object per line, fsync'd on every append.

What kinds there are and what each carries: `specflow/runs/catalogue.py`.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from specflow.runs.catalogue import Event, Kind, check

Listener = Callable[[Event], None]
Clock = Callable[[], float]  # unix time now; tests pass a fake one


# Run-level events are synced before emit() returns; task events by a group-commit thread a
# few milliseconds later. Either way the line is in the kernel's page cache when emit()
# returns, so killing specflow (even -9) loses nothing; the sync covers a crash of the
# machine, and git, not this log, is the truth about what is merged.
SYNC_NOW = frozenset({Kind.RUN_STARTED, Kind.RUN_RESUMED, Kind.RUN_INTERRUPTED, Kind.RUN_FINISHED})
# The test suite sets this: every emitted kind and field must be in the catalogue.
STRICT = os.environ.get("SPECFLOW_STRICT_EVENTS") == "1"


class EventLog:
    """Appends events durably; listeners (the live view) see each one after it is written."""

    def __init__(self, path: Path, *, fsync: bool = True, clock: Clock = time.time) -> None:
        self.path = path
        self.clock = clock  # every event's `t`
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._lock = threading.Lock()
        self._fsync = fsync
        self._listeners: list[Listener] = []
        # Secrets never reach the trace: values of *_KEY/*_TOKEN/*_SECRET variables and
        # common key patterns are replaced before a line is written (and before listeners).
        from specflow.redact import env_secrets

        self._secrets = env_secrets()
        self._dirty = threading.Condition()
        self._pending = False
        self._closed = False
        self._flusher: threading.Thread | None = None
        if fsync:
            self._flusher = threading.Thread(target=self._flush_loop, name="events-fsync")
            self._flusher.daemon = True
            self._flusher.start()

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def emit(self, kind: Kind | str, **data: Any) -> Event:
        from specflow.redact import redact

        if STRICT:
            check(kind, data)
        kind = kind.value if isinstance(kind, Kind) else kind
        raw = json.dumps(
            {"t": round(self.clock(), 3), "kind": kind, **data}, default=str, separators=(",", ":")
        )
        clean = redact(raw, secrets=self._secrets)
        event: Event = json.loads(clean)
        line = (clean + "\n").encode()
        with self._lock:
            os.write(self._fd, line)
            if self._fsync and kind in SYNC_NOW:
                _sync(self._fd)
        if self._fsync and kind not in SYNC_NOW:
            with self._dirty:
                self._pending = True
                self._dirty.notify()
        for listener in list(self._listeners):
            with contextlib.suppress(Exception):
                listener(event)
        return event

    def _flush_loop(self) -> None:
        while True:
            with self._dirty:
                self._dirty.wait_for(lambda: self._pending or self._closed)
                if not self._pending and self._closed:
                    return
                self._pending = False
            # Not under the write lock: emitters never wait for the disk. The fd stays open
            # until close() has joined this thread.
            with contextlib.suppress(OSError):
                _sync(self._fd)

    def close(self) -> None:
        with self._dirty:
            self._closed = True
            self._dirty.notify()
        if self._flusher is not None:
            self._flusher.join(timeout=5)
        with self._lock:
            if self._fd >= 0:
                if self._fsync:
                    with contextlib.suppress(OSError):
                        _sync(self._fd)
                os.close(self._fd)
                self._fd = -1


def read_events(path: Path) -> list[Event]:
    """All complete events; a line torn by a crash (no newline, bad JSON) is skipped."""
    return list(iter_events(path))


def iter_events(path: Path) -> Iterator[Event]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    for raw in data.split(b"\n"):
        if not raw.strip():
            continue
        try:
            event = json.loads(raw)
        except ValueError:
            continue
        if isinstance(event, dict):
            yield event


_sync = getattr(os, "fdatasync", os.fsync)  # the data is what matters; skip the inode times
