"""YAML front matter: found by a line scan (markdown-it-py's front-matter rules), parsed by
PyYAML's C loader (what specflow itself writes: by a line scan, formats/_simple_yaml.py).

`join_front_matter` writes a blank line between the closing fence and the body, and
`split_front_matter` drops exactly that one line again, so split(join(m, b)) == (m, b).
"""

from __future__ import annotations

from typing import Any

from specflow.errors import ParseError
from specflow.formats import _simple_yaml
from specflow.formats._md import NEWLINE_RE, split_lines

FENCE = "---"


def split_front_matter(text: str, path: str | None = None) -> tuple[dict[str, Any] | None, str]:
    """(metadata, body). Without a front-matter block: (None, text), text unchanged.

    The block is found by a scan of its lines (the rules of markdown-it-py's front-matter
    plugin: an opening line of three or more dashes, closed by a line of at least as many
    dashes or by YAML's `...`), not by parsing the whole document, and read with PyYAML's C
    loader where it is built: `status` and `check` read hundreds of these at a time.
    """
    if not text.startswith("---"):
        return None, text
    lines = split_lines(text)
    marker = len(lines[0]) - len(lines[0].lstrip("-"))
    close = _closing_line(lines, marker)
    if close is None:
        if lines[0].rstrip() == FENCE:
            raise ParseError(
                "front matter is not closed",
                path=path,
                line=1,
                hint="end the YAML with a '---' line, or delete the first line",
            )
        return None, text
    meta = _load_yaml("\n".join(lines[1:close]), path)
    return meta, _body_after(text, close + 1)


def body_after(text: str, line: int) -> str:
    """The text from 0-based `line` on."""
    if "\r" not in text:
        pos = 0
        for _ in range(line):
            pos = text.find("\n", pos) + 1
            if not pos:
                return ""
        return text[pos:]
    pos = 0
    for _ in range(line):
        m = NEWLINE_RE.search(text, pos)
        if m is None:
            return ""
        pos = m.end()
    return text[pos:]


def _closing_line(lines: list[str], marker: int) -> int | None:
    for i in range(1, len(lines)):
        line = lines[i]
        if line.startswith("...") and not line[3:].strip(" "):
            return i
        stripped = line.lstrip(" ")
        if len(line) - len(stripped) >= 4 or not stripped.startswith("-"):
            continue  # an indented code block, or not a fence
        dashes = len(stripped) - len(stripped.lstrip("-"))
        if dashes >= marker and not stripped[dashes:].strip(" \t"):
            return i
    return None


def _load_yaml(block: str, path: str | None) -> dict[str, Any]:
    simple = _simple_yaml.load(block)  # what specflow writes, without PyYAML's constructor
    if simple is not None:
        return simple
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        meta = yaml.load(block, Loader=loader)  # a safe loader (C or Python)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 2 if mark is not None else 1  # +1 for the fence, +1 for 1-based
        problem = getattr(exc, "problem", None) or str(exc).split("\n", 1)[0]
        raise ParseError(
            f"invalid YAML front matter: {problem}",
            path=path,
            line=line,
            hint="fix the YAML between the '---' lines",
        ) from exc
    if meta is None:  # empty, or only comments
        meta = {}
    if not isinstance(meta, dict):
        raise ParseError(
            f"front matter must be a YAML mapping, not {type(meta).__name__}",
            path=path,
            line=1,
            hint="write 'key: value' lines between the '---' lines",
        )
    return meta


def join_front_matter(meta: dict[str, Any], body: str) -> str:
    """`---`, the YAML (key order kept, unicode as is), `---`, a blank line, the body."""
    import yaml

    dumped = yaml.safe_dump(
        meta,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=10_000,
    )
    if meta == {}:
        dumped = ""
    return f"{FENCE}\n{dumped}{FENCE}\n\n{body}"


def _body_after(text: str, line: int) -> str:
    """The text from 0-based `line` on, with one leading blank line removed."""
    rest = body_after(text, line)
    m = NEWLINE_RE.match(rest)
    return rest[m.end() :] if m else rest
