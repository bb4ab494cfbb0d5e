"""tasks.md: Spec Kit's checkbox task list, plus specflow's optional sub-bullets.

    # Tasks: TITLE
    ## Phase 1: Setup                      <- every `##` heading starts a phase
    - [ ] T012 [P] [US1] Add login endpoint in src/api/login.py
      - depends: T003, T007                <- `none` (or nothing) = explicitly no dependencies
      - files: src/api/login.py            <- absent: inferred from paths in the title
      - covers: FR-001, FR-004
      - verify: pytest tests/api/test_login.py
      - risk: low | medium | high
      - model: NAME

Everything else in the file (notes, checkpoints, code blocks, `###` headings, checklists that
are not tasks) is ignored. Phases without tasks are dropped.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from specflow.domain.tasks import TASK_ID, Phase, Task, TaskGraph, TaskList
from specflow.errors import ParseError
from specflow.formats._md import LABEL_RE, NEWLINE_RE, Doc, Item
from specflow.formats._paths import infer_files

if TYPE_CHECKING:
    from collections.abc import Iterator

# `[ ]` open, `[x]`/`[X]` done; `[~]`, `[-]` and `[/]` (started, in some teams' lists) open.
CHECKBOX_RE = re.compile(r"^\[(?P<mark>[ xX~/-])\][ \t]+(?P<rest>.*)$")
DONE_MARKS = ("x", "X")
# A list without any checkbox: `- T001 Title` items are the tasks.
BARE_RE = re.compile(r"^(?P<mark>)(?P<rest>(?:\*\*)?T\d.*)$")
TASK_RE = re.compile(
    rf"^(?:\*\*)?(?P<id>{TASK_ID})(?:\*\*)?[:.)]?(?:\*\*)?(?:[ \t]+(?P<tail>.*))?$"
)
# A checkbox line whose first word is an attempt at a task id: T12, T004AB, T005-x, TXXX,
# T-012, X12. Such a line is an error with its line number, never a silent drop.
BAD_ID_RE = re.compile(
    r"^(?:\*\*)?(?P<id>T[-_]?\d[^\s*]*|T[X#?]{2,}|[A-Z]\d{2,}[A-Za-z]?)(?:\*\*)?:?(?:\s|$)"
)
MARKER_RE = re.compile(r"^\[(?P<m>[Pp]|[Uu][Ss]\d+)\][ \t]*")
# The keys of a task's `- key: value` sub-bullets (also escaped in imported text: importers)
SUB_KEYS = r"depends(?: on)?|deps|files|covers|verify|risk|model"
SUB_RE = re.compile(
    rf"^(?:\*\*)?(?P<key>{SUB_KEYS})(?:\*\*)?[ \t]*:"
    r"(?:\*\*)?[ \t]*(?P<value>.*)$",
    re.IGNORECASE,
)
TITLE_RE = re.compile(r"^tasks(?:\s*:|\s+[-–—])\s*", re.IGNORECASE)
ID_WORD_RE = re.compile(r"[A-Za-z]+-?\d+[A-Za-z0-9]*(?:\.\d+)*")
NONE_VALUES = {"", "none", "-", "—", "n/a", "[]"}
RISKS = ("low", "medium", "high")
ID_SEPARATOR_RE = re.compile(r"[,\s]+")


def parse_tasks(body: str, path: str | None = None) -> TaskList:
    """Parse tasks.md (front matter allowed); Task.line is the 1-based line in `body`."""
    doc = Doc(body)
    title_block = doc.title()
    if title_block is None:
        raise ParseError(
            "no title heading ('# Tasks: …')",
            path=path,
            line=doc.first_content_line(),
            hint="start the file with '# Tasks: <feature name>'",
        )
    title = TITLE_RE.sub("", title_block.text).strip()
    phases = _phases(doc, CHECKBOX_RE, path)
    if not phases:  # no checkbox anywhere: a plain list of `T001 …` items
        phases = _phases(doc, BARE_RE, path)
    return TaskList(title=title, phases=phases)


def _phases(doc: Doc, line_re: re.Pattern[str], path: str | None) -> list[Phase]:
    phases: list[Phase] = [Phase(title="")]
    for block in doc.blocks:
        if block.type == "heading" and block.level == 2:
            phases.append(Phase(title=block.text))
        elif block.type in ("bullet_list", "ordered_list"):
            for item in _all_items(block.items):
                task = _task(item, path, line_re)
                if task is not None:
                    phases[-1].tasks.append(task)
    return [p for p in phases if p.tasks]


def load_graph(body: str, path: str | None = None) -> TaskGraph:
    """Parse and validate: duplicates, unknown dependencies and cycles raise ParseError."""
    return TaskGraph(parse_tasks(body, path), path=path)


def render_tasks(tasklist: TaskList, project_root: Path | None = None) -> str:
    from specflow.templating import render

    return render(
        "artifacts/tasks.md.j2",
        project_root,
        tasklist=tasklist,
        task_line=task_line,
        sub_bullets=sub_bullets,
    )


def task_line(task: Task) -> str:
    """`- [ ] T012 [P] [US1] Title` (the canonical form)."""
    parts = [f"- [{'x' if task.done else ' '}]", task.id]
    if task.parallel:
        parts.append("[P]")
    if task.story:
        parts.append(f"[{task.story}]")
    if task.title:
        parts.append(task.title)
    return " ".join(parts)


def sub_bullets(task: Task) -> list[str]:
    """The `key: value` lines that carry what the task line cannot, in a fixed order."""
    out: list[str] = []
    if task.depends is not None:
        out.append("depends: " + (", ".join(task.depends) or "none"))
    if task.files != infer_files(task.title):
        out.append("files: " + (", ".join(task.files) or "none"))
    if task.covers:
        out.append("covers: " + ", ".join(task.covers))
    if task.verify is not None:
        out.append(f"verify: {task.verify}")
    if task.risk is not None:
        out.append(f"risk: {task.risk}")
    if task.model is not None:
        out.append(f"model: {task.model}")
    return out


def mark_done(text: str, ids: set[str], path: str | None = None) -> str:
    """Tick `- [ ]` -> `- [x]` on the lines of these tasks; every other byte stays as it was.

    Tasks already done are left alone; an id that is not in the file raises ParseError.
    """
    found: dict[str, int] = {}
    for item, task_id in _task_items(Doc(text).blocks):
        if task_id in ids:
            found.setdefault(task_id, item.line)
    missing = sorted(ids - set(found))
    if missing:
        raise ParseError(
            f"no task {', '.join(missing)} in the task list",
            path=path,
            hint="the task may have been renamed or removed",
        )
    parts = NEWLINE_RE.split(text)
    seps = NEWLINE_RE.findall(text)
    for line in found.values():
        parts[line] = re.sub(
            r"^([\s>]*(?:[-*+]|\d+[.)])[ \t]+)\[ \]", r"\1[x]", parts[line], count=1
        )
    return "".join(p + s for p, s in zip(parts, [*seps, ""], strict=True))


# -- internals ---------------------------------------------------------------------------


def _all_items(items: list[Item]) -> Iterator[Item]:
    for item in items:
        yield item
        yield from _all_items(item.children)


def _task_items(blocks: list[Any]) -> Iterator[tuple[Item, str]]:
    """(item, task id) for every task line, without validating the rest of the task."""
    for block in blocks:
        if block.type in ("bullet_list", "ordered_list"):
            for item in _all_items(block.items):
                box = CHECKBOX_RE.match(item.first_line)
                m = TASK_RE.match(box.group("rest")) if box else None
                if m:
                    yield item, m.group("id")


def _task(item: Item, path: str | None, line_re: re.Pattern[str] = CHECKBOX_RE) -> Task | None:
    box = line_re.match(item.first_line)
    if box is None:
        return None
    line = item.line + 1
    rest = box.group("rest").strip()
    m = TASK_RE.match(rest)
    if m is None:
        bad = BAD_ID_RE.match(rest)
        if bad:
            raise ParseError(
                f"malformed task id '{bad.group('id')}'",
                path=path,
                line=line,
                hint="task ids are 'T', three or more digits, an optional letter and"
                " optional .N parts, e.g. T001, T003a, T200.1",
            )
        return None  # a checklist item, not a task
    tail = (m.group("tail") or "").strip()
    parallel = False
    story: str | None = None
    while True:
        mk = MARKER_RE.match(tail)
        if mk is None:
            break
        marker = mk.group("m").upper()
        if marker == "P":
            parallel = True
        elif story is None:
            story = marker
        else:
            break
        tail = tail[mk.end() :]
    fields: dict[str, Any] = {}
    for child in item.children:
        sub = SUB_RE.match(child.flat)
        if sub is not None:
            key = sub.group("key").lower()
            key = "depends" if key in ("depends on", "deps") else key
            fields[key] = _sub_value(key, sub.group("value").strip(), path, child.line + 1)
    title = " ".join([tail.strip(), *_continuation(item)]).strip()
    if "files" not in fields:
        fields["files"] = infer_files(title)
    try:
        return Task(
            id=m.group("id"),
            title=title,
            done=box.group("mark") in DONE_MARKS,
            parallel=parallel,
            story=story,
            line=line,
            **fields,
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ParseError(
            f"task {m.group('id')}: {where}: {err['msg']}", path=path, line=line
        ) from exc


def _continuation(item: Item) -> list[str]:
    """A task title wrapped onto further lines; a `**Label**:` line right below is not title."""
    out: list[str] = []
    for line in item.text.split("\n")[1:]:
        if LABEL_RE.match(line.strip()):
            break
        out.append(line.strip())
    return out


def _sub_value(key: str, value: str, path: str | None, line: int) -> Any:
    if key in ("depends", "files", "covers"):
        if value.strip("`").strip().lower() in NONE_VALUES:
            return []
        if key == "files":
            return [v.strip().strip("`").strip() for v in value.split(",") if v.strip(" `")]
        # ids only: words such as "and" or "(partly)" around them are ignored
        ids = [w.strip("`()[].;:") for w in ID_SEPARATOR_RE.split(value)]
        ids = [w for w in ids if ID_WORD_RE.fullmatch(w)]
        if not ids:
            raise ParseError(
                f"'{key}:' lists no ids: '{value}'",
                path=path,
                line=line,
                hint=f"write e.g. '{key}: {'T001, T002' if key == 'depends' else 'FR-001'}'"
                " or 'none'",
            )
        return ids
    if key == "risk":
        risk = value.strip("`").strip().lower()
        if risk not in RISKS:
            raise ParseError(
                f"unknown risk '{value}'",
                path=path,
                line=line,
                hint="risk is one of: low, medium, high",
            )
        return risk
    if len(value) >= 2 and value[0] == value[-1] == "`":
        value = value[1:-1].strip()
    return value or None
