"""YAML front matter: found by markdown-it-py's front-matter plugin, parsed by PyYAML.

`join_front_matter` writes a blank line between the closing fence and the body, and
`split_front_matter` drops exactly that one line again, so split(join(m, b)) == (m, b).
"""

from __future__ import annotations

from typing import Any

from specflow.errors import ParseError
from specflow.formats._md import NEWLINE_RE, markdown

FENCE = "---"


def split_front_matter(text: str, path: str | None = None) -> tuple[dict[str, Any] | None, str]:
    """(metadata, body). Without a front-matter block: (None, text), text unchanged."""
    import yaml

    if not text.startswith("-"):
        return None, text
    tokens = markdown().parse(text)
    token = tokens[0] if tokens else None
    if token is None or token.type != "front_matter" or token.map is None:
        if text.split("\n", 1)[0].rstrip() == "---":
            raise ParseError(
                "front matter is not closed",
                path=path,
                line=1,
                hint="end the YAML with a '---' line, or delete the first line",
            )
        return None, text
    block_end = token.map[1]
    try:
        meta = yaml.safe_load(token.content)
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
    return meta, _body_after(text, block_end)


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
    pos = 0
    for _ in range(line):
        m = NEWLINE_RE.search(text, pos)
        if m is None:
            return ""
        pos = m.end()
    rest = text[pos:]
    m = NEWLINE_RE.match(rest)
    return rest[m.end() :] if m else rest
