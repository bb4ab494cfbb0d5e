"""Content-addressed storage for large trace payloads (prompts, responses, outputs).

Events stay small: they carry `sha256:…` references; the payload is written once under
`.specflow/runs/<run>/blobs/`, redacted, however many events refer to it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def store_blob(folder: Path, payload: Any) -> str:
    """Write `payload` (JSON-serialisable) once; return its reference."""
    from specflow.redact import redact_obj

    data = json.dumps(redact_obj(payload), sort_keys=True, default=str, ensure_ascii=False)
    digest = hashlib.sha256(data.encode("utf-8")).hexdigest()
    path = folder / f"{digest}.json"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".blob.")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(data)
        os.replace(tmp, path)
    return f"sha256:{digest}"


def load_blob(folder: Path, ref: str) -> Any:
    digest = ref.removeprefix("sha256:")
    return json.loads((folder / f"{digest}.json").read_text(encoding="utf-8"))
