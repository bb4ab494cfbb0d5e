"""Task Master: `.taskmaster/tasks/tasks.json` (or legacy `tasks/tasks.json`) -> one feature per tag.

Both layouts are read: tagged `{"master": {"tasks": [...]}, "feature-x": {...}}` and legacy
`{"tasks": [...]}` (one tag, "master"). Every task and subtask becomes a task T### in document
order (a parent, then its subtasks) with the original id in the title ("(TM 3)", "(TM 3.2)"):

- dependencies are mapped to the new ids. A subtask's number refers to a sibling subtask when
  one has that id, else to a top-level task; "3.2" names subtask 2 of task 3. A subtask that
  waits for no sibling waits for its parent's dependencies; a parent waits for its subtasks
  (Task Master finishes a parent when its subtasks are done).
- status done/completed -> `[x]`; any other status but pending is kept as a note.
- description, priority and testStrategy are kept as notes under the task; details go to
  plan.md ("Task Details", one section per task).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from specflow.domain.tasks import Task
from specflow.errors import InputError
from specflow.formats.tasks_md import infer_files
from specflow.importers.markdown import (
    check_tasks,
    collapse_blanks,
    doc_head,
    join_doc,
    note_lines,
    quote_lines,
    reindent,
    slugify,
    task_block,
    title_from_slug,
)
from specflow.importers.model import ImportedFeature

CANDIDATES = (".taskmaster/tasks/tasks.json", "tasks/tasks.json", "tasks.json")
DONE = {"done", "completed", "complete"}
KNOWN = {
    "id",
    "title",
    "description",
    "details",
    "testStrategy",
    "status",
    "dependencies",
    "priority",
    "subtasks",
    "parentId",
    "parentTaskId",
    "updatedAt",
    "createdAt",
}


def find_tasks_json(source: Path) -> Path | None:
    if source.is_file():
        return source
    for rel in CANDIDATES:
        if (source / rel).is_file():
            return source / rel
    return None


def import_taskmaster(source: Path) -> tuple[list[ImportedFeature], list[str]]:
    path = find_tasks_json(source)
    if path is None:
        raise InputError(
            f"no Task Master tasks.json in {source}",
            "point at a folder holding .taskmaster/tasks/tasks.json or tasks/tasks.json",
        )
    rel = _rel(path, source)
    tags = read_tags(path, rel)
    project = _project_name(path)
    features: list[ImportedFeature] = []
    notes: list[str] = []
    for tag, body in tags.items():
        tasks = body["tasks"]
        if not tasks:
            notes.append(f"tag '{tag}' has no tasks: skipped")
            continue
        slug = slugify(project if tag == "master" else tag)
        meta = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
        features.append(_feature(tasks, slug, meta or {}, f"{rel}#{tag}"))
    if not features:
        raise InputError(f"{rel}: every tag is empty")
    return features, notes


SHAPE = (
    "Task Master's tasks.json: {'tasks': [...]} or {'<tag>': {'tasks': [...], 'metadata': {...}}},"
    " every task with an id, a title and a status"
)
TOP_KEYS = {"tasks", "metadata"}


def read_tags(path: Path, rel: str) -> dict[str, dict[str, Any]]:
    """The file's tags ({"master": {...}} for the legacy layout), after checking that it has
    Task Master's shape: another tool's tasks.json at the same path is refused, not guessed."""
    from specflow.fsutil import read_text_input

    try:
        data = json.loads(read_text_input(path, "save the file as UTF-8 JSON", label=rel))
    except json.JSONDecodeError as exc:
        raise InputError(f"{rel}: not valid JSON ({exc})", "fix the file and retry") from None
    if not isinstance(data, dict):
        raise InputError(f"{rel}: not a Task Master file: a JSON {type(data).__name__}", SHAPE)
    if "tasks" in data:
        tags: dict[str, Any] = {"master": data}
    else:
        tags = data
    for tag, body in tags.items():
        where = rel if "tasks" in data else f"{rel} tag '{tag}'"
        if not isinstance(body, dict) or not isinstance(body.get("tasks"), list):
            raise InputError(f"{where}: not a Task Master file: no 'tasks' list", SHAPE)
        extra = sorted(set(body) - TOP_KEYS)
        if extra:
            raise InputError(
                f"{where}: not a Task Master file: unexpected keys {', '.join(extra)}", SHAPE
            )
        for task in body["tasks"]:
            _check_task(task, where)
    if not tags:
        raise InputError(f"{rel}: no task lists in it", SHAPE)
    return tags


def _check_task(task: Any, where: str) -> None:
    if not isinstance(task, dict) or "id" not in task:
        raise InputError(f"{where}: not a Task Master file: a task without an 'id'", SHAPE)
    name = f"task {task['id']}"
    missing = [k for k in ("title", "status") if not isinstance(task.get(k), str)]
    if missing:
        raise InputError(
            f"{where}: not a Task Master file: {name} has no {' or '.join(missing)}"
            + (
                " (it has 'completed', which Task Master does not write)"
                if "completed" in task
                else ""
            ),
            SHAPE,
        )
    subtasks = task.get("subtasks") or []
    if not isinstance(subtasks, list):
        raise InputError(f"{where}: {name}: 'subtasks' is not a list", SHAPE)
    for sub in subtasks:
        _check_task(sub, where)


@dataclass
class _Entry:
    key: str  # "3" or "3.2"
    raw: dict[str, Any]
    tid: str
    parent: _Entry | None = None
    subtasks: list[_Entry] = field(default_factory=list)


def _feature(items: list[Any], slug: str, meta: dict[str, Any], source: str) -> ImportedFeature:
    entries = _entries(items, source)
    top = {e.key: e for e in entries if e.parent is None}
    by_key = {e.key: e for e in entries}
    warnings: list[str] = []
    title = str(meta.get("name") or title_from_slug(slug))
    tasks: list[Task] = []
    lines = doc_head("taskmaster", source, f"Tasks: {title}")
    details: list[str] = []
    for e in entries:
        task = _task(e, _depends(e, top, by_key, warnings))
        tasks.append(task)
        if str(e.raw.get("details") or "").strip():
            details += [f"### {e.tid} {task.title}", ""]
            details += quote_lines(reindent(str(e.raw["details"]).splitlines(), 0), headings=True)
            details.append("")
        lines += [*task_block(task, _notes(e)), ""]
    body = join_doc(collapse_blanks(lines))
    check_tasks(tasks, body, source)
    feature = ImportedFeature(slug=slug, title=title, source=source)
    subtasks = sum(1 for e in entries if e.parent is not None)
    summary = (
        f"Imported from Task Master (`{source}`): {len(entries) - subtasks} tasks, "
        f"{subtasks} subtasks."
    )
    description = str(meta.get("description") or "").strip()
    feature.add_text(
        "spec.md",
        join_doc(
            [
                *doc_head("taskmaster", source, f"Feature Specification: {title}"),
                *([description, ""] if description else []),
                summary,
            ]
        ),
    )
    plan = doc_head("taskmaster", source, f"Implementation Plan: {title}")
    plan += ["## Summary", "", summary, ""]
    if details:
        plan += ["## Task Details", "", *details]
    feature.add_text("plan.md", join_doc(collapse_blanks(plan)))
    feature.add_text("tasks.md", body)
    feature.tasks = tasks
    feature.id_map = {e.key: e.tid for e in entries}
    feature.warnings = warnings
    return feature


def _entries(items: list[Any], source: str) -> list[_Entry]:
    """Every task and subtask (at any depth) in document order: a parent, then its subtasks."""
    entries: list[_Entry] = []
    top: set[str] = set()

    def add(item: dict[str, Any], parent: _Entry | None) -> None:
        sid = str(item["id"])
        key = sid if parent is None or "." in sid else f"{parent.key}.{sid}"
        entry = _Entry(key, item, f"T{len(entries) + 1:03d}", parent=parent)
        if parent is None:
            if key in top:
                raise InputError(f"{source}: duplicate task id {key}")
            top.add(key)
        else:
            parent.subtasks.append(entry)
        entries.append(entry)
        for sub in item.get("subtasks") or []:
            add(sub, entry)

    for item in items:
        add(item, None)
    return entries


def _task(e: _Entry, depends: list[str]) -> Task:
    title = " ".join(f"{e.raw.get('title') or 'Untitled'} (TM {e.key})".split())
    return Task(
        id=e.tid, title=title, done=_status(e) in DONE, depends=depends, files=infer_files(title)
    )


def _status(e: _Entry) -> str:
    return str(e.raw.get("status") or "pending").strip().lower()


def _notes(e: _Entry) -> list[str]:
    """What the task line cannot hold: description, a status other than pending/done,
    priority, test strategy, any other plain field, and where the details went."""
    status = _status(e)
    notes = note_lines("description", str(e.raw.get("description") or ""))
    if status not in DONE and status != "pending":
        notes += note_lines("status", status)
    notes += note_lines("priority", str(e.raw.get("priority") or ""))
    notes += note_lines("test strategy", str(e.raw.get("testStrategy") or ""))
    for key, value in e.raw.items():
        if key not in KNOWN and isinstance(value, (str, int, float)) and str(value).strip():
            notes += note_lines(key, str(value))
    if str(e.raw.get("details") or "").strip():
        notes += note_lines("details", "in plan.md, Task Details")
    return [line for line in notes if line]


def _depends(
    e: _Entry, top: dict[str, _Entry], by_key: dict[str, _Entry], warnings: list[str]
) -> list[str]:
    out, sibling_dep = _explicit(e, top, by_key, warnings)
    if e.parent is not None and not sibling_dep:
        parent_deps, _ = _explicit(e.parent, top, by_key, [])
        out += [d for d in parent_deps if d not in out]
    if e.subtasks:  # a parent (at any depth) waits for its subtasks
        waited = {d for s in e.subtasks for d in _dep_list(s.raw.get("dependencies"))}
        for s in e.subtasks:  # only the subtasks no sibling waits for: the rest is implied
            if s.key.rsplit(".", 1)[-1] not in waited and s.key not in waited:
                out.append(s.tid)
    return out


def _explicit(
    e: _Entry, top: dict[str, _Entry], by_key: dict[str, _Entry], warnings: list[str]
) -> tuple[list[str], bool]:
    """The task's own dependencies as new ids, and whether one of them is a sibling."""
    out: list[str] = []
    sibling_dep = False
    for dep in _dep_list(e.raw.get("dependencies")):
        target: _Entry | None
        if e.parent is not None and "." not in dep:
            target = by_key.get(f"{e.parent.key}.{dep}")
            sibling_dep = sibling_dep or target is not None
            if target is None:
                target = top.get(dep)
        else:
            target = by_key.get(dep)
        if target is None or target is e or target is e.parent:
            why = "its own parent" if target is not None else "no such task"
            warnings.append(f"TM {e.key}: dependency {dep} dropped ({why})")
            continue
        if target.tid not in out:
            out.append(target.tid)
    return out, sibling_dep


def _dep_list(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        value = [value]
    return [str(v).strip() for v in value if str(v).strip()]


def _project_name(path: Path) -> str:
    folder = path.parent
    while folder.name in ("tasks", ".taskmaster") and folder.parent != folder:
        folder = folder.parent
    return folder.name or "tasks"


def _rel(path: Path, base: Path) -> str:
    try:
        rel = path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        rel = path.name
    return rel if rel not in ("", ".") else path.name
