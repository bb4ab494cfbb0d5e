"""A spec.md as the linter sees it: requirements, success criteria and scenarios with their
source lines, the lines rules must not read (code, comments, front matter), and the inline
`<!-- specflow-lint: … -->` switches.

Any Markdown is accepted — Spec Kit's layout, Kiro's EARS requirements.md, OpenSpec's
`### Requirement:` / `#### Scenario:` blocks, free-form notes — and nothing here raises: a
document the linter does not understand simply yields fewer statements.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from specflow.formats._md import LABEL_RE, Block, Doc, Item, file_doc, norm_heading, split_lines

REQ_ID = r"(?:FR|NFR|REQ)-[\w.]+"
SC_ID = r"SC-[\w.]+"
ID_RE = re.compile(
    rf"^(?:\*\*|__)?\s*(?P<id>{REQ_ID}|{SC_ID})\s*:?\s*(?:\*\*|__)?\s*[:.)\-–—]?\s*", re.I
)
# `**Given**`, `**WHEN**`, `__Then:__`: the bold opens at the keyword (`**A** when **B**` is prose)
BOLD_KEYWORD_RE = re.compile(r"(?:\*\*|__)(given|when|then)\s*:?(?:\*\*|__)", re.I)
OPENSPEC_SCENARIO_RE = re.compile(r"^scenario\s*:", re.I)
STARTS_SCENARIO_RE = re.compile(r"^(?:given|when)\b", re.I)
STRONG_MODAL_UPPER_RE = re.compile(r"\b(?:SHALL|MUST)\b")
DIRECTIVE_RE = re.compile(
    r"<!--\s*specflow-lint\s*:\s*(?P<kind>disable|disable-next-line|disable-file)\s*"
    r"=\s*(?P<rules>[\w\s,\-]+?)\s*-->",
    re.I,
)
# A marker asks a question (`[NEEDS CLARIFICATION: …]`); `no [NEEDS CLARIFICATION] markers
# remain` in a checklist only mentions them.
CLARIFY_RE = re.compile(r"\[NEEDS CLARIFICATION\s*:[^\]]*\]?", re.I)
# Spec Kit's template guidance and checklists, often left in real specs: not requirements.
BOILERPLATE_RE = re.compile(
    r"checklist|execution flow|execution status|quick guidelines|section requirements|"
    r"for ai generation|review (?:&|and) acceptance",
    re.I,
)
CHECKBOX_RE = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\[[ xX]\]\s")
COMMENT_RE = re.compile(r"<!--.*?-->", re.S)
CODE_SPAN_RE = re.compile(r"(`+)(?:(?!\1).)+?\1")
LINK_TARGET_RE = re.compile(r"\]\([^)\s]*(?:\s+\"[^\"]*\")?\)")
MARKER_RE = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?")
UNMASKED_BLOCKS = ("fence", "code_block", "front_matter", "html_block")
NON_GOALS_RE = re.compile(r"non[- ]goals?|out of scope")
CRITERIA_RE = re.compile(r"success criteri|measurable outcome|success metric")
REQUIREMENTS_RE = re.compile(r"requirement|acceptance criteri")
EMPHASIS_RE = re.compile(r"(\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w))")
BRACKETS_RE = re.compile(r"\[([^\]]*)\]")
GIVEN_RE = re.compile(r"^given\b", re.I)


@dataclass
class Statement:
    kind: str  # requirement | criterion | scenario
    start: int  # 0-based first source line
    end: int  # 0-based line after the statement's own text
    text: str  # cleaned, on one line: no list marker, id, emphasis, comments or code
    ident: str | None = None
    spans: list[tuple[int, int]] = field(default_factory=list)  # lines whose words count

    def __post_init__(self) -> None:
        if not self.spans and self.end > self.start:
            self.spans = [(self.start, self.end)]

    @property
    def line(self) -> int:
        return self.start + 1


@dataclass
class Document:
    lines: list[str]  # the source, for messages
    visible: list[str]  # same lines and columns; comments, code blocks, front matter blanked
    masked: list[str]  # `visible` with code spans and link targets blanked too (for words)
    statements: list[Statement] = field(default_factory=list)
    disabled: dict[int, set[str]] = field(default_factory=dict)  # 0-based line -> rule ids
    disabled_file: set[str] = field(default_factory=set)

    def is_disabled(self, rule: str, start: int, end: int | None = None) -> bool:
        if rule in self.disabled_file or "all" in self.disabled_file:
            return True
        for i in range(start, max(end or start + 1, start + 1)):
            rules = self.disabled.get(i, set())
            if rule in rules or "all" in rules:
                return True
        return False


def heading_kind(text: str) -> str | None:
    name = norm_heading(text)
    if NON_GOALS_RE.search(name) or BOILERPLATE_RE.search(name):
        return None
    if OPENSPEC_SCENARIO_RE.match(text.strip()):
        return "scenario-block"  # OpenSpec: `#### Scenario: …` with WHEN/THEN bullets
    if "scenario" in name:
        return "scenario"
    if CRITERIA_RE.search(name):
        return "criteria"
    if REQUIREMENTS_RE.search(name):
        return "requirements"
    return None


def parse(text: str) -> Document:
    doc, offset = file_doc(text)  # the body's blocks, `offset` lines down (front matter above)
    lines = split_lines(text)
    visible = _visible(text, doc, offset)
    blank = lambda m: " " * len(m.group())  # noqa: E731
    masked = [_mask(line, blank) for line in visible]
    out = Document(lines=lines, visible=visible, masked=masked)
    _directives(out)
    _Scanner(doc, out, offset).run()
    return out


def _mask(line: str, blank: Callable[[re.Match[str]], str]) -> str:
    """`line` with code spans and link targets blanked (the patterns need "`" and "](")."""
    if "`" in line:
        line = CODE_SPAN_RE.sub(blank, line)
    if "](" in line:
        line = LINK_TARGET_RE.sub(blank, line)
    return line


def clean(text: str) -> str:
    """One line of plain words: no list marker, requirement id, emphasis or extra spaces."""
    text = " ".join(part.strip() for part in text.split("\n"))
    text = MARKER_RE.sub("", text)
    text = ID_RE.sub("", text, count=1)
    if "*" in text or "_" in text:
        text = EMPHASIS_RE.sub("", text)
    if "[" in text:
        text = BRACKETS_RE.sub(r"\1", text)
    return " ".join(text.split())


def _visible(text: str, doc: Doc, offset: int) -> list[str]:
    blanked = (
        COMMENT_RE.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text) if "<!--" in text else text
    )
    lines = split_lines(blanked)
    spans = [(b.start + offset, b.end + offset) for b in doc.blocks if b.type in UNMASKED_BLOCKS]
    for start, end in [(0, offset), *spans]:  # lines above the body: its front matter
        for i in range(start, min(end, len(lines))):
            lines[i] = " " * len(lines[i])
    return lines


def _directives(out: Document) -> None:
    for i, line in enumerate(out.lines):
        if "<!--" not in line:
            continue  # every directive is a comment
        for m in DIRECTIVE_RE.finditer(line):
            rules = {r.strip().lower() for r in m["rules"].split(",") if r.strip()}
            kind = m["kind"].lower()
            if kind == "disable-file":
                out.disabled_file |= rules
            else:
                target = i if kind == "disable" else _next_content_line(out.lines, i)
                out.disabled.setdefault(target, set()).update(rules)


def _next_content_line(lines: list[str], i: int) -> int:
    for j in range(i + 1, len(lines)):
        if lines[j].strip():
            return j
    return i + 1


class _Scanner:
    """Walks the top-level blocks, keeping the nearest heading's and label's meaning."""

    def __init__(self, doc: Doc, out: Document, offset: int) -> None:
        self.doc = doc
        self.out = out
        self.offset = offset  # the document's line of the Doc's line 0
        self.context: str | None = None
        self.label: str | None = None
        self.headings: list[tuple[int, bool]] = []  # the open headings: (level, boilerplate?)
        self.block_scenario: Statement | None = None

    def run(self) -> None:
        for block in self.doc.blocks:
            if block.type == "heading":
                self._heading(block)
            elif block.type == "paragraph":
                self._paragraph(block)
            elif block.type.endswith("_list"):
                for item in block.items:
                    self._item(item, top=True)

    @property
    def where(self) -> str | None:
        return self.label or self.context

    def _heading(self, block: Block) -> None:
        self.headings = [h for h in self.headings if h[0] < block.level] + [
            (block.level, bool(BOILERPLATE_RE.search(block.text)))
        ]
        inside_boilerplate = any(boilerplate for _, boilerplate in self.headings)
        self.context = None if inside_boilerplate else heading_kind(block.text)
        self.label = None
        self.block_scenario = None
        if self.context == "scenario-block":  # reported at the heading; its words are below
            line = block.start + self.offset
            self.block_scenario = Statement("scenario", line, line, "")
            self.out.statements.append(self.block_scenario)

    def _paragraph(self, block: Block) -> None:
        label = LABEL_RE.match(block.text.split("\n", 1)[0].strip())
        if label is not None:
            self.label = heading_kind(label["label"]) or None
        start, end = block.start + self.offset, block.end + self.offset
        text = self._text(start, end)
        if self.block_scenario is not None:
            self.block_scenario.text = f"{self.block_scenario.text} {text}".strip()
            self.block_scenario.spans.append((start, end))
        elif self.where == "requirements" and STRONG_MODAL_UPPER_RE.search(text):
            self._add("requirement", start, end, text)

    def _item(self, item: Item, top: bool) -> None:
        start = item.line + self.offset
        end = start + item.text.count("\n") + 1
        text = self._text(start, end)
        if self.block_scenario is not None:
            self.block_scenario.text = f"{self.block_scenario.text} {clean(text)}".strip()
            self.block_scenario.spans.append((start, end))
            for child in item.children:
                self._item(child, top=False)
            return
        kind = self._kind(text, top) if text.strip() else None
        if kind is not None:
            self._add(kind, start, end, text)
            if kind == "scenario" and item.children:  # `**Then**:` with the outcomes below
                below = " ".join(c.flat for child in item.children for c in child.walk())
                last = self.out.statements[-1]
                last.text = f"{last.text} {clean(below)}"
        # Details under a requirement are part of it; other nested items may hold ids.
        if kind is None:
            for child in item.children:
                self._item(child, top=top and text.rstrip().endswith(":"))

    def _kind(self, text: str, top: bool) -> str | None:
        body = MARKER_RE.sub("", text.lstrip())
        m = ID_RE.match(body)
        if m is not None:
            return "criterion" if m["id"].upper().startswith("SC") else "requirement"
        if CHECKBOX_RE.match(text):
            return None  # a checklist item, not a statement
        if BOLD_KEYWORD_RE.search(body):
            return "scenario"
        plain = clean(text)
        if self.where in ("scenario", "requirements") and GIVEN_RE.match(plain):
            return "scenario"
        if self.where == "scenario" and STARTS_SCENARIO_RE.match(plain):
            return "scenario"
        if not top or body.rstrip().endswith(":"):
            return None
        if self.where == "requirements":
            return "requirement"
        if self.where == "criteria":
            return "criterion"
        return None

    def _text(self, start: int, end: int) -> str:
        return "\n".join(self.out.visible[start:end])

    def _add(self, kind: str, start: int, end: int, text: str) -> None:
        body = MARKER_RE.sub("", text.lstrip())
        m = ID_RE.match(body)
        ident = m["id"].upper() if m else None
        self.out.statements.append(Statement(kind, start, end, clean(text), ident))
