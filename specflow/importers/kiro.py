"""Kiro specs: `.kiro/specs/<name>/{requirements,design,tasks}.md` -> one feature each.

- requirements.md: each `### Requirement N` becomes a user story (its "As a …" text), each of
  its numbered acceptance criteria a requirement FR-### that keeps the Kiro number in its text
  ("(Kiro 1.2)"); the introduction is the summary, the glossary the key entities.
- design.md: the plan's body, as written.
- tasks.md: every checkbox a task T### in document order, the Kiro number kept in the title
  ("(1.1)"); `_Requirements: 1.1, 2_` -> `covers:`; a task waits for its previous sibling (all
  of it, sub-tasks included), a first sub-task for its parent, unless it names
  `Depends on: …` or a "Task Dependency Graph" JSON block gives waves; the done state and every
  detail line are kept.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from specflow.domain.tasks import Task
from specflow.errors import InputError
from specflow.formats.tasks_md import infer_files
from specflow.fsutil import read_text_input
from specflow.importers.checklist import RawTask, checklist_doc, numbers_in, read_checklist
from specflow.importers.kiro_requirements import (
    HEADING_RE,
    TITLE_PREFIX_RE,
    read_requirements,
    render_spec,
)
from specflow.importers.markdown import (
    check_tasks,
    doc_head,
    join_doc,
    slugify,
    title_from_slug,
)
from specflow.importers.model import ImportedFeature

KIRO_FILES = ("requirements.md", "design.md", "tasks.md")
REFS_RE = re.compile(
    r"(?:(?<![a-z])requirements?\s*\**\s*:|(?<![a-z])validates\s*\**:?\**\s*(?:requirements?)?)\s*\**:?\s*"
    r"(?P<refs>\d+(?:\.\d+)*(?:\s*(?:,|;|and|&)\s*\d+(?:\.\d+)*)*)",
    re.I,
)
WAVES_RE = re.compile(r"```json[ \t]*\n(?P<json>\{\s*\"waves\".*?)\n[ \t]*```", re.S)
DEPENDS_RE = re.compile(
    r"^\s*(?:[-*+]\s+)?[_*]*(?:depends on|dependencies|depends|blocked by)[_*]*\s*:[_*]*\s*"
    r"(?P<refs>.*?)[_*]*\s*$",
    re.I,
)


def find_specs(source: Path) -> list[Path]:
    """Kiro spec folders under SOURCE (a repo, `.kiro`, `.kiro/specs` or one spec folder)."""
    if any((source / f).is_file() for f in KIRO_FILES):
        return [source]
    for base in (source / ".kiro" / "specs", source / "specs", source):
        if base.is_dir():
            found = sorted(
                p
                for p in base.iterdir()
                if p.is_dir() and any((p / f).is_file() for f in KIRO_FILES)
            )
            if found:
                return found
    return []


def import_kiro(source: Path) -> list[ImportedFeature]:
    specs = find_specs(source)
    if not specs:
        raise InputError(
            f"no Kiro specs in {source}",
            "point at a folder holding .kiro/specs/<name>/requirements.md, design.md, tasks.md",
        )
    return [_feature(folder, _rel(folder, source)) for folder in specs]


# -- tasks -----------------------------------------------------------------------------------


def convert_tasks(
    text: str, title: str, refs: dict[str, list[str]], source: str
) -> tuple[str, list[Task], dict[str, str], list[str]]:
    """tasks.md, the tasks in it, Kiro number -> task id, and warnings."""
    checklist = read_checklist(text)
    ids = {id(t): f"T{i:03d}" for i, t in enumerate(checklist.tasks, 1)}
    by_number = {t.number: t for t in checklist.tasks if t.number}
    warnings: list[str] = []
    tasks: dict[int, Task] = {}  # id(raw task) -> its task
    waves = _waves(text, by_number, warnings)
    for raw in checklist.tasks:
        explicit = _explicit_depends(raw, by_number, ids, warnings)
        if explicit is None and raw.number in waves:
            explicit = [ids[id(t)] for t in waves[raw.number or ""]]
        depends = explicit if explicit is not None else _implicit(raw, checklist.siblings(raw), ids)
        covers: list[str] = []
        for line in raw.body:
            for m in REFS_RE.finditer(line):
                for ref in numbers_in(m["refs"]):
                    found = refs.get(ref)
                    if found is None:
                        warnings.append(
                            f"task {raw.label} names requirement {ref}, not in requirements.md"
                        )
                    covers += [c for c in found or [] if c not in covers]
        suffix = raw.number or ""
        if raw.optional:
            suffix = f"{suffix}, optional" if suffix else "optional"
        task_title = f"{raw.title} ({suffix})" if suffix else raw.title
        tasks[id(raw)] = Task(
            id=ids[id(raw)],
            title=task_title,
            done=raw.done,
            depends=depends,
            covers=covers,
            files=infer_files(task_title),
        )
    body = checklist_doc("kiro", source, title, checklist, tasks)
    id_map = {t.number: ids[id(t)] for t in checklist.tasks if t.number}
    return body, list(tasks.values()), id_map, warnings


def _implicit(raw: RawTask, siblings: list[RawTask], ids: dict[int, str]) -> list[str]:
    pos = next(i for i, s in enumerate(siblings) if s is raw)
    if pos == 0:
        return [ids[id(raw.parent)]] if raw.parent is not None else []
    prev = siblings[pos - 1]
    return [ids[id(t)] for t in _sinks(prev)]


def _waves(
    text: str, by_number: dict[str, RawTask], warnings: list[str]
) -> dict[str, list[RawTask]]:
    """A "Task Dependency Graph" JSON block (`{"waves": [{"wave": 1, "tasks": [1, 2]}, …]}`):
    task number -> the tasks that finish the previous wave."""
    m = WAVES_RE.search(text)
    if m is None:
        return {}
    try:
        data = json.loads(m["json"])
        waves = sorted(data["waves"], key=lambda w: w.get("wave", 0))
        numbers = [[str(t) for t in w["tasks"]] for w in waves]
    except (ValueError, KeyError, TypeError, AttributeError):
        warnings.append("the task dependency graph (waves) is not valid JSON: order used instead")
        return {}
    out: dict[str, list[RawTask]] = {}
    previous: list[RawTask] = []
    for wave in numbers:
        found = [by_number[n] for n in wave if n in by_number]
        warnings += [
            f"the waves name task {n}, which is not in the list" for n in wave if n not in by_number
        ]
        for n in wave:
            out[n] = list(previous)
        previous = [s for t in found for s in _sinks(t)]
    return out


def _sinks(task: RawTask) -> list[RawTask]:
    """The tasks that finish `task` and its whole subtree: its last descendants in each chain."""
    if not task.children:
        return [task]
    return _sinks(task.children[-1])


def _explicit_depends(
    raw: RawTask, by_number: dict[str, RawTask], ids: dict[int, str], warnings: list[str]
) -> list[str] | None:
    for line in raw.body:
        m = DEPENDS_RE.match(line)
        if m is None:
            continue
        if m["refs"].strip(" .").lower() in ("", "none", "n/a", "-"):
            return []
        if not numbers_in(m["refs"]):
            continue
        out: list[str] = []
        for ref in numbers_in(m["refs"]):
            dep = by_number.get(ref)
            if dep is None or dep is raw:
                warnings.append(f"task {raw.label} depends on {ref}, which is not a task")
                continue
            if ids[id(dep)] not in out:
                out.append(ids[id(dep)])
        return out
    return None


# -- the feature -----------------------------------------------------------------------------


def _feature(folder: Path, source: str) -> ImportedFeature:
    texts = {f: read_text_input(folder / f) for f in KIRO_FILES if (folder / f).is_file()}
    req = read_requirements(texts.get("requirements.md", ""))
    slug = slugify(re.sub(r"^\d+[-_.]\s*", "", folder.name) or folder.name)
    title = req.title or _h1_title(texts.get("design.md", "")) or title_from_slug(slug)
    feature = ImportedFeature(slug=slug, title=title, source=source)
    spec, refs = render_spec(req, title, f"{source}/requirements.md")
    feature.add_text("spec.md", spec)
    feature.requirements = sum(len(r.criteria) or 1 for r in req.requirements)
    if "design.md" in texts:
        feature.add_text("plan.md", _plan(texts["design.md"], title, f"{source}/design.md"))
    if "tasks.md" in texts:
        body, tasks, id_map, warnings = convert_tasks(
            texts["tasks.md"], title, refs, f"{source}/tasks.md"
        )
        check_tasks(tasks, body, f"{source}/tasks.md")
        feature.add_text("tasks.md", body)
        feature.tasks, feature.id_map = tasks, id_map
        feature.warnings += warnings
    for extra in sorted(folder.rglob("*")):
        rel = extra.relative_to(folder).as_posix()
        if extra.is_file() and rel not in KIRO_FILES:
            feature.files[rel if rel not in feature.files else f"kiro-{rel}"] = extra.read_bytes()
    return feature


def _plan(design: str, title: str, source: str) -> str:
    lines = design.splitlines()
    for i, line in enumerate(lines):
        m = HEADING_RE.match(line.strip())
        if line.strip():
            if m and len(m["hashes"]) == 1:
                lines = lines[i + 1 :]
            break
    body = "\n".join(lines).strip("\n")
    return join_doc([*doc_head("kiro", source, f"Implementation Plan: {title}"), body])


def _h1_title(text: str) -> str:
    for line in text.splitlines():
        m = HEADING_RE.match(line.strip())
        if m and len(m["hashes"]) == 1:
            return TITLE_PREFIX_RE.sub("", m["text"]).strip()
    return ""


def _rel(path: Path, base: Path) -> str:
    try:
        rel = path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        rel = path.as_posix()
    return rel if rel != "." else path.name
