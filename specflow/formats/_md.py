"""A thin layer over markdown-it-py shared by the artifact parsers.

markdown-it finds the structure (headings, lists, code fences, tables, front matter) with line
maps; the parsers then read the source lines themselves, so free Markdown round-trips verbatim
and every element knows its 1-based line for error messages. The common Markdown of artifacts
is found faster by `_blocks.scan`, which yields the same blocks or gives up (then markdown-it
parses the document).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import TYPE_CHECKING

from specflow.formats._blocks import Block, Item, Unsure, body_start, scan, table_cell

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

# markdown-it normalises these to "\n" before parsing, so its line numbers count them all.
NEWLINE_RE = re.compile(r"\r\n|\r|\n")
# `**Label**: rest` or `**Label:** rest`
LABEL_RE = re.compile(r"^\*\*(?P<label>[^*]+?):?\*\*:?[ \t]*(?P<rest>.*)$")
# What norm_heading drops: `*(mandatory)*` notes, then emphasis, code and colons.
PARENTHESES_RE = re.compile(r"\*?\([^)]*\)\*?")
MARKUP_RE = re.compile(r"[*_`:]")


@lru_cache(maxsize=1)
def markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt
    from mdit_py_plugins.front_matter import front_matter_plugin

    md = MarkdownIt("commonmark").enable("table").use(front_matter_plugin)
    # The parsers read inline content as source text: skip inline parsing (3-4x faster).
    md.core.ruler.disable(["inline", "text_join"])
    return md


def split_lines(text: str) -> list[str]:
    """The lines of `text`, split at \r\n, \r or \n (markdown-it counts all three)."""
    return NEWLINE_RE.split(text) if "\r" in text else text.split("\n")


class Doc:
    """A Markdown text as top-level blocks plus its source lines."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = split_lines(text)
        self.blocks: list[Block]
        try:
            self.blocks = scan(text, self.lines)
            self.scanned = True  # found by the line scanner, not by markdown-it
        except Unsure:
            self.blocks = markdown_blocks(text)
            self.scanned = False

    def raw(self, start: int, end: int) -> str:
        """Source lines [start, end) without surrounding blank lines."""
        lines = self.lines[start:end]
        while lines and not lines[0].strip():
            lines.pop(0)
        while lines and not lines[-1].strip():
            lines.pop()
        return "\n".join(line.rstrip() for line in lines)

    def headings(self) -> list[int]:
        return [i for i, b in enumerate(self.blocks) if b.type == "heading"]

    def section(self, index: int) -> list[Block]:
        """The blocks after heading `index` up to the next heading of the same or higher rank."""
        level = self.blocks[index].level
        out: list[Block] = []
        for block in self.blocks[index + 1 :]:
            if block.type == "heading" and block.level <= level:
                break
            out.append(block)
        return out

    def section_end(self, index: int) -> int:
        """The line where heading `index`'s section ends."""
        level = self.blocks[index].level
        for block in self.blocks[index + 1 :]:
            if block.type == "heading" and block.level <= level:
                return block.start
        return len(self.lines)

    def title(self) -> Block | None:
        return next((b for b in self.blocks if b.type == "heading" and b.level == 1), None)

    def first_content_line(self) -> int:
        """1-based line of the first non-front-matter block, for errors about a missing title."""
        block = next((b for b in self.blocks if b.type != "front_matter"), None)
        return block.start + 1 if block else 1


# Docs by text while `shared_docs()` is open (None: every parse_doc parses).
_SHARED: ContextVar[dict[str, Doc] | None] = ContextVar("specflow_shared_docs", default=None)


@contextmanager
def shared_docs() -> Iterator[None]:
    """Within the block `parse_doc` parses each text once: `check` opens one per feature, so
    its spec parser and its linter read one parse of spec.md (never one of another feature)."""
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def parse_doc(text: str) -> Doc:
    """Doc(text), parsed once per `shared_docs()` block."""
    shared = _SHARED.get()
    if shared is None:
        return Doc(text)
    doc = shared.get(text)
    if doc is None:
        doc = shared[text] = Doc(text)
    return doc


def file_doc(text: str) -> tuple[Doc, int]:
    """A whole file (front matter included) as (Doc of its body, the line the body starts
    on): the file's blocks after the front matter are the body's, that many lines further
    down, and the body's Doc is the one the artifact parsers use. Without front matter, or
    where the scanner is unsure: (Doc of the whole text, 0)."""
    from specflow.formats.frontmatter import body_after

    lines = split_lines(text)
    start = body_start(text, lines)
    if (
        start is not None and start < len(lines) and not lines[start].startswith("-")
    ):  # `-` at line 0: front matter?
        doc = parse_doc(body_after(text, start))
        if doc.scanned:
            return doc, start
    return Doc(text), 0


def norm_heading(text: str) -> str:
    """`User Scenarios & Testing *(mandatory)*` -> `user scenarios & testing`."""
    text = PARENTHESES_RE.sub(" ", text)
    text = MARKUP_RE.sub(" ", text)
    return " ".join(text.lower().split())


def prose(doc: Doc, blocks: list[Block], drop: re.Pattern[str] | None = None) -> str:
    """The source of `blocks` as free Markdown, without HTML comments (template instructions).

    With `drop`, paragraph lines matching it are left out (e.g. `**Created**: …` metadata).
    """
    parts: list[str] = []
    for block in blocks:
        if block.type in ("front_matter", "hr") or (
            block.type == "html_block" and doc.lines[block.start].lstrip().startswith("<!--")
        ):
            continue
        raw = doc.raw(block.start, block.end)
        if drop is not None and block.type == "paragraph":
            raw = _drop_lines(raw, drop)
        if raw.strip():
            parts.append(raw)
    return "\n\n".join(parts)


def _drop_lines(raw: str, drop: re.Pattern[str]) -> str:
    """Leave out lines matching `drop`, with their continuation lines (up to the next label)."""
    kept: list[str] = []
    dropping = False
    for line in raw.split("\n"):
        if drop.match(line):
            dropping = True
        elif not dropping or LABEL_RE.match(line.strip()):
            dropping = False
            kept.append(line)
    return "\n".join(kept)


def markdown_blocks(text: str) -> list[Block]:
    """The top-level blocks as markdown-it-py finds them."""
    return _blocks(markdown().parse(text))


def _blocks(tokens: list[Token]) -> list[Block]:
    out: list[Block] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.level != 0 or tok.map is None:
            i += 1
            continue
        start, end = tok.map
        if tok.type == "heading_open":
            out.append(Block("heading", start, end, level=int(tok.tag[1]), text=_inline(tokens, i)))
        elif tok.type == "paragraph_open":
            out.append(Block("paragraph", start, end, text=_inline(tokens, i)))
        elif tok.type in ("bullet_list_open", "ordered_list_open"):
            items, _ = _list(tokens, i)
            out.append(Block(tok.type.removesuffix("_open"), start, end, items=items))
        elif tok.type == "table_open":
            out.append(Block("table", start, end, rows=_table(tokens, i)))
        else:
            out.append(Block(tok.type.removesuffix("_open"), start, end))
        i = _close(tokens, i) + 1
    return out


def _close(tokens: list[Token], i: int) -> int:
    """Index of the token closing tokens[i] (itself for self-contained tokens)."""
    tok = tokens[i]
    if tok.nesting != 1:
        return i
    depth = 0
    for j in range(i, len(tokens)):
        depth += tokens[j].nesting
        if depth == 0:
            return j
    return len(tokens) - 1


def _inline(tokens: list[Token], i: int) -> str:
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    return nxt.content.strip() if nxt is not None and nxt.type == "inline" else ""


def _list(tokens: list[Token], i: int) -> tuple[list[Item], int]:
    end = _close(tokens, i)
    items: list[Item] = []
    j = i + 1
    while j < end:
        tok = tokens[j]
        if tok.type != "list_item_open":
            j += 1
            continue
        item_end = _close(tokens, j)
        item = Item(line=tok.map[0] if tok.map else 0, text="")
        k = j + 1
        while k < item_end:
            child = tokens[k]
            if child.type == "paragraph_open" and not item.text and not item.children:
                item.text = _inline(tokens, k)
            elif child.type == "html_block" and not item.text and not item.children:
                item.text = child.content.strip()  # an item that starts with an HTML tag
            elif child.type in ("bullet_list_open", "ordered_list_open"):
                nested, _ = _list(tokens, k)
                item.children += nested
            k = _close(tokens, k) + 1
        items.append(item)
        j = item_end + 1
    return items, end


def _table(tokens: list[Token], i: int) -> list[list[str]]:
    rows: list[list[str]] = []
    for j in range(i, _close(tokens, i)):
        tok = tokens[j]
        if tok.type == "tr_open":
            rows.append([])
        elif tok.type == "inline" and rows:
            rows[-1].append(table_cell(tok.content))
    return rows
