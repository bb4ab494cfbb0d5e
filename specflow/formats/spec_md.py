"""spec.md in GitHub Spec Kit's layout (templates/spec-template.md).

Read tolerantly: unknown sections are ignored, missing ones are empty, Spec Kit's metadata
lines under the title (`**Feature Branch**: …`) are not part of the summary. Requirements
(`- **FR-001**: …`) and success criteria (`- **SC-001**: …`) are read wherever they are.
Broken documents raise ParseError with a line: no title, duplicate or malformed ids.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from specflow.domain.spec import (
    Clarification,
    Entity,
    Requirement,
    Scenario,
    Spec,
    SuccessCriterion,
    UserStory,
)
from specflow.errors import ParseError
from specflow.formats._md import LABEL_RE, Block, Doc, Item, norm_heading, parse_doc, prose

TITLE_RE = re.compile(r"^(?:feature\s+)?spec(?:ification)?(?:\s*:|\s+[-–—])\s*", re.IGNORECASE)
META_RE = re.compile(
    r"^\s*\*\*(?:feature branch|branch|created|date|status|input|spec)\*\*\s*:", re.IGNORECASE
)
STORY_RE = re.compile(
    r"^(?:user\s+story|US)[\s-]*(?P<n>\d+)\s*[-–—:]?\s*(?P<title>.*?)\s*"
    r"(?:[(\[](?:priority\s*:?\s*)?(?P<p>P\d+)[)\]])?\s*(?:🎯.*)?$",
    re.IGNORECASE,
)
ID_ITEM_RE = re.compile(r"^\*\*(?P<id>(?:FR|SC)-[\w.-]+?):?\*\*:?\s*(?P<text>.*)$", re.DOTALL)
ENTITY_RE = re.compile(r"^\*\*(?P<name>[^*]+?):?\*\*\s*:?\s*(?P<desc>.*)$", re.DOTALL)
SCENARIO_RE = re.compile(
    r"^\*\*Given\*\*\s*(?P<given>.*?),?\s*\*\*When\*\*\s*(?P<when>.*?),?\s*"
    r"\*\*Then\*\*\s*(?P<then>.*)$",
    re.IGNORECASE | re.DOTALL,
)
QA_RE = re.compile(r"^Q:\s*(?P<q>.*?)\s*(?:→|->|=>)\s*A:\s*(?P<a>.*)$", re.DOTALL)
SUMMARY_SECTIONS = ("overview", "summary", "feature overview", "feature summary")
WELL_FORMED_ID_RE = re.compile(r"(?:FR|SC)-\d{3,}[a-z]?")


def parse_spec(body: str, path: str | None = None) -> Spec:
    doc = parse_doc(body)
    title_block = doc.title()
    if title_block is None:
        raise ParseError(
            "no title heading ('# Feature Specification: …')",
            path=path,
            line=doc.first_content_line(),
            hint="start the spec with '# Feature Specification: <feature name>'",
        )
    title = TITLE_RE.sub("", title_block.text).strip()
    if not title:
        raise ParseError("the title heading is empty", path=path, line=title_block.start + 1)
    blocks = doc.blocks
    t = blocks.index(title_block)
    under_title: list[Block] = []
    for block in blocks[t + 1 :]:
        if block.type == "heading":
            break
        under_title.append(block)
    summary = [prose(doc, under_title, drop=META_RE)]

    stories: list[UserStory] = []
    edge_cases: list[str] = []
    entities: list[Entity] = []
    clarifications: list[Clarification] = []
    for i in doc.headings():
        if i == t:
            continue
        name = norm_heading(blocks[i].text)
        story = _story(doc, i, path)
        if story is not None:
            if any(s.id == story.id for s in stories):
                raise ParseError(
                    f"duplicate user story {story.id[2:]}",
                    path=path,
                    line=blocks[i].start + 1,
                    hint="number the user stories 1, 2, 3, …",
                )
            stories.append(story)
        elif name in SUMMARY_SECTIONS:
            summary.append(prose(doc, doc.section(i)))
        elif name.startswith("edge case"):
            edge_cases += [it.flat for it in _items(doc.section(i))]
        elif name.endswith(("entities", "entity")):
            for it in _items(doc.section(i)):
                m = ENTITY_RE.match(it.flat)
                if m:
                    entities.append(Entity(name=m["name"].strip(), description=m["desc"].strip()))
        elif name.startswith("clarification"):
            for it in _items(doc.section(i), deep=True):
                m = QA_RE.match(it.flat)
                if m:
                    clarifications.append(
                        Clarification(question=m["q"].strip(), answer=m["a"].strip())
                    )

    requirements: list[Requirement] = []
    criteria: list[SuccessCriterion] = []
    seen: dict[str, int] = {}
    for block in blocks:
        for it in _items([block], deep=True) if block.type.endswith("_list") else []:
            m = ID_ITEM_RE.match(it.flat)
            if m is None:
                continue
            rid, line = m["id"], it.line + 1
            if not WELL_FORMED_ID_RE.fullmatch(rid):
                raise ParseError(
                    f"malformed id '{rid}'",
                    path=path,
                    line=line,
                    hint="ids are FR- or SC-, at least three digits and an optional letter, e.g. FR-001, FR-002b",
                )
            if rid in seen:
                raise ParseError(
                    f"duplicate id {rid} (first on line {seen[rid]})",
                    path=path,
                    line=line,
                    hint="give every requirement its own id",
                )
            seen[rid] = line
            if rid.startswith("FR"):
                requirements.append(Requirement(id=rid, text=m["text"].strip()))
            else:
                criteria.append(SuccessCriterion(id=rid, text=m["text"].strip()))

    return Spec(
        title=title,
        summary="\n\n".join(s for s in summary if s),
        stories=stories,
        edge_cases=edge_cases,
        requirements=requirements,
        entities=entities,
        success_criteria=criteria,
        clarifications=clarifications,
    )


def render_spec(spec: Spec, project_root: Path | None = None) -> str:
    from specflow.templating import render

    return render("artifacts/spec.md.j2", project_root, spec=spec)


# -- internals ---------------------------------------------------------------------------


def _items(blocks: list[Block], deep: bool = False) -> list[Item]:
    """Top-level items of the lists in `blocks` (all nested ones too with `deep`)."""
    out: list[Item] = []
    for block in blocks:
        for item in block.items:
            out += item.walk() if deep else [item]
    return out


def _story(doc: Doc, index: int, path: str | None) -> UserStory | None:
    heading = doc.blocks[index]
    m = STORY_RE.match(heading.text)
    if m is None or not heading.text.lower().startswith(("user story", "us")):
        return None
    fields: dict[str, Any] = {"description": [], "why": [], "independent_test": []}
    scenarios: list[Scenario] = []
    current = "description"
    for block in doc.section(index):
        if block.type == "paragraph":
            for line in doc.raw(block.start, block.end).split("\n"):
                label = LABEL_RE.match(line.strip())
                key = _label_key(label["label"]) if label else None
                if key is not None and label is not None:
                    current = key
                    if key != "scenarios" and label["rest"].strip():
                        fields[key].append(label["rest"].strip())
                elif current != "scenarios":
                    fields[current].append(line)
            if current != "scenarios":
                fields[current].append("")
        elif block.type.endswith("_list"):
            matched = False
            for it in block.items:
                sm = SCENARIO_RE.match(it.flat)
                if sm:
                    matched = True
                    scenarios.append(
                        Scenario(
                            given=sm["given"].strip(),
                            when=sm["when"].strip(),
                            then=sm["then"].strip(),
                        )
                    )
            if not matched and current != "scenarios":
                fields[current] += [doc.raw(block.start, block.end), ""]
        elif block.type in ("fence", "code_block", "table", "blockquote", "html_block"):
            raw = doc.raw(block.start, block.end)
            if current != "scenarios" and not raw.startswith("<!--"):
                fields[current] += [raw, ""]
    texts = {k: _join(v) for k, v in fields.items()}
    try:
        return UserStory(
            id=f"US{int(m['n'])}",
            title=m["title"].strip(),
            priority=(m["p"] or f"P{int(m['n'])}").upper(),
            scenarios=scenarios,
            **texts,
        )
    except ValidationError as exc:
        raise ParseError(
            f"user story: {exc.errors()[0]['msg']}", path=path, line=heading.start + 1
        ) from exc


def _label_key(label: str) -> str | None:
    label = label.strip().lower()
    if label.startswith("why"):
        return "why"
    if label.startswith("independent test"):
        return "independent_test"
    if label.startswith("acceptance"):
        return "scenarios"
    return None


def _join(lines: list[str]) -> str:
    """Lines back into Markdown: paragraphs separated by one blank line, no outer blanks."""
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()
