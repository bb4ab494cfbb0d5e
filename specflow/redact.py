"""Secret redaction for anything that leaves the process: call logs, traces, error messages.

Two sources of secrets: the values of environment variables whose names look secret
(`*_KEY`, `*_TOKEN`, `*_SECRET`, `*_PASSWORD`, `*_AUTH…`, …) and strings shaped like credentials:
well-known key formats (OpenAI/Anthropic `sk-…`, GitHub, Google, AWS, Slack, bearer tokens),
private key blocks, the password in a URL, and the value of any secret-named assignment
(`ACME_DEPLOY_TOKEN=…`, `"db_password": "…"`) — so a file written without the key in the
environment (`trace`, `report` run later) still shows none.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REDACTED = "[REDACTED]"

_SECRET_NAME = re.compile(
    r"(_KEY|_KEYS|_TOKEN|_SECRET|_PASSWORD|_PASSWD|_PASS|_CREDENTIALS|_API_KEY|^API_KEY|^TOKEN"
    r"|_AUTH|_AUTH_TOKEN|_PRIVATE_KEY|_DSN)$|^(DATABASE_URL|REDIS_URL|SENTRY_DSN)$",
    re.IGNORECASE,
)
# Short values ("1", "true") would shred unrelated text; real secrets are long.
_MIN_ENV_SECRET_LEN = 8

# Well-known credential formats: a match is a key wherever it appears (also in code).
KEY_PATTERNS = [
    re.compile(r"sk-[A-Za-z0-9_-]{16,}"),  # OpenAI, Anthropic (sk-ant-…), DeepSeek, …
    re.compile(r"gh[pousr]_[A-Za-z0-9]{20,}"),  # GitHub tokens
    re.compile(r"github_pat_[A-Za-z0-9_]{20,}"),
    re.compile(r"AIza[0-9A-Za-z_-]{30,}"),  # Google API keys
    re.compile(r"(?:AKIA|ASIA)[0-9A-Z]{16}"),  # AWS access key ids
    re.compile(r"xox[abprs]-[A-Za-z0-9-]{10,}"),  # Slack
    re.compile(r"hf_[A-Za-z0-9]{20,}"),  # Hugging Face
    re.compile(r"glpat-[A-Za-z0-9_-]{20,}"),  # GitLab
    re.compile(r"(?:sk|rk)_live_[A-Za-z0-9]{16,}"),  # Stripe
    re.compile(r"npm_[A-Za-z0-9]{30,}"),
    re.compile(r"pypi-[A-Za-z0-9_-]{50,}"),
    # A private key block, also inside a JSON string (`\n` escapes).
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
]
# Secrets known by their context: redacted in output and logs (where a false hit only hides a
# value), not used to judge code.
_CONTEXT_PATTERNS = [
    re.compile(r"(?i)(?<=bearer )[A-Za-z0-9._~+/=-]{16,}"),  # Authorization: Bearer …
    re.compile(r"(?i)(?<=api[_-]key=)[A-Za-z0-9._~+/-]{12,}"),  # …?api_key=… in URLs
    # The password in scheme://user:password@host.
    re.compile(r"(?i)(?<=://)[^/\s:@\"']*:([^/\s@\"']+)(?=@)"),
    # The value of a secret-named assignment: NAME=value, "name": "value", name: value.
    re.compile(
        r"(?i)\b[\w.-]*(?:key|token|secret|passw(?:or)?d|credentials?|auth)[\w.-]*[\"']?\s*[=:]\s*"
        r"[\"']?((?=[^\s\"',;]*[0-9])(?=[^\s\"',;]*[A-Za-z])[^\s\"',;()\[\]{}<>$]{12,})"
        r"(?=[\s\"',;]|$)"  # a whole value, not the start of an expression (`sha1(...)`)
    ),
]
_PATTERNS = [*KEY_PATTERNS, *_CONTEXT_PATTERNS]
# Patterns with a group: only the group (the value) is replaced, the name stays readable.


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
        if pattern.groups:
            text = pattern.sub(_keep_name, text)
        else:
            text = pattern.sub(REDACTED, text)
    return text


def _keep_name(m: re.Match[str]) -> str:
    whole, start = m.group(0), m.start(1) - m.start(0)
    return whole[:start] + REDACTED + whole[m.end(1) - m.start(0) :]


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
