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
    front_matter,
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
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{rel}: not valid JSON ({exc})", "fix the file and retry") from None
    if not isinstance(data, dict):
        raise InputError(f"{rel}: expected a JSON object with tasks")
    if isinstance(data.get("tasks"), list):
        tags: dict[str, Any] = {"master": data}
    else:
        tags = {k: v for k, v in data.items() if isinstance(v, dict) and "tasks" in v}
    if not tags:
        raise InputError(f"{rel}: no task lists in it", "expected {'tasks': [...]} or tags")
    project = _project_name(path)
    features: list[ImportedFeature] = []
    notes: list[str] = []
    for tag, body in tags.items():
        tasks = body.get("tasks") or []
        if not isinstance(tasks, list) or not tasks:
            notes.append(f"tag '{tag}' has no tasks: skipped")
            continue
        slug = slugify(project if tag == "master" else tag)
        meta = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
        features.append(_feature(tasks, tag, slug, meta or {}, f"{rel}#{tag}"))
    if not features:
        raise InputError(f"{rel}: every tag is empty")
    return features, notes


@dataclass
class _Entry:
    key: str  # "3" or "3.2"
    raw: dict[str, Any]
    tid: str
    parent: _Entry | None = None
    subtasks: list[_Entry] = field(default_factory=list)


def _feature(
    items: list[Any], tag: str, slug: str, meta: dict[str, Any], source: str
) -> ImportedFeature:
    entries: list[_Entry] = []
    top: dict[str, _Entry] = {}
    for item in items:
        if not isinstance(item, dict) or "id" not in item:
            raise InputError(f"{source}: a task without an id", "every task needs an 'id'")
        parent = _Entry(str(item["id"]), item, f"T{len(entries) + 1:03d}")
        if parent.key in top:
            raise InputError(f"{source}: duplicate task id {parent.key}")
        top[parent.key] = parent
        entries.append(parent)
        for sub in item.get("subtasks") or []:
            if not isinstance(sub, dict) or "id" not in sub:
                raise InputError(f"{source}: a subtask of task {parent.key} has no id")
            sid = str(sub["id"])
            key = sid if "." in sid else f"{parent.key}.{sid}"
            child = _Entry(key, sub, f"T{len(entries) + 1:03d}", parent=parent)
            parent.subtasks.append(child)
            entries.append(child)
    by_key = {e.key: e for e in entries}
    warnings: list[str] = []
    title = str(meta.get("name") or title_from_slug(slug))
    tasks: list[Task] = []
    lines = [front_matter("taskmaster", source), f"# Tasks: {title}", ""]
    details: list[str] = []
    for e in entries:
        depends = _depends(e, top, by_key, warnings)
        status = str(e.raw.get("status") or "pending").strip().lower()
        task_title = " ".join(f"{e.raw.get('title') or 'Untitled'} (TM {e.key})".split())
        task = Task(
            id=e.tid,
            title=task_title,
            done=status in DONE,
            depends=depends,
            files=infer_files(task_title),
        )
        tasks.append(task)
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
            details += [f"### {e.tid} {task_title}", ""]
            details += quote_lines(reindent(str(e.raw["details"]).splitlines(), 0), headings=True)
            details.append("")
        lines += [*task_block(task, [line for line in notes if line]), ""]
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
                front_matter("taskmaster", source),
                f"# Feature Specification: {title}",
                "",
                *([description, ""] if description else []),
                summary,
            ]
        ),
    )
    plan = [
        front_matter("taskmaster", source),
        f"# Implementation Plan: {title}",
        "",
        "## Summary",
        "",
        summary,
        "",
    ]
    if details:
        plan += ["## Task Details", "", *details]
    feature.add_text("plan.md", join_doc(collapse_blanks(plan)))
    feature.add_text("tasks.md", body)
    feature.tasks = tasks
    feature.id_map = {e.key: e.tid for e in entries}
    feature.warnings = warnings
    return feature


def _depends(
    e: _Entry, top: dict[str, _Entry], by_key: dict[str, _Entry], warnings: list[str]
) -> list[str]:
    out, sibling_dep = _explicit(e, top, by_key, warnings)
    if e.parent is not None and not sibling_dep:
        parent_deps, _ = _explicit(e.parent, top, by_key, [])
        out += [d for d in parent_deps if d not in out]
    if e.parent is None:
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
