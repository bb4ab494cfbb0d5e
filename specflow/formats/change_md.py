"""Change proposals' delta files and their line-exact application to spec.md.

A change's `deltas.md` lists requirements under OpenSpec-like headings::

    ---
    base: {FR-001: 3f2a…}        # the hash each MODIFIED/REMOVED/RENAMED requirement had
    ---
    ## ADDED Requirements
    - **FR-004**: System MUST …
    ## MODIFIED Requirements
    - **FR-001**: Users MUST … (the whole new text)
    ## REMOVED Requirements
    - **FR-002**: (its text, for the reader)
    ## RENAMED Requirements
    - FR-003 → FR-005

Applying edits only the lines of the requirements a delta names: every other line of spec.md
stays byte-for-byte.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from specflow.errors import ParseError

# Where changes live: specs/<feature>/changes/NAME/{proposal.md,deltas.md}; applied ones move to
# changes/archive/YYYY-MM-DD-NAME/.
CHANGES, ARCHIVE, DELTAS, PROPOSAL = "changes", "archive", "deltas.md", "proposal.md"
OPS = ("ADDED", "MODIFIED", "REMOVED", "RENAMED")
_OP_HEADING = re.compile(r"^#{1,6}\s+(ADDED|MODIFIED|REMOVED|RENAMED)\b", re.IGNORECASE)
_HEADING = re.compile(r"^#{1,6}\s")
_ITEM = re.compile(r"^(?P<indent>\s*)(?:[-*+]|\d+[.)])\s+")
_REQ_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\*\*(?P<id>(?:FR|SC)-\d{3,}[a-z]?):?\*\*")
_ID = r"(?:FR|SC)-\d{3,}[a-z]?"
_RENAME = re.compile(rf"(?P<old>{_ID})\W+?(?:→|->|=>|to)\W+?(?P<new>{_ID})", re.IGNORECASE)


def archived(changes: Path, name: str) -> list[Path]:
    """The archived folders of change NAME under a feature's `changes/`, oldest first."""
    archive = changes / ARCHIVE
    return sorted(archive.glob(f"????-??-??-{name}")) if archive.is_dir() else []


@dataclass
class Deltas:
    added: dict[str, str] = field(default_factory=dict)  # id -> the item's lines
    modified: dict[str, str] = field(default_factory=dict)
    removed: dict[str, str] = field(default_factory=dict)
    renamed: dict[str, str] = field(default_factory=dict)  # old id -> new id
    base: dict[str, str] = field(default_factory=dict)  # id -> hash it was proposed against
    # requirements an import could not match to an id ("MODIFIED 'Name'"): they block the change
    unmatched: list[str] = field(default_factory=list)

    def touched(self) -> list[str]:
        """Every existing or new requirement id this change touches."""
        ids = [*self.modified, *self.removed, *self.renamed, *self.renamed.values(), *self.added]
        return list(dict.fromkeys(ids))

    def based(self) -> list[str]:
        """The ids whose base hash must match the spec: they exist and are changed."""
        return list(dict.fromkeys([*self.modified, *self.removed, *self.renamed]))


def requirement_ranges(lines: list[str]) -> dict[str, tuple[int, int]]:
    """id -> [start, end) line range of each `- **FR-001**: …` item (continuation lines and
    nested items included — across blank lines too when what follows is indented deeper, as
    in a loose Markdown list — the blank line after it not)."""
    out: dict[str, tuple[int, int]] = {}
    i = 0
    while i < len(lines):
        m = _REQ_ITEM.match(lines[i])
        if m is None:
            i += 1
            continue
        end = _item_end(lines, i)
        out.setdefault(m["id"], (i, end))
        i = end
    return out


def _item_end(lines: list[str], start: int) -> int:
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = j = start + 1
    while j < len(lines):
        line = lines[j]
        if not line.strip():
            j += 1
            continue
        if j > end:  # after a blank line only deeper-indented lines belong to the item
            if len(line) - len(line.lstrip()) <= indent:
                break
        elif not _continues(line, indent):
            break
        j = end = j + 1
    return end


def _continues(line: str, indent: int) -> bool:
    if not line.strip() or _HEADING.match(line):
        return False
    item = _ITEM.match(line)
    return item is None or len(item["indent"]) > indent


def parse_deltas(body: str, base: dict[str, str], path: str | None = None) -> Deltas:
    d = Deltas(base=dict(base))
    lines = body.splitlines()
    op: str | None = None
    ranges = requirement_ranges(lines)
    starts = {start: (rid, end) for rid, (start, end) in ranges.items()}
    for n, line in enumerate(lines):
        heading = _OP_HEADING.match(line)
        if heading:
            op = heading.group(1).upper()
            continue
        if _HEADING.match(line):
            op = None
        if op is None:
            continue
        if op == "RENAMED" and not line.lstrip().startswith("<!--"):
            m = _RENAME.search(line.replace("*", "").replace("`", ""))
            if m:
                d.renamed[m["old"]] = m["new"]
            continue
        if n in starts:
            rid, end = starts[n]
            target = {"ADDED": d.added, "MODIFIED": d.modified, "REMOVED": d.removed}[op]
            if rid in target:
                raise ParseError(f"{rid} is listed twice under {op}", path=path, line=n + 1)
            target[rid] = "\n".join(lines[n:end])
    return d


def apply_deltas(body: str, d: Deltas) -> str:
    """spec.md's body with the deltas applied; untouched lines kept as they are.
    The caller has checked the base hashes and that the ids exist / are new."""
    lines = body.split("\n")
    ranges = requirement_ranges(lines)
    edits: list[tuple[int, int, list[str]]] = []  # [start, end) replaced by lines
    for rid, text in d.modified.items():
        start, end = ranges[rid]
        edits.append((start, end, _reindent(text, lines[start]).split("\n")))
    for rid in d.removed:
        start, end = ranges[rid]
        edits.append((start, end, []))
    for old, new in d.renamed.items():
        if old in d.modified or old in d.removed:
            continue
        start, end = ranges[old]
        first = lines[start].replace(f"**{old}**", f"**{new}**", 1)
        edits.append((start, start + 1, [first]))
    for rid, text in d.added.items():
        kin = [r for r in ranges.values() if rid[:2] == _kind(lines[r[0]])] or list(ranges.values())
        at = max(end for _, end in kin) if kin else len(lines)
        edits.append((at, at, _reindent(text, lines[kin[0][0]] if kin else "").split("\n")))
    for start, end, new_lines in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        gap = not new_lines and start > 0 and end < len(lines)
        if gap and not lines[start - 1].strip() and not lines[end].strip():
            end += 1  # no double blank line where a requirement was
        lines[start:end] = new_lines
    return "\n".join(lines)


def _kind(line: str) -> str:
    m = _REQ_ITEM.match(line)
    return m["id"][:2] if m else ""


def _reindent(text: str, like: str) -> str:
    """The delta's item at the indentation of the spec's items."""
    indent = like[: len(like) - len(like.lstrip())]
    lines = text.split("\n")
    own = len(lines[0]) - len(lines[0].lstrip())
    return "\n".join(indent + ln[own:] if ln.strip() else ln for ln in lines)


def render_deltas(
    name: str,
    modified: dict[str, str],
    removed: dict[str, str],
    renamed: dict[str, str],
    added: dict[str, str] | None = None,
) -> str:
    """A change's deltas.md body: the four sections, with the given items (id -> item lines)."""
    out = [f"# Deltas: {name}", "", "## ADDED Requirements", ""]
    out += [*added.values(), ""] if added else ["<!-- - **FR-0NN**: System MUST … -->", ""]
    out += ["## MODIFIED Requirements", ""]
    out += [*(modified.values()), ""] if modified else ["<!-- the whole new text -->", ""]
    out += ["## REMOVED Requirements", ""]
    out += [*(removed.values()), ""] if removed else []
    out += ["## RENAMED Requirements", ""]
    out += [*(f"- {old} → {new}" for old, new in renamed.items()), ""] if renamed else []
    return "\n".join(out)
