"""The bugfix sections of a spec.md, read back from the Markdown (generated or hand-written)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from specflow.formats._md import Doc, norm_heading

ID_RE = re.compile(r"\*\*(?P<id>FR-\d{3,}[a-z]?)\*\*")
FIELD_RE = re.compile(r"^\*\*(?P<key>test|command)\*\*\s*:\s*`?(?P<value>[^`]*)`?\s*$", re.I)


@dataclass
class BugfixInfo:
    expected: list[str] = field(default_factory=list)  # FR ids of the fix
    unchanged: list[str] = field(default_factory=list)  # FR ids guarded by regression tasks
    test_path: str = ""
    command: str = ""


def read_bugfix(body: str) -> BugfixInfo | None:
    """The bugfix sections of `body`, or None when it is not a bugfix spec (no
    'Unchanged Behaviour' section)."""
    doc = Doc(body)
    info = BugfixInfo()
    found = False
    for i in doc.headings():
        name = norm_heading(doc.blocks[i].text)
        items = [it.flat for b in doc.section(i) for it in b.items]
        if name.startswith("expected behavio"):
            info.expected += _ids(items)
        elif name.startswith("unchanged behavio"):
            found = True
            info.unchanged += _ids(items)
        elif name.startswith("reproduction"):
            for text in items:
                m = FIELD_RE.match(text)
                if m and m["key"].lower() == "test":
                    info.test_path = m["value"].strip()
                elif m:
                    info.command = m["value"].strip()
    return info if found else None


def _ids(items: list[str]) -> list[str]:
    return [m["id"] for text in items if (m := ID_RE.search(text))]
