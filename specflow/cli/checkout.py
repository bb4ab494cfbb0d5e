"""Rendering `check` results: plain text, JSON, GitHub annotations, JUnit XML."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr


def render_problems(problems: list[Any], features: int, fmt: str, prefix: str = "") -> str:
    """`prefix` (e.g. `services/api/`) makes GitHub annotation paths relative to the repository
    root, which is what GitHub resolves them against, when the project sits in a subfolder."""
    if fmt == "json":
        return json.dumps(
            {
                "ok": not _errors(problems),
                "features": features,
                "problems": [p.to_dict() for p in problems],
            },
            indent=2,
        )
    if fmt == "github":
        lines = []
        for p in problems:
            loc = f"file={_prop(prefix + p.path)}" + (f",line={p.line}" if p.line else "")
            lines.append(
                f"::{_severity(p)} {loc},title={_prop('specflow ' + p.code)}::{_data(p.message)}"
            )
        lines.append(_summary(problems, features))
        return "\n".join(lines)
    lines = [
        f"{p.path}{':' + str(p.line) if p.line else ''}: "
        f"{'warning: ' if _severity(p) == 'warning' else ''}{p.message}"
        for p in problems
    ]
    lines.append(_summary(problems, features))
    return "\n".join(lines)


def _severity(problem: Any) -> str:
    return "warning" if getattr(problem, "severity", "error") == "warning" else "error"


def _errors(problems: list[Any]) -> list[Any]:
    return [p for p in problems if _severity(p) == "error"]


def _data(text: str) -> str:
    """Escape a workflow command's message (GitHub's toolkit `escapeData`)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    """Escape a workflow command's property value (GitHub's toolkit `escapeProperty`)."""
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _summary(problems: list[Any], features: int) -> str:
    errors = len(_errors(problems))
    warnings = len(problems) - errors
    also = f", {warnings} warning(s)" if warnings else ""
    if not errors:
        return f"ok: {features} feature(s) checked, no problems{also}"
    return f"{errors} problem(s) in {features} feature(s){also}"


def write_junit(problems: list[Any], features: int, path: str) -> None:
    from specflow.fsutil import atomic_write_text

    cases = []
    problems = _errors(problems)  # warnings do not fail the suite
    for p in problems:
        name = quoteattr(f"{p.path}:{p.line or 0} {p.code}")
        cases.append(
            f'  <testcase classname="specflow.check" name={name}>'
            f"<failure message={quoteattr(p.message)}>{escape(p.message)}</failure></testcase>"
        )
    if not problems:
        cases.append('  <testcase classname="specflow.check" name="all features"/>')
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuite name="specflow check" tests="{max(len(problems), 1)}" '
        f'failures="{len(problems)}">\n' + "\n".join(cases) + "\n</testsuite>\n"
    )
    atomic_write_text(Path(path), xml)
