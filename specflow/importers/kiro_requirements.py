"""Kiro's requirements.md: numbered requirements with user stories and EARS acceptance criteria.

    ## Introduction / ## Glossary (`- **Term**: …`)
    ### Requirement 1[: Title]
    **User Story:** As a …, I want …, so that …
    #### Acceptance Criteria
    1. WHEN … THEN the system SHALL …

Criterion M of requirement N is Kiro's `N.M`, the number tasks name in `_Requirements: N.M_`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from specflow.importers.markdown import (
    quote_lines,
    reindent,
    spec_doc,
)

HEADING_RE = re.compile(r"^ {0,3}(?P<hashes>#{1,6})[ \t]+(?P<text>.*?)[ \t#]*$")
REQ_HEADING_RE = re.compile(
    r"^(?:\*\*)?requirement\s+(?P<n>\d+(?:\.\d+)*)\**\s*[.:)\-–—]?\s*(?P<title>.*?)\**$", re.I
)
NUM_HEADING_RE = re.compile(r"^(?P<n>\d+(?:\.\d+)*)[.)]?\s+(?P<title>.*)$")
STORY_RE = re.compile(r"^\s*\**user story:?\**:?\s*(?P<text>.*)$", re.I)
CRITERIA_LABEL_RE = re.compile(r"^\s*\**acceptance criteria:?\**:?\s*$", re.I)
CRITERION_RE = re.compile(r"^ {0,3}(?:(?P<n>\d+)[.)]|[-*+])[ \t]+(?P<text>.*)$")
ITEM_RE = re.compile(r"^\s*(?:[-*+]|\d+[.)])(?:[ \t]|$)")
GLOSSARY_ITEM_RE = re.compile(r"^[-*+]\s+\*\*(?P<name>[^*]+?):?\*\*:?\s*(?P<desc>.*)$")
WANT_RE = re.compile(
    r"\bI (?:want|need|would like)(?: to)? (?P<what>.+?)(?:,?\s+so that\b|$)", re.I
)
TITLE_PREFIX_RE = re.compile(
    r"^(?:requirements(?: document)?|design(?: document)?|implementation plan|tasks?)\s*"
    r"(?:[:\-–—]\s*|$)",
    re.I,
)


# -- requirements --------------------------------------------------------------------------


@dataclass
class KiroRequirement:
    number: str
    title: str
    story: list[str] = field(default_factory=list)
    # (Kiro number, first line, further lines)
    criteria: list[tuple[str, str, list[str]]] = field(default_factory=list)


@dataclass
class KiroRequirements:
    title: str = ""
    intro: list[str] = field(default_factory=list)
    glossary: list[tuple[str, str]] = field(default_factory=list)
    requirements: list[KiroRequirement] = field(default_factory=list)
    other: list[str] = field(default_factory=list)  # sections kept as they are


def read_requirements(text: str) -> KiroRequirements:
    reader = _Reader()
    for raw in text.splitlines():
        reader.feed(raw.expandtabs(4).rstrip())
    return reader.out


def _section_kind(name: str) -> str:
    """What a `##` section holds: intro, glossary, requirements, or other (kept as is)."""
    if name in ("introduction", "overview", "summary"):
        return "intro"
    if name.startswith(("glossary", "terminology", "definitions")):
        return "glossary"
    return "requirements" if name.startswith("requirements") else "other"


class _Reader:
    """read_requirements' state, one line at a time."""

    def __init__(self) -> None:
        self.out = KiroRequirements()
        self.section = ""  # the current `##` section's kind (_section_kind)
        self.current: KiroRequirement | None = None
        self.in_criteria = False
        self.crit_indent = 0  # where the current requirement's criteria start
        self.fence = False

    def feed(self, line: str) -> None:
        if line.lstrip().startswith(("```", "~~~")):
            self.fence = not self.fence
        heading = None if self.fence else HEADING_RE.match(line.strip())
        if heading is not None and self._heading(len(heading["hashes"]), heading["text"].strip()):
            return
        if self.current is not None:
            self._requirement_line(self.current, line)
            return
        if self.section == "glossary":
            g = GLOSSARY_ITEM_RE.match(line)
            if g:
                self.out.glossary.append((g["name"].strip(), g["desc"].strip()))
                return
        target = self.out.intro if self.section in ("intro", "", "requirements") else self.out.other
        target.append(line)

    def _heading(self, level: int, htext: str) -> bool:
        """Handle a heading; False: it is text of the current requirement."""
        m = REQ_HEADING_RE.match(htext)
        if m is None and self.section == "requirements" and level >= 3:
            m = NUM_HEADING_RE.match(htext)
        if m is not None:
            self.current = KiroRequirement(m["n"], m["title"].strip())
            self.out.requirements.append(self.current)
            self.in_criteria = False
        elif self.current is not None and CRITERIA_LABEL_RE.match(htext):
            self.in_criteria = True
        elif level == 1 and not self.out.title:
            self.out.title = TITLE_PREFIX_RE.sub("", htext).strip()
        elif level <= 2 or self.current is None:
            self.current = None
            self.section = _section_kind(htext.lower())
            if self.section == "other":
                self.out.other.append("#" * max(level, 2) + " " + htext)
        else:
            return False
        return True

    def _requirement_line(self, current: KiroRequirement, line: str) -> None:
        if CRITERIA_LABEL_RE.match(line):
            self.in_criteria = True
            return
        crit = self._criterion(current, line)
        last = current.criteria[-1] if current.criteria else None
        if crit is not None:
            number = f"{current.number}.{crit['n'] or len(current.criteria) + 1}"
            current.criteria.append((number, crit["text"].strip(), []))
        elif last and not last[2] and line.strip() and not self.fence and not ITEM_RE.match(line):
            # the criterion's sentence wrapped onto the next line
            current.criteria[-1] = (last[0], f"{last[1]} {line.strip()}", last[2])
        elif self.in_criteria and last and (line.startswith(" ") or self.fence or not line):
            last[2].append(line)
        else:
            story = STORY_RE.match(line)
            current.story.append(story["text"] if story else line)

    def _criterion(self, current: KiroRequirement, line: str) -> re.Match[str] | None:
        """A new acceptance criterion, not a list nested in the previous one."""
        crit = CRITERION_RE.match(line) if self.in_criteria and not self.fence else None
        if crit is None:
            return None
        indent = len(line) - len(line.lstrip(" "))
        if current.criteria and indent > self.crit_indent:
            return None
        if not current.criteria:
            self.crit_indent = indent
        return crit


def render_spec(req: KiroRequirements, title: str, source: str) -> tuple[str, dict[str, list[str]]]:
    """spec.md, and Kiro reference -> FR ids ("1.2" -> [FR-002], "1" -> all of requirement 1)."""
    refs: dict[str, list[str]] = {}
    frs: list[str] = []
    stories: list[str] = []
    for i, r in enumerate(req.requirements, 1):
        ids: list[str] = []
        items = r.criteria or [(r.number, " ".join(_text(r.story).split()), [])]
        for number, first, more in items:
            fid = f"FR-{len(frs) + 1:03d}"
            ids.append(fid)
            refs.setdefault(number, []).append(fid)
            frs.append(f"- **{fid}**: {first} (Kiro {number})")
            frs += quote_lines(reindent(more, 2), tasks=False)
        refs.setdefault(r.number, ids)
        name = r.title or _story_title(r.story) or f"Requirement {r.number}"
        head = f"### User Story {i} - {name} (Kiro Requirement {r.number})"
        body = quote_lines(reindent(r.story, 0), headings=True, tasks=False)
        stories += [head, "", *body, "", f"Requirements: {', '.join(ids)}", ""]
    intro = quote_lines(reindent(req.intro, 0), headings=True, tasks=False)
    before = [*intro, "", "## User Scenarios & Testing", "", *stories]
    after: list[str] = []
    if req.glossary:
        after += ["### Key Entities", ""]
        after += [f"- **{name}**: {desc}" for name, desc in req.glossary]
        after.append("")
    if req.other:
        after += quote_lines(req.other, tasks=False)
    return spec_doc("kiro", source, title, before, frs, after), refs


def _story_title(story: list[str]) -> str:
    m = WANT_RE.search(" ".join(story))
    if m is None:
        return ""
    words = m["what"].strip(" .,").split()
    text = " ".join(words[:10]) + (" …" if len(words) > 10 else "")
    return text[:1].upper() + text[1:]


def _text(lines: list[str]) -> str:
    return "\n".join(line for line in lines if line.strip())
