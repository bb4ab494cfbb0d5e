"""What an untrusted command prints reaches its log redacted, line by line, as it is printed.

The command writes into a pipe; a thread reads it a line (or 64 KiB) at a time, redacts the
current secrets and well-known key patterns, and appends to the log. A `kill -9` of specflow
therefore leaves no key in clear in the log, not even until the end-of-run sweep.
"""

from __future__ import annotations

import os
import threading
from typing import IO

from specflow.redact import env_secrets, redact

_CHUNK = 65536


class RedactedLog:
    """`fd` is the write end to give the command as stdout and stderr; `close()` after it
    exited waits for the last line to be written."""

    def __init__(self, log: IO[bytes]) -> None:
        self._log = log
        read, self.fd = os.pipe()
        self._reader = os.fdopen(read, "rb", buffering=_CHUNK)
        self._secrets = env_secrets()
        self._thread = threading.Thread(target=self._copy, name="redacted-log", daemon=True)
        self._thread.start()

    def _copy(self) -> None:
        with self._reader:
            while True:
                line = self._reader.readline(_CHUNK)
                if not line:
                    return
                text = line.decode("utf-8", errors="replace")
                try:
                    self._log.write(redact(text, secrets=self._secrets).encode("utf-8"))
                    self._log.flush()
                except (OSError, ValueError):  # a full disk or a closed log: keep draining
                    continue

    def started(self) -> None:
        """After the command started: only the command keeps the write end open."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def close(self, timeout: float = 5.0) -> None:
        self.started()
        self._thread.join(timeout)
