"""Secret redaction for anything that leaves the process: call logs, traces, error messages.

Two sources of secrets: the values of environment variables whose names look secret
(`*_KEY`, `*_TOKEN`, `*_SECRET`, `*_PASSWORD`, …) and strings shaped like well-known
credentials (OpenAI/Anthropic `sk-…`, GitHub, Google, AWS, Slack, bearer tokens).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REDACTED = "[REDACTED]"

_SECRET_NAME = re.compile(
    r"(_KEY|_KEYS|_TOKEN|_SECRET|_PASSWORD|_PASSWD|_CREDENTIALS|_API_KEY|^API_KEY|^TOKEN)$",
    re.IGNORECASE,
)
# Short values ("1", "true") would shred unrelated text; real secrets are long.
_MIN_ENV_SECRET_LEN = 8

_PATTERNS = [
    re.compile(r"sk-[A-Za-z0-9_-]{16,}"),  # OpenAI, Anthropic (sk-ant-…), DeepSeek, …
    re.compile(r"gh[pousr]_[A-Za-z0-9]{20,}"),  # GitHub tokens
    re.compile(r"github_pat_[A-Za-z0-9_]{20,}"),
    re.compile(r"AIza[0-9A-Za-z_-]{30,}"),  # Google API keys
    re.compile(r"(?:AKIA|ASIA)[0-9A-Z]{16}"),  # AWS access key ids
    re.compile(r"xox[abprs]-[A-Za-z0-9-]{10,}"),  # Slack
    re.compile(r"hf_[A-Za-z0-9]{20,}"),  # Hugging Face
    re.compile(r"(?i)(?<=bearer )[A-Za-z0-9._~+/=-]{16,}"),  # Authorization: Bearer …
    re.compile(r"(?i)(?<=api[_-]key=)[A-Za-z0-9._~+/-]{12,}"),  # …?api_key=… in URLs
]


def env_secrets(environ: Mapping[str, str] | None = None) -> list[str]:
    """Values of secret-looking environment variables, longest first."""
    env = os.environ if environ is None else environ
    values = {v for k, v in env.items() if _SECRET_NAME.search(k) and len(v) >= _MIN_ENV_SECRET_LEN}
    return sorted(values, key=len, reverse=True)


def redact(text: str, *, secrets: list[str] | None = None) -> str:
    """`text` with every secret replaced by `[REDACTED]`."""
    for value in env_secrets() if secrets is None else secrets:
        if value in text:
            text = text.replace(value, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def redact_obj(obj: Any, *, secrets: list[str] | None = None) -> Any:
    """A copy of a JSON-like value (dicts, lists, strings) with secrets redacted.

    Dict values under secret-looking keys (`api_key`, `authorization`, …) are dropped entirely.
    """
    known = env_secrets() if secrets is None else secrets
    return _redact(obj, known)


_SECRET_FIELD = re.compile(
    r"^(api[_-]?key|authorization|x-api-key|password|secret|token|access[_-]?token)$", re.I
)


def _redact(obj: Any, secrets: list[str]) -> Any:
    if isinstance(obj, str):
        return redact(obj, secrets=secrets)
    if isinstance(obj, Mapping):
        return {
            k: (REDACTED if isinstance(k, str) and _SECRET_FIELD.match(k) else _redact(v, secrets))
            for k, v in obj.items()
        }
    if isinstance(obj, (list, tuple)):
        return [_redact(v, secrets) for v in obj]
    return obj


def redact_tree(folder: Path, *, max_bytes: int = 20_000_000) -> int:
    """Redact every text file under `folder` in place (agent and verify logs, transcripts,
    briefs). Returns how many files changed. Binary and oversized files are left alone."""
    import os
    import tempfile

    secrets = env_secrets()
    changed = 0
    for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
        try:
            if not path.is_file() or path.is_symlink() or path.stat().st_size > max_bytes:
                continue
            text = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        clean = redact(text, secrets=secrets)
        if clean == text:
            continue
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(clean)
        os.replace(tmp, path)
        changed += 1
    return changed
