"""Lint findings as text, JSON, GitHub workflow annotations, or SARIF 2.1.0."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from specflow.lint.checks import Finding
from specflow.lint.rules import RULES

FORMATS = ("text", "json", "github", "sarif")
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
GITHUB_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def render(findings: list[Finding], files: int, fmt: str) -> str:
    """The report in `fmt`. Code hosts (github, sarif) want paths relative to the repository
    root: the caller shows them that way."""
    if fmt == "json":
        return json.dumps(
            {
                "files": files,
                "counts": dict(_counts(findings)),
                "findings": [f.to_dict() for f in findings],
            },
            indent=2,
        )
    if fmt == "sarif":
        return json.dumps(sarif(findings), indent=2)
    if fmt == "github":
        lines = [_annotation(f) for f in findings]
        return "\n".join([*lines, summary(findings, files)])
    lines = [
        f"{f.path}:{f.line}:{f.column}: {f.severity} [{f.rule}] {f.message} (fix: {f.hint})"
        for f in findings
    ]
    return "\n".join([*lines, summary(findings, files)])


def _counts(findings: list[Finding]) -> Counter[str]:
    return Counter(f.severity for f in findings)


def summary(findings: list[Finding], files: int) -> str:
    if not findings:
        return f"ok: {files} file(s) linted, no findings"
    c = _counts(findings)
    parts = [f"{c[s]} {s}{'s' if c[s] != 1 and s != 'info' else ''}" for s in RULES_ORDER if c[s]]
    return f"{len(findings)} finding(s) in {files} file(s): {', '.join(parts)}"


RULES_ORDER = ("error", "warning", "info")


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _escape(text).replace(":", "%3A").replace(",", "%2C")


def _annotation(f: Finding) -> str:
    loc = f"file={_prop(f.path)},line={f.line},col={f.column}"
    if f.end_column is not None:
        loc += f",endColumn={f.end_column}"
    title = _prop(f"specflow lint {f.rule}")
    return f"::{GITHUB_LEVEL[f.severity]} {loc},title={title}::{_escape(f'{f.message} ({f.hint})')}"


def sarif(findings: list[Finding]) -> dict[str, Any]:
    from specflow import __version__

    ids = list(RULES)
    rules = [
        {
            "id": r.id,
            "name": "".join(p.capitalize() for p in r.id.split("-")),
            "shortDescription": {"text": r.summary},
            "help": {"text": r.hint},
            "defaultConfiguration": {"level": SARIF_LEVEL[r.severity]},
        }
        for r in RULES.values()
    ]
    results = []
    for f in findings:
        region: dict[str, Any] = {"startLine": f.line, "startColumn": f.column}
        if f.end_column is not None:
            region["endColumn"] = f.end_column
        results.append(
            {
                "ruleId": f.rule,
                "ruleIndex": ids.index(f.rule),
                "level": SARIF_LEVEL[f.severity],
                "message": {"text": f"{f.message} ({f.hint})"},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {
                                "uri": _uri(f.path),
                                "uriBaseId": "%SRCROOT%",
                            },
                            "region": region,
                        }
                    }
                ],
            }
        )
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "specflow-lint",
                        "semanticVersion": __version__,
                        "rules": rules,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def _uri(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")
