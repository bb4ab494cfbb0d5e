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
    collapse_blanks,
    front_matter,
    join_doc,
    quote_lines,
    reindent,
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
    out = KiroRequirements()
    section = ""  # what the current `##` section is: intro, glossary, requirements, other
    current: KiroRequirement | None = None
    in_criteria = False
    crit_indent = 0  # where the current requirement's criteria start
    fence = False
    for raw in text.splitlines():
        line = raw.expandtabs(4).rstrip()
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        heading = None if fence else HEADING_RE.match(line.strip())
        if heading is not None:
            level, htext = len(heading["hashes"]), heading["text"].strip()
            m = REQ_HEADING_RE.match(htext)
            if m is None and section == "requirements" and level >= 3:
                m = NUM_HEADING_RE.match(htext)
            if m is not None:
                current = KiroRequirement(m["n"], m["title"].strip())
                out.requirements.append(current)
                in_criteria = False
                continue
            if current is not None and CRITERIA_LABEL_RE.match(htext):
                in_criteria = True
                continue
            if level == 1 and not out.title:
                out.title = TITLE_PREFIX_RE.sub("", htext).strip()
                continue
            name = htext.lower()
            if level <= 2 or current is None:
                current = None
                section = (
                    "intro"
                    if name in ("introduction", "overview", "summary")
                    else "glossary"
                    if name.startswith(("glossary", "terminology", "definitions"))
                    else "requirements"
                    if name.startswith("requirements")
                    else "other"
                )
                if section == "other":
                    out.other.append("#" * max(level, 2) + " " + htext)
                continue
        if current is not None:
            if CRITERIA_LABEL_RE.match(line):
                in_criteria = True
                continue
            crit = CRITERION_RE.match(line) if in_criteria and not fence else None
            indent = len(line) - len(line.lstrip(" "))
            if crit is not None and current.criteria and indent > crit_indent:
                crit = None  # a list nested in the previous criterion
            if crit is not None and not current.criteria:
                crit_indent = indent
            last = current.criteria[-1] if current.criteria else None
            if crit is not None:
                number = f"{current.number}.{crit['n'] or len(current.criteria) + 1}"
                current.criteria.append((number, crit["text"].strip(), []))
            elif last and not last[2] and line.strip() and not fence and not ITEM_RE.match(line):
                # the criterion's sentence wrapped onto the next line
                current.criteria[-1] = (last[0], f"{last[1]} {line.strip()}", last[2])
            elif in_criteria and current.criteria and (line.startswith(" ") or fence or not line):
                current.criteria[-1][2].append(line)
            else:
                story = STORY_RE.match(line)
                current.story.append(story["text"] if story else line)
            continue
        if section == "glossary":
            g = GLOSSARY_ITEM_RE.match(line)
            if g:
                out.glossary.append((g["name"].strip(), g["desc"].strip()))
                continue
        target = out.intro if section in ("intro", "", "requirements") else out.other
        target.append(line)
    return out


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
    parts = [
        front_matter("kiro", source),
        f"# Feature Specification: {title}",
        "",
        *quote_lines(reindent(req.intro, 0), headings=True, tasks=False),
        "",
        "## User Scenarios & Testing",
        "",
        *stories,
        "## Requirements",
        "",
        "### Functional Requirements",
        "",
        *frs,
        "",
    ]
    if req.glossary:
        parts += ["### Key Entities", ""]
        parts += [f"- **{name}**: {desc}" for name, desc in req.glossary]
        parts.append("")
    if req.other:
        parts += quote_lines(req.other, tasks=False)
    return join_doc(collapse_blanks(parts)), refs


def _story_title(story: list[str]) -> str:
    m = WANT_RE.search(" ".join(story))
    if m is None:
        return ""
    words = m["what"].strip(" .,").split()
    text = " ".join(words[:10]) + (" …" if len(words) > 10 else "")
    return text[:1].upper() + text[1:]


def _text(lines: list[str]) -> str:
    return "\n".join(line for line in lines if line.strip())
