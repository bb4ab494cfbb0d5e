"""Top-level Markdown blocks by a line scanner, for the Markdown specflow's artifacts use.

`status` and `check` read hundreds of spec, plan and task files; a full markdown-it-py parse is
most of their time. `scan` follows markdown-it-py's CommonMark block rules (same rule order,
same indentation arithmetic, same line maps) for the common constructs — ATX headings,
paragraphs, bullet and ordered lists with nesting, fenced code, tables, HTML comments,
thematic breaks, front matter — and raises `Unsure` as soon as a line could be anything else
(setext headings, block quotes, indented code, link reference definitions, other HTML, tabs,
lazy continuation lines, empty list items, deep nesting). `_md.Doc` then parses the whole
document with markdown-it-py, so the result is always markdown-it-py's: the scanner is only
ever a faster way to the same blocks (tests/formats/test_blocks_differential.py holds it to
that on every Markdown file of the repository and on hand-written corner cases).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# The characters markdown-it-py's mdTrim strips (JavaScript's trim without U+FEFF).
MD_TRIM = (
    "\t\n\v\f\r \xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + ("\u2028\u2029\u202f\u205f\u3000")
)
HEADER_CELL_RE = re.compile(r"^:?-+:?$")
MAX_LIST_DEPTH = 8  # markdown-it stops nesting at 20 token levels (two per list)
MAX_AUTOCOMPLETED_CELLS = 0x10000
# What a block other than a paragraph (or a table, found by its next line) can start with.
MARKS = frozenset("|-:`~>*_+<#[=0123456789")
LIST_OR_HR = frozenset("-*_+0123456789")


class Unsure(Exception):
    """The text holds Markdown the scanner does not handle: parse it with markdown-it-py."""


@dataclass
class Item:
    """One list item: its first paragraph's text and its nested items."""

    line: int  # 0-based line where the item starts
    text: str  # first paragraph, lines joined by "\n" ('' if the item has none)
    children: list[Item] = field(default_factory=list)

    @property
    def first_line(self) -> str:
        return self.text.split("\n", 1)[0]

    @property
    def flat(self) -> str:
        """The text on one line (soft line breaks become spaces)."""
        return " ".join(part.strip() for part in self.text.split("\n")).strip()

    def walk(self) -> list[Item]:
        out = [self]
        for child in self.children:
            out += child.walk()
        return out


@dataclass
class Block:
    """A top-level block: heading, paragraph, list, fence, table, html_block, hr, ..."""

    type: str
    start: int  # 0-based first line
    end: int  # 0-based line after the block
    level: int = 0  # heading level
    text: str = ""  # inline content of a heading or paragraph
    items: list[Item] = field(default_factory=list)  # list items (bullet_list, ordered_list)
    rows: list[list[str]] = field(default_factory=list)  # table cells, header row first


def scan(text: str, lines: list[str]) -> list[Block]:
    """The top-level blocks of `text` (split into `lines`), or Unsure."""
    if "\t" in text or "\0" in text:
        raise Unsure("tabs or NUL characters")
    return _Scanner(lines).run()


def table_cell(content: str) -> str:
    """A cell as the parsers see it (escaped pipes unescaped)."""
    return content.replace("\\|", "|").strip()


class _Scanner:
    """markdown-it-py's StateBlock and block rules, cut down to the supported constructs.

    Without tabs a line's indentation in columns is its count of leading spaces, so one array
    (`col`) stands for markdown-it's tShift and sCount; a list item's first line gets the
    column of its content while the item is parsed, as there.
    """

    def __init__(self, lines: list[str]) -> None:
        self.s = lines
        self.end = end = _line_max(lines)
        self.col = [len(line) - len(line.lstrip(" ")) for line in lines[:end]]
        self.blk = 0  # blkIndent
        self.list_indent = -1
        self.parent = "root"
        self.depth = 0

    def run(self) -> list[Block]:
        return self.tokenize(0)[0]

    # -- the block loop -----------------------------------------------------------------

    def tokenize(self, line: int) -> tuple[list[Block], int]:
        out: list[Block] = []
        s, col, end = self.s, self.col, self.end
        while line < end:
            while line < end and col[line] >= len(s[line]):
                line += 1
            if line >= end or col[line] < self.blk:
                break
            text, c = s[line], col[line]
            if text[c] not in MARKS and c - self.blk < 4 and not self.maybe_table(line):
                block = self.paragraph(line)  # the common case, decided at once
            else:
                block = self.block(line)
            out.append(block)
            line = block.end
        return out, line

    def block(self, i: int) -> Block:
        """The block starting at line `i` (markdown-it's rules in its order; each rule needs
        its own first character, so only the rules that character allows are tried)."""
        line, c = self.s[i], self.col[i]
        ch = line[c]
        if i == 0 and line.startswith("-"):
            dashes = len(line) - c - len(line[c:].lstrip("-"))
            if dashes >= 3:
                if self.blk:
                    raise Unsure("front matter rule inside a list item")
                return self.front_matter(dashes)
        table = self.table_head(i) if self.maybe_table(i) else None
        if table is not None:
            return self.table(i, table)
        if c - self.blk >= 4:
            raise Unsure("indented code")
        if ch in LIST_OR_HR:
            if self.hr(i):
                return Block("hr", i, i + 1)
            marker = self.list_marker(i, silent=False)
            if marker is not None:
                return self.list_block(i, *marker)
        elif ch in "`~" and self.fence_start(i):
            return self.fence(i)
        elif ch == ">":
            self.quote(i)
        elif ch == "[" and _maybe_reference(line, c):
            raise Unsure("link reference definition")
        elif ch == "<" and self.html_start(i):
            return self.html(i)
        elif ch == "#":
            heading = self.heading(i)
            if heading is not None:
                return heading
        return self.paragraph(i)

    def maybe_table(self, i: int) -> bool:
        """Whether line `i` may head a table: the next line starts like a delimiter row."""
        n = i + 1
        if n >= self.end:
            return False
        line, c = self.s[n], self.col[n]
        if c + 1 >= len(line):
            return False
        return line[c] in "|:" or (line[c] == "-" and line[c + 1] != " ")  # not `- item`

    def empty(self, i: int) -> bool:
        return self.col[i] >= len(self.s[i])

    def lines_from(self, start: int, end: int, indent: int) -> str:
        """markdown-it's getLines: up to `indent` columns of each line dropped."""
        parts = []
        for i in range(start, end):
            line, c = self.s[i], self.col[i]
            k, n = 0, len(line)
            while k < n and k < indent and (k < c or line[k] == " "):
                k += 1
            parts.append(line[k:])
        return "\n".join(parts)

    # -- rules --------------------------------------------------------------------------

    def front_matter(self, dashes: int) -> Block:
        end = front_matter_end(self.s, self.end, dashes)
        if end is None:
            raise Unsure("front matter not closed")
        return Block("front_matter", 0, end)

    def table_head(self, i: int) -> tuple[list[str], int] | None:
        """The header cells and column count when line `i` starts a table."""
        if i + 2 > self.end:
            return None
        n = i + 1
        line, c = self.s[n], self.col[n]
        if c + 1 >= len(line) or line[c] not in "|-:" or not 0 <= c - self.blk < 4:
            return None
        first, second = line[c], line[c + 1]
        if first not in "|-:" or second not in "|-: " or (first == "-" and second == " "):
            return None
        if line.strip("|-: "):
            return None
        columns = line[c:].split("|")
        aligns = 0
        for k, column in enumerate(columns):
            t = column.strip(MD_TRIM)
            if not t:
                if k == 0 or k == len(columns) - 1:
                    continue
                return None
            if not HEADER_CELL_RE.search(t):
                return None
            aligns += 1
        head = self.s[i][self.col[i] :].strip(MD_TRIM)
        if "|" not in head or self.col[i] - self.blk >= 4:
            return None
        cells = _split_row(head)
        if not cells or len(cells) != aligns:
            return None
        return cells, aligns

    def table(self, i: int, head: tuple[list[str], int]) -> Block:
        cells, count = head
        rows = [[table_cell(cell.strip(MD_TRIM)) for cell in cells]]
        n = i + 2
        old, self.parent = self.parent, "table"
        filled = 0
        while n < self.end:
            if self.col[n] < self.blk or self.ends_table(n):
                break
            text = self.s[n][self.col[n] :].strip(MD_TRIM)
            if not text or self.col[n] - self.blk >= 4:
                break
            row = _split_row(text)
            filled += count - len(row)
            if filled > MAX_AUTOCOMPLETED_CELLS:
                break
            row += [""] * (count - len(row))
            rows.append([table_cell(cell.strip(MD_TRIM)) for cell in row[:count]])
            n += 1
        self.parent = old
        return Block("table", i, n, rows=rows)

    def ends_table(self, n: int) -> bool:
        """Whether line `n` starts a fence, block quote, hr, list, HTML block or heading."""
        line, c = self.s[n], self.col[n]
        if c >= len(line) or c - self.blk >= 4:
            return False
        ch = line[c]
        if ch in LIST_OR_HR:
            return self.hr(n) or self.list_marker(n, silent=True) is not None
        if ch in "`~":
            return self.fence_start(n)
        if ch == "<":
            return self.html_start(n)
        if ch == "#":
            return self.heading(n) is not None
        return self.quote(n)

    def fence_start(self, i: int) -> bool:
        line, c = self.s[i], self.col[i]
        if c - self.blk >= 4 or c + 3 > len(line):
            return False
        marker = line[c]
        if marker not in "`~":
            return False
        params = line[c:].lstrip(marker)
        if len(line) - c - len(params) < 3:
            return False
        return not (marker == "`" and "`" in params)

    def fence(self, i: int) -> Block:
        line, c = self.s[i], self.col[i]
        marker = line[c]
        length = len(line) - c - len(line[c:].lstrip(marker))
        n, closed = i, False
        while True:
            n += 1
            if n >= self.end:
                break
            line, c = self.s[n], self.col[n]
            if c < len(line) and c < self.blk:
                break
            if c >= len(line) or line[c] != marker or c - self.blk >= 4:
                continue
            rest = line[c:].lstrip(marker)
            if len(line) - c - len(rest) >= length and not rest.strip(" "):
                closed = True
                break
        return Block("fence", i, n + 1 if closed else n)

    def quote(self, i: int) -> bool:
        line, c = self.s[i], self.col[i]
        if c - self.blk < 4 and c < len(line) and line[c] == ">":
            raise Unsure("block quote")
        return False

    def hr(self, i: int) -> bool:
        line, c = self.s[i], self.col[i]
        if c - self.blk >= 4 or c >= len(line) or line[c] not in "*-_":
            return False
        marker = line[c]
        if line[c:].strip(marker + " "):
            return False
        return line.count(marker, c) >= 3

    def list_marker(self, i: int, silent: bool) -> tuple[bool, int] | None:
        """(ordered, position after the marker) when a list (item) starts at line `i`."""
        line, c = self.s[i], self.col[i]
        if c - self.blk >= 4:
            return None
        if self.list_indent >= 0 and c - self.list_indent >= 4 and c < self.blk:
            return None
        terminating = silent and self.parent == "paragraph" and c >= self.blk
        after = _ordered_marker(line, c)
        ordered = after >= 0
        if ordered:
            if terminating and int(line[c : after - 1]) != 1:
                return None
        else:
            after = _bullet_marker(line, c)
            if after < 0:
                return None
        if terminating and not line[after:].strip(" "):
            return None
        return ordered, after

    def list_block(self, i: int, ordered: bool, after: int) -> Block:
        char = self.s[i][after - 1]
        items: list[Item] = []
        old_parent, self.parent = self.parent, "list"
        self.depth += 1
        if self.depth >= MAX_LIST_DEPTH:
            raise Unsure("lists nested too deep")
        n = i
        while n < self.end:
            item, n = self.list_item(n, after)
            items.append(item)
            if n >= self.end or self.col[n] < self.blk or self.col[n] - self.blk >= 4:
                break
            line = self.s[n]
            ch = line[self.col[n]]
            if (ch in "`~" and self.fence_start(n)) or (ch == ">" and self.quote(n)):
                break
            if ch in "*-_" and self.hr(n):
                break
            after = (_ordered_marker if ordered else _bullet_marker)(line, self.col[n])
            if after < 0 or line[after - 1] != char:
                break
        self.depth -= 1
        self.parent = old_parent
        return Block("ordered_list" if ordered else "bullet_list", i, n, items=items)

    def list_item(self, n: int, after: int) -> tuple[Item, int]:
        """The item starting at line `n` and the line after it."""
        line = self.s[n]
        content = len(line) - len(line[after:].lstrip(" "))
        if content >= len(line):
            raise Unsure("empty list item")
        if content - after > 4:
            raise Unsure("indented code in a list item")
        old_col, old_indent, old_blk = self.col[n], self.list_indent, self.blk
        self.list_indent, self.blk, self.col[n] = self.blk, content, content
        children, end = self.tokenize(n)
        item = Item(line=n, text="")
        for block in children:
            if block.type == "paragraph" and not item.text and not item.children:
                item.text = block.text
            elif block.type == "html_block" and not item.text and not item.children:
                item.text = self.lines_from(block.start, block.end, self.blk).strip()
            elif block.type.endswith("_list"):
                item.children += block.items
        self.col[n], self.list_indent, self.blk = old_col, old_indent, old_blk
        return item, end

    def html_start(self, i: int) -> bool:
        line, c = self.s[i], self.col[i]
        if c - self.blk >= 4 or c >= len(line) or line[c] != "<":
            return False
        if line.startswith("<!--", c):
            return True
        raise Unsure("HTML")

    def html(self, i: int) -> Block:
        n = i + 1
        if "-->" not in self.s[i][self.col[i] :]:
            while n < self.end:
                if self.col[n] < self.blk and not self.empty(n):
                    break
                n += 1
                if "-->" in self.s[n - 1]:
                    break
        return Block("html_block", i, n)

    def heading(self, i: int) -> Block | None:
        line, c = self.s[i], self.col[i]
        if c - self.blk >= 4 or c >= len(line) or line[c] != "#":
            return None
        n = len(line)
        level, pos = 1, c + 1
        while pos < n and line[pos] == "#" and level <= 6:
            level += 1
            pos += 1
        if level > 6 or (pos < n and line[pos] != " "):
            return None
        end = len(line[:n].rstrip(" "))
        end = max(end, pos)
        tmp = end
        while tmp > pos and line[tmp - 1] == "#":
            tmp -= 1
        if tmp > pos and line[tmp - 1] == " ":
            end = tmp
        return Block("heading", i, i + 1, level=level, text=line[pos:end].strip())

    def paragraph(self, i: int) -> Block:
        s, col, end, blk = self.s, self.col, self.end, self.blk
        n = i + 1
        old, self.parent = self.parent, "paragraph"
        while n < end:
            line, c = s[n], col[n]
            if c >= len(line):
                break
            if c - blk > 3:
                n += 1
                continue
            ch = line[c]
            if ch in MARKS:
                if ch in "-=" and c >= blk and _underline(line, c):
                    raise Unsure("setext heading")
                if (self.maybe_table(n) and self.table_head(n) is not None) or self.ends_table(n):
                    break
            elif self.maybe_table(n) and self.table_head(n) is not None:
                break
            if c < blk:
                raise Unsure("lazy continuation line")
            n += 1
        self.parent = old
        return Block("paragraph", i, n, text=self.lines_from(i, n, self.blk).strip())


def _line_max(lines: list[str]) -> int:
    """How many lines markdown-it counts: a blank last line is not one."""
    end = len(lines)
    return end - 1 if end and not lines[-1].strip(" ") else end


def front_matter_end(lines: list[str], end: int, dashes: int) -> int | None:
    """The line after the fence (`dashes` or more dashes, or `...`) that closes the front
    matter opened on line 0 (markdown-it-py's front-matter rule), None when none does."""
    for n in range(1, end):
        line = lines[n]
        c = len(line) - len(line.lstrip(" "))
        if c == 0 and line.startswith("...") and not line[3:].strip(" "):
            return n + 1
        if c >= len(line) or line[c] != "-" or c >= 4:
            continue
        rest = line[c:].lstrip("-")
        if len(line) - c - len(rest) >= dashes and not rest.strip(" "):
            return n + 1
    return None


def body_start(text: str, lines: list[str]) -> int | None:
    """The line where the body starts after the front matter as `scan` finds it (one blank
    line after the fence is the separator, as frontmatter.split_front_matter drops it), None
    without front matter or with anything the scanner is unsure of."""
    first = lines[0]
    dashes = len(first) - len(first.lstrip("-"))
    if dashes < 3 or "\t" in text or "\0" in text:
        return None
    fence_end = front_matter_end(lines, _line_max(lines), dashes)
    if fence_end is None:
        return None
    if fence_end + 1 < len(lines) and lines[fence_end] == "":
        return fence_end + 1
    return fence_end


def _split_row(text: str) -> list[str]:
    """A table row's cells: split at pipes not escaped by a backslash (which is dropped),
    without the empty cells outside a leading and a trailing pipe."""
    cells: list[str] = []
    current, last, escaped = "", 0, False
    for pos, ch in enumerate(text):
        if ch == "|":
            if escaped:
                current += text[last : pos - 1]
                last = pos
            else:
                cells.append(current + text[last:pos])
                current, last = "", pos + 1
        escaped = ch == "\\"
    cells.append(current + text[last:])
    if cells and cells[0] == "":
        cells.pop(0)
    if cells and cells[-1] == "":
        cells.pop()
    return cells


def _ordered_marker(line: str, c: int) -> int:
    """Position after `12.` or `3)` (at most 9 digits, then a space or the end), else -1."""
    n = len(line)
    if c + 1 >= n or not "0" <= line[c] <= "9":
        return -1
    pos = c + 1
    while True:
        if pos >= n:
            return -1
        ch = line[pos]
        pos += 1
        if "0" <= ch <= "9":
            if pos - c >= 10:
                return -1
            continue
        if ch in ").":
            break
        return -1
    if pos < n and line[pos] != " ":
        return -1
    return pos


def _bullet_marker(line: str, c: int) -> int:
    if c >= len(line) or line[c] not in "*-+":
        return -1
    if c + 1 < len(line) and line[c + 1] != " ":
        return -1
    return c + 1


def _underline(line: str, c: int) -> bool:
    """`===` or `---` (any length) and nothing but spaces after: a setext heading's line."""
    marker = line[c]
    return marker in "-=" and not line[c:].lstrip(marker).strip(" ")


def _maybe_reference(line: str, c: int) -> bool:
    """Whether `[label]:` may start here (when unsure, yes)."""
    for k in range(c + 1, len(line)):
        ch = line[k]
        if ch == "[":
            return False
        if ch == "\\":
            return True
        if ch == "]":
            return line[k + 1 : k + 2] == ":"
    return True
