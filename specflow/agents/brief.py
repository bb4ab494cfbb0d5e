"""The Markdown brief an agent gets for one task: the task, the requirements it covers, the
relevant parts of plan and spec, the files it names (current content) and feedback from the
previous attempt. Bounded everywhere: an agent's context is not the whole spec tree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from specflow.domain.tasks import Task

MAX_FILE_CHARS = 8_000
MAX_FILES_CHARS = 32_000
MAX_EXCERPT_CHARS = 6_000
MAX_FEEDBACK_CHARS = 8_000


@dataclass
class BriefInput:
    task: Task
    feature: str
    worktree: Path
    spec_text: str | None = None
    plan_text: str | None = None
    feedback: str | None = None
    attempt: int = 1


def build_brief(inp: BriefInput) -> str:
    t = inp.task
    out: list[str] = [f"# Task {t.id}: {t.title}", ""]
    out.append(f"Feature: `{inp.feature}`. Work only inside this repository checkout.")
    if t.story:
        out.append(f"User story: {t.story}.")
    if t.files:
        out.append("Files: " + ", ".join(f"`{f}`" for f in t.files) + ".")
    if t.verify:
        out.append(f"Done when this passes: `{t.verify}`.")
    out.append("Do not edit the task list; specflow commits your changes when you finish.")
    if inp.feedback:
        out += ["", f"## Feedback from attempt {inp.attempt - 1}", "", "```text"]
        out += [_bounded_tail(inp.feedback, MAX_FEEDBACK_CHARS), "```"]
    reqs = requirement_lines(inp.spec_text or "", t.covers)
    if reqs:
        out += ["", "## Requirements this task covers", "", *reqs]
    plan = excerpt(inp.plan_text or "", [t.id, *t.covers, *t.files])
    if plan:
        out += ["", "## From the plan", "", plan]
    spec = excerpt(inp.spec_text or "", [t.id, *((t.story and [t.story]) or [])], skip_ids=t.covers)
    if spec:
        out += ["", "## From the spec", "", spec]
    files = file_section(inp.worktree, t.files)
    if files:
        out += ["", "## Current content of the files it names", "", *files]
    return "\n".join(out).rstrip() + "\n"


def requirement_lines(spec: str, ids: list[str]) -> list[str]:
    """The spec's line (plus continuation lines) defining each id, e.g. `- **FR-001**: ...`."""
    if not ids or not spec:
        return []
    lines = spec.splitlines()
    found: list[str] = []
    for rid in ids:
        pat = re.compile(rf"(?<![\w-]){re.escape(rid)}(?![\w-])")
        for i, line in enumerate(lines):
            if pat.search(line) and line.lstrip().startswith(("-", "*", "|", rid, f"**{rid}")):
                block = [line.rstrip()]
                for nxt in lines[i + 1 : i + 6]:
                    if nxt.startswith(("  ", "\t")) and nxt.strip():
                        block.append(nxt.rstrip())
                    else:
                        break
                found.append("\n".join(block))
                break
        else:
            found.append(f"- {rid}: (not found in spec.md)")
    return found


def excerpt(text: str, keys: list[str], *, skip_ids: list[str] | None = None) -> str:
    """Sections (by heading) of `text` that mention any key; bounded. Without a hit, the start
    of the document (its context section, in generated plans)."""
    if not text.strip():
        return ""
    sections = _sections(_strip_front_matter(text))
    keys = [k for k in keys if k]
    hits = [s for s in sections if any(k in s for k in keys)]
    if not hits and skip_ids is None:
        hits = sections[:2]
    chosen = "\n\n".join(s.strip() for s in hits)
    return _bounded_head(chosen, MAX_EXCERPT_CHARS)


def file_section(worktree: Path, files: list[str]) -> list[str]:
    out: list[str] = []
    budget = MAX_FILES_CHARS
    root = worktree.resolve()
    for name in files:
        path = (worktree / name).resolve()
        if root not in path.parents:
            continue
        if not path.is_file():
            out.append(f"### `{name}`\n\n(does not exist yet)\n")
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            out.append(f"### `{name}`\n\n(binary or unreadable)\n")
            continue
        limit = min(MAX_FILE_CHARS, budget)
        if limit <= 200:
            out.append(f"### `{name}`\n\n(omitted: brief size limit)\n")
            continue
        shown = _bounded_head(text, limit)
        budget -= len(shown)
        fence = "````" if "```" in shown else "```"
        out.append(f"### `{name}`\n\n{fence}\n{shown}\n{fence}\n")
    return out


def _sections(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("#") and current:
            parts.append("\n".join(current))
            current = []
        current.append(line)
    if current:
        parts.append("\n".join(current))
    return parts


def _strip_front_matter(text: str) -> str:
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end != -1:
            return text[end + 4 :].lstrip("\n")
    return text


def _bounded_head(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rstrip() + f"\n… ({len(text) - limit} more characters)"


def _bounded_tail(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text.rstrip()
    return f"… ({len(text) - limit} earlier characters)\n" + text[-limit:].rstrip()
