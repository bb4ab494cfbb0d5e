"""Run specflow's parsers over a folder of real files and report, per file, what they read.

    .venv/bin/python tools/corpus_check.py PATH...

For local use on checkouts of other projects (not committed, not run in CI): every Spec Kit
tasks.md, Kiro spec, OpenSpec change and Task Master tasks.json under the paths is read the way
`specflow` reads it, and compared with a plain count of its task lines (checkboxes outside
fenced code, or the tasks and subtasks of the JSON). One line per file:

    specs/001-x/tasks.md  speckit  seen 41  read 41  done 12

Exit 1 when any count differs or any file fails to read. Nothing is written.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

CHECKBOX = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\[([^\]])\]\*?(?:\s+(\S+))?")
TASK_ID = re.compile(r"^(?:\*\*)?T\d")
DONE = ("x", "X", "✓", "✔")


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        sys.stdout.write(__doc__ or "")
        return 0 if argv else 2
    bad = 0
    for root in map(Path, argv):
        for fmt, path in sorted(set(_files(root)), key=lambda x: str(x[1])):
            seen, read, done, error = check(fmt, path)
            ok = error is None and seen == read
            bad += not ok
            tail = f"  error: {error}" if error else ("" if ok else "  MISMATCH")
            sys.stdout.write(f"{path}  {fmt}  seen {seen}  read {read}  done {done}{tail}\n")
    return 1 if bad else 0


def _files(root: Path) -> Iterator[tuple[str, Path]]:
    for path in root.rglob("tasks.md"):
        parts = path.parts
        if ".kiro" in parts:
            yield "kiro", path
        elif "openspec" in parts and "archive" not in parts:
            yield "openspec", path
        elif "openspec" not in parts:
            yield "speckit", path
    for path in root.rglob("tasks.json"):
        if path.parent.name == "tasks":
            yield "taskmaster", path


def check(fmt: str, path: Path) -> tuple[int, int, int, str | None]:
    """(task lines seen by plain counting, tasks specflow read, of those done, error)."""
    from specflow.errors import SpecflowError

    try:
        if fmt == "taskmaster":
            return _taskmaster(path)
        text = path.read_bytes().decode("utf-8")
        marks = _checkboxes(text, ids_only=fmt == "speckit")
        tasks = _read(fmt, path, text)
        return len(marks), len(tasks), sum(t.done for t in tasks), None
    except (SpecflowError, OSError, UnicodeDecodeError, ValueError) as exc:
        return 0, 0, 0, " ".join(str(exc).split())


def _read(fmt: str, path: Path, text: str) -> list:  # type: ignore[type-arg]
    if fmt == "speckit":
        from specflow.domain.tasks import TaskGraph
        from specflow.formats.frontmatter import split_front_matter
        from specflow.formats.tasks_md import parse_tasks

        _, body = split_front_matter(text, str(path))
        tasklist = parse_tasks(body, str(path))
        TaskGraph(tasklist, path=str(path))  # duplicates, unknown dependencies, cycles
        return tasklist.all_tasks()
    if fmt == "kiro":
        from specflow.importers.kiro import import_kiro

        (feature,) = import_kiro(path.parent)
        return feature.tasks
    from specflow.importers.openspec import convert_tasks

    _, tasks, _ = convert_tasks(text, path.parent.name, str(path))
    return tasks


def _checkboxes(text: str, *, ids_only: bool) -> list[str]:
    out: list[str] = []
    fence = ""
    for line in text.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("```", "~~~")):
            fence = "" if fence and stripped.startswith(fence) else fence or stripped[:3]
            continue
        m = CHECKBOX.match(line)
        if m and not fence and (not ids_only or TASK_ID.match(m.group(2) or "")):
            out.append(m.group(1))
    return out


def _taskmaster(path: Path) -> tuple[int, int, int, str | None]:
    from specflow.importers.taskmaster import import_taskmaster

    data = json.loads(path.read_text(encoding="utf-8"))
    tags = {"master": data} if isinstance(data, dict) and "tasks" in data else data
    items: list[dict] = []  # type: ignore[type-arg]

    def walk(tasks: list) -> None:  # type: ignore[type-arg]
        for t in tasks:
            items.append(t)
            walk(t.get("subtasks") or [])

    for body in tags.values() if isinstance(tags, dict) else []:
        if isinstance(body, dict):
            walk(body.get("tasks") or [])
    features, _ = import_taskmaster(path)
    tasks = [t for f in features for t in f.tasks]
    return len(items), len(tasks), sum(t.done for t in tasks), None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
