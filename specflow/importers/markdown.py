"""Markdown helpers shared by the importers: slugs, safe embedding of foreign text, task blocks.

Foreign text is kept, but it must not change what specflow's parsers read: a checkbox line
inside a note would become a task, a `verify:` bullet under a task would become a command,
a `## Risks` heading inside a plan note would become the plan's risks. `quote_lines` escapes
exactly those constructs with Markdown backslash escapes, so the text renders the same.
"""

from __future__ import annotations

import re
from typing import Any

from specflow.domain.tasks import Task
from specflow.formats.tasks_md import SUB_KEYS

LIST_ITEM_RE = re.compile(r"^\s*[-*+][ \t]+\S")
FENCE_RE = re.compile(r"^\s*(`{3,}|~{3,})")
CHECKBOX_LINE_RE = re.compile(r"^(?P<lead>\s*(?:[-*+]|\d+[.)])[ \t]+)\[(?P<mark>[^\]\n]?)\]")
KEY_LINE_RE = re.compile(
    r"^(?P<lead>\s*(?:[-*+]|\d+[.)])[ \t]+(?:\*\*)?"
    rf"(?:{SUB_KEYS})(?:\*\*)?[ \t]*):",
    re.IGNORECASE,
)
ID_LINE_RE = re.compile(r"^(?P<lead>\s*(?:[-*+]|\d+[.)])[ \t]+\*\*(?:FR|SC))-")
HEADING_RE = re.compile(r"^(?P<lead> {0,3})(?P<hashes>#{1,6})(?=\s|$)")
SETEXT_RE = re.compile(r"^ {0,3}(=+|-{2,})\s*$")


def slugify(text: str, default: str = "feature") -> str:
    """`My Feature (v2)!` -> `my-feature-v2`; the form FEATURE_RE accepts."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    slug = re.sub(r"-{2,}", "-", slug)[:60].strip("-")
    return slug or default


def title_from_slug(slug: str) -> str:
    words = re.sub(r"[-_]+", " ", slug).strip()
    return words[:1].upper() + words[1:] if words else slug


def quote_lines(lines: list[str], *, headings: bool = False, tasks: bool = True) -> list[str]:
    """Escape what specflow's parsers would read: `**FR-001**` items always; with `tasks`,
    checkboxes and `key:` bullets; with `headings`, ATX headings. Fenced code is left alone.
    """
    out: list[str] = []
    fence: str | None = None
    for line in lines:
        m = FENCE_RE.match(line)
        if fence is not None:
            out.append(line)
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            continue
        if m:
            fence = m.group(1)
            out.append(line)
            continue
        line = ID_LINE_RE.sub(lambda x: f"{x['lead']}\\-", line, count=1)
        if tasks:
            line = CHECKBOX_LINE_RE.sub(lambda x: f"{x['lead']}\\[{x['mark']}]", line, count=1)
            line = KEY_LINE_RE.sub(lambda x: f"{x['lead']}\\:", line, count=1)
        if headings:
            line = HEADING_RE.sub(lambda x: f"{x['lead']}\\{x['hashes']}", line, count=1)
        if SETEXT_RE.match(line) and out and out[-1].strip():
            out.append("")  # an underline would turn the line above into a heading
        out.append(line)
    return out


def reindent(lines: list[str], indent: int) -> list[str]:
    """Shift a block so its least indented line starts at column `indent`; blank lines empty."""
    lines = [line.expandtabs(4).rstrip() for line in lines]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    widths = [len(line) - len(line.lstrip(" ")) for line in lines if line]
    if not widths:
        return []
    shift = indent - min(widths)
    out: list[str] = []
    for line in lines:
        if not line:
            out.append("")
        elif shift >= 0:
            out.append(" " * shift + line)
        else:
            out.append(line[-shift:])
    return out


def collapse_blanks(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        if not line.strip() and out and not out[-1].strip():
            continue
        out.append(line)
    return out


def note_lines(label: str, text: str) -> list[str]:
    """A `- label: text` sub-bullet under a task; multi-line text goes into its own block."""
    text = text.strip()
    if not text:
        return []
    if "\n" not in text:
        return quote_lines([f"  - {label}: {text}"])
    body = quote_lines(reindent(text.splitlines(), 4))
    return [f"  - {label}:", "", *body, ""]


def task_block(task: Task, notes: list[str] | None = None) -> list[str]:
    """A task line, its `key: value` sub-bullets, then free notes (already indented, quoted)."""
    from specflow.formats.tasks_md import sub_bullets, task_line

    lines = [task_line(task)]
    lines += [f"  - {sub}" for sub in sub_bullets(task)]
    if notes:
        if not LIST_ITEM_RE.match(notes[0]):
            lines.append("")  # a paragraph right after a sub-bullet would continue it
        lines += notes
    return lines


def front_matter(tool: str, source: str, **extra: Any) -> str:
    """A small YAML block naming the origin; no `specflow:` block, so the file is hand-written."""
    from specflow.formats.frontmatter import join_front_matter

    return join_front_matter({"imported": {"from": tool, "source": source, **extra}}, "")


def doc_head(tool: str, source: str, heading: str) -> list[str]:
    """The first lines of an imported document: front matter naming its origin, its H1."""
    return [front_matter(tool, source), f"# {heading}", ""]


def spec_doc(
    tool: str, source: str, title: str, before: list[str], frs: list[str], after: list[str]
) -> str:
    """An imported spec.md: its head, the sections `before`, `## Requirements` with the
    functional requirement items `frs`, then the lines `after`; runs of blank lines folded."""
    requirements = ["## Requirements", "", "### Functional Requirements", "", *frs, ""]
    head = doc_head(tool, source, f"Feature Specification: {title}")
    return join_doc(collapse_blanks([*head, *before, *requirements, *after]))


def join_doc(parts: list[str]) -> str:
    text = "\n".join(parts)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n") + "\n"


def check_tasks(feature_tasks: list[Task], body: str, path: str) -> None:
    """tasks.md must parse into exactly the tasks meant, and into an acyclic graph."""
    from specflow.domain.tasks import TaskGraph
    from specflow.errors import InputError
    from specflow.formats.tasks_md import parse_tasks

    parsed = parse_tasks(body, path).all_tasks()
    TaskGraph(parse_tasks(body, path), path=path)
    want = [t.model_dump() for t in feature_tasks]
    got = [t.model_dump() for t in parsed]
    if want != got:
        diff = next(
            (f"{w.get('id')}: {w} != {g}" for w, g in zip(want, got) if w != g),
            f"{len(want)} tasks meant, {len(got)} read back",
        )
        raise InputError(
            f"internal import error: {path} does not read back as written ({diff})",
            "report this with the source file",
        )
