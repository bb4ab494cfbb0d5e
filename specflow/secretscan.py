"""Does a change add a secret? Run on every task's diff before it may merge.

Three sources, any of which fails the task with the cause `secret`:

- the value of a secret in specflow's own environment (`*_KEY`, `*_TOKEN`, … — what the
  agent must never have seen, so finding it means a leak);
- detect-secrets' maintained detectors for well-known credential formats (AWS, GitHub, GitLab,
  Slack, Stripe, private keys, JWTs, npm/PyPI tokens, …; the entropy and keyword heuristics
  are left out: they flag ordinary code);
- specflow's own key formats (`redact.KEY_PATTERNS`: model-provider keys such as `sk-…`,
  `AIza…`, `hf_…`) — not its context patterns (`password: …`), which would flag ordinary code.

Only added lines are scanned; the finding names the file, line and kind, never the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from specflow.redact import KEY_PATTERNS, env_secrets

# Heuristics that flag ordinary code, or example URLs in docs.
_SKIPPED_DETECTORS = frozenset(
    {
        "Base64HighEntropyString",
        "HexHighEntropyString",
        "KeywordDetector",
        "IPPublicDetector",
        "BasicAuthDetector",
    }
)
MAX_DIFF_CHARS = 20_000_000
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    kind: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind}"


@lru_cache(maxsize=1)
def _plugins() -> list[dict[str, Any]]:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    mapping: dict[str, type] = get_mapping_from_secret_type_to_class()
    names = {cls.__name__ for cls in mapping.values()}
    return [{"name": n} for n in sorted(names - _SKIPPED_DETECTORS)]


def prepare() -> None:
    """Load the detectors now (a third of a second), not in the first task's commit, where
    it would skew which task lands first."""
    _plugins()
    from detect_secrets.core.scan import scan_line  # noqa: F401


def added_lines(diff: str) -> Iterator[tuple[str, int, str]]:
    """(path, line number, text) for every line a unified diff (`-U0` or more) adds."""
    path, number = "", 0
    for raw in diff.splitlines():
        if raw.startswith("+++ "):
            target = raw[4:].strip()
            path = target[2:] if target.startswith("b/") else target
            continue
        m = _HUNK.match(raw)
        if m:
            number = int(m.group(1))
            continue
        if raw.startswith("+"):
            yield path, number, raw[1:]
            number += 1
        elif raw.startswith(" "):
            number += 1


def scan_diff(diff: str, known: list[str] | None = None) -> list[Finding]:
    """Secrets the diff adds (see the module docstring); at most one finding per line."""
    from detect_secrets.core.scan import scan_line
    from detect_secrets.settings import transient_settings

    secrets = env_secrets() if known is None else known
    findings: list[Finding] = []
    with transient_settings({"plugins_used": _plugins(), "filters_used": []}):
        for path, number, text in added_lines(diff[:MAX_DIFF_CHARS]):
            kind = _kind(text, secrets, scan_line)
            if kind is not None:
                findings.append(Finding(path, number, kind))
    return findings


def _kind(text: str, secrets: list[str], scan_line: Any) -> str | None:
    if any(s in text for s in secrets):
        return "the value of a secret in specflow's environment"
    for found in scan_line(text):
        return str(found.type)
    if any(p.search(text) for p in KEY_PATTERNS):
        return "a well-known API key pattern"
    return None
