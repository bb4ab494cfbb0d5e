"""`clarify`: list a spec's open questions and record answers into it.

Answers are written into the Markdown text itself (the marker is replaced by the answer and the
exchange is logged under `## Clarifications`), so a hand-written or hand-edited spec keeps every
word it had. No model is needed.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass

from specflow.artifacts import EDITED, FRESH, STALE, ArtifactStore
from specflow.domain.spec import CLARIFY_RE
from specflow.errors import InputError
from specflow.fsutil import atomic_write_text
from specflow.project import Feature, Project


@dataclass
class Question:
    key: str  # Q1, Q2 ...
    text: str


def open_questions(project: Project, feature: Feature) -> list[Question]:
    from specflow.formats.spec_md import parse_spec

    art = ArtifactStore(project, feature).read("spec")
    if not art.exists:
        raise InputError(f"{feature.name} has no spec.md", "run 'specflow specify' first")
    spec = parse_spec(art.body, str(art.path))
    return [Question(f"Q{i}", q) for i, q in enumerate(spec.open_questions(), 1)]


def _match(questions: list[Question], key: str) -> Question:
    k = key.strip()
    for q in questions:
        if k.upper() in (q.key, q.key[1:]) or k == q.text:
            return q
    hits = [q for q in questions if k.lower() in q.text.lower()]
    if len(hits) == 1:
        return hits[0]
    listed = "; ".join(f"{q.key}: {q.text}" for q in questions) or "none"
    if not hits:
        raise InputError(f"no open question matches '{key}'", f"open questions: {listed}")
    raise InputError(f"'{key}' matches several questions", f"use the id: {listed}")


def record_answers(project: Project, feature: Feature, answers: dict[str, str]) -> list[Question]:
    """Apply `{question-key: answer}` to spec.md atomically. Returns the questions answered."""
    from specflow.formats.frontmatter import join_front_matter
    from specflow.formats.spec_md import parse_spec

    store = ArtifactStore(project, feature)
    art = store.read("spec")
    questions = open_questions(project, feature)
    if not questions:
        raise InputError(f"{feature.name}/spec.md has no open questions")
    chosen: list[tuple[Question, str]] = []
    for key, answer in answers.items():
        if not answer.strip():
            raise InputError(f"empty answer for '{key}'", "use --answer Q1='your answer'")
        if "\n" in answer.strip():
            raise InputError(
                f"the answer for '{key}' spans several lines", "give a one-line answer"
            )
        chosen.append((_match(questions, key), answer.strip()))
    body = art.body
    for q, answer in chosen:
        pattern = re.compile(r"\[NEEDS CLARIFICATION:\s*" + re.escape(q.text) + r"\s*\]")
        body = pattern.sub(lambda _m, a=answer: a, body)  # type: ignore[misc]
    body = _append_clarifications(body, [(q.text, a) for q, a in chosen])
    parse_spec(body, str(art.path))  # never write a spec that no longer parses
    if art.provenance is not None and art.state in (FRESH, STALE):
        store.write(
            "spec",
            body,
            inputs=art.provenance.inputs,
            template=art.provenance.template,
            templates=art.provenance.templates,
            model=art.provenance.model,
            usage=art.provenance.usage,
            extra={**art.provenance.extra, "clarified": len(chosen)},
            previous=art,
        )
    elif art.state == EDITED:
        atomic_write_text(art.path, join_front_matter(art.meta, body))
    else:
        atomic_write_text(art.path, body)
    return [q for q, _ in chosen]


def _append_clarifications(body: str, pairs: list[tuple[str, str]]) -> str:
    today = _dt.date.today().isoformat()
    entries = "\n".join(f"- Q: {q} → A: {a}" for q, a in pairs)
    lines = body.rstrip("\n").split("\n")
    start = next((i for i, line in enumerate(lines) if line.strip() == "## Clarifications"), None)
    if start is None:
        return body.rstrip("\n") + f"\n\n## Clarifications\n\n### Session {today}\n\n{entries}\n"
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    section = lines[start:end]
    while section and not section[-1].strip():
        section.pop()
    if f"### Session {today}" not in section:
        section += ["", f"### Session {today}"]
    section += ["", *entries.split("\n")] if section[-1].startswith("###") else entries.split("\n")
    tail = lines[end:]
    return "\n".join([*lines[:start], *section, *([""] + tail if tail else [])]) + "\n"


__all__ = ["CLARIFY_RE", "Question", "open_questions", "record_answers"]
