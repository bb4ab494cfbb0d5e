"""Helpers for the importer tests: fixture paths and plain-text counts of the source files."""

from __future__ import annotations

import re
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "importers"
CHECKBOX = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\[([^\]])\]")


def checkboxes(text: str) -> list[str]:
    """The mark of every checkbox line outside fenced code, by plain line scanning."""
    out: list[str] = []
    fence = False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
            continue
        m = CHECKBOX.match(line)
        if m and not fence:
            out.append(m.group(1))
    return out
