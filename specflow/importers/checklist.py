"""A line-based reader for the checkbox task lists of Kiro and OpenSpec.

    # Implementation Plan              <- title (optional)
    ## 1. Setup                        <- `##` headings: groups (phases)
    - [ ] 1. Parent task               <- every checkbox line is a task...
      - [x] 1.1 Sub-task               <- ...numbered (`1.`, `1.1`, `Task 3 -`) or not
      - Some detail                    <- lines indented under a task belong to it
      - _Requirements: 1.1, 2.3_
    - [ ]* 2. Optional task            <- Kiro's optional marker

Every checkbox is a task, numbered or not, nested or not (a nested one is a sub-task of the
task it sits under). Lines outside any task (intro paragraphs, checkpoints) are kept in place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from specflow.domain.tasks import Task
from specflow.importers.markdown import (
    FENCE_RE,
    collapse_blanks,
    doc_head,
    join_doc,
    quote_lines,
    reindent,
    task_block,
)

ITEM_RE = re.compile(
    r"^(?P<indent> *)(?:[-*+]|\d+[.)])[ \t]+\[(?P<mark>[^\]\n]?)\](?P<opt>\*)?(?:[ \t]+(?P<rest>.*))?$"
)
NUMBER_RE = re.compile(
    r"^(?:\*\*)?(?:(?:task|step)\s+(?P<n1>\d+(?:\.\d+)*)|(?P<n2>\d+(?:\.\d+)+|\d+(?=\.)))\.?"
    r"(?:\*\*)?(?:[ \t]*[-–—:][ \t]*|[ \t]+|$)(?P<title>.*)$",
    re.IGNORECASE,
)
DONE_MARKS = ("x", "X", "✓", "✔")
STARTED_MARKS = {"-": "in progress", "~": "in progress", "/": "in progress"}
HEADING_RE = re.compile(r"^ {0,3}(?P<hashes>#{1,6})[ \t]+(?P<text>.*?)[ \t#]*$")
ANY_ITEM_RE = re.compile(r"^ *(?:[-*+]|\d+[.)])(?:[ \t]|$)")


@dataclass
class RawTask:
    number: str | None
    mark: str
    optional: bool
    title: str
    indent: int
    line: int  # 1-based, in the source file
    group: int
    body: list[str] = field(default_factory=list)
    parent: RawTask | None = None
    children: list[RawTask] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.mark in DONE_MARKS

    def state_notes(self) -> list[str]:
        """A box that is neither open nor done (Kiro's `[-]` in progress, `[~]`, `[/]`):
        the state is kept as a note under the task rather than lost."""
        from specflow.importers.markdown import note_lines

        state = STARTED_MARKS.get(self.mark)
        return note_lines("status", state) if state else []

    @property
    def label(self) -> str:
        """The original id: `1.2`, or the source line for an unnumbered task."""
        return self.number or f"line {self.line}"


@dataclass
class Group:
    """A `##` section: its tasks and the text between them, in document order."""

    title: str
    entries: list[RawTask | list[str]] = field(default_factory=list)

    def notes(self) -> list[str]:
        """A list to append free lines to: the open one at the end, or a new one."""
        if not self.entries or not isinstance(self.entries[-1], list):
            self.entries.append([])
        last = self.entries[-1]
        assert isinstance(last, list)
        return last


@dataclass
class Checklist:
    title: str
    groups: list[Group]
    tasks: list[RawTask]

    def siblings(self, task: RawTask) -> list[RawTask]:
        if task.parent is not None:
            return task.parent.children
        return [t for t in self.tasks if t.parent is None and t.group == task.group]


def read_checklist(text: str) -> Checklist:
    reader = _Reader()
    for n, raw in enumerate(text.splitlines(), 1):
        reader.feed(n, raw.expandtabs(4).rstrip())
    return Checklist(title=reader.title, groups=reader.groups, tasks=reader.tasks)


class _Reader:
    """read_checklist's state, one line at a time."""

    def __init__(self) -> None:
        self.title = ""
        self.groups = [Group("")]
        self.tasks: list[RawTask] = []
        self.by_number: dict[str, RawTask] = {}
        self.stack: list[RawTask] = []  # the open tasks, outermost first
        self.fence: tuple[str, list[str]] | None = None  # (marker, the body it belongs to)
        self.pending_blank = False
        self.wrapping: RawTask | None = None  # the task whose title may go on on the next line

    def feed(self, n: int, line: str) -> None:
        if self.fence is not None:
            self._in_fence(line)
        elif not line.strip():
            self.pending_blank = True
            self.wrapping = None
        elif self._wraps(line):
            assert self.wrapping is not None
            self.wrapping.title = f"{self.wrapping.title} {line.strip()}".strip()
        else:
            self.wrapping = None
            item = ITEM_RE.match(line)
            if item is not None:
                self._task(n, item)
            elif not self._heading(line):
                self._text(line)

    def _in_fence(self, line: str) -> None:
        assert self.fence is not None
        self.fence[1].append(line)
        m = FENCE_RE.match(line)
        if m and m.group(1)[0] == self.fence[0][0] and len(m.group(1)) >= len(self.fence[0]):
            self.fence = None

    def _wraps(self, line: str) -> bool:
        """A task's title going on on the next line (not a new item, fence or heading)."""
        if self.wrapping is None or ANY_ITEM_RE.match(line):
            return False
        return not FENCE_RE.match(line) and not HEADING_RE.match(line)

    def _task(self, n: int, item: re.Match[str]) -> None:
        rest = (item["rest"] or "").strip()
        num = NUMBER_RE.match(rest)
        number = (num["n1"] or num["n2"]) if num else None
        self._close(len(item["indent"]))
        task_title = (num["title"].strip() if num else rest) or (number or "")
        if rest.startswith("**") and task_title.endswith("**") and "**" not in task_title[:-2]:
            task_title = task_title[:-2].rstrip()  # `**1. Title**`: the number took the opener
        task = RawTask(
            number=number,
            mark=item["mark"] or " ",
            optional=bool(item["opt"]),
            title=task_title,
            indent=len(item["indent"]),
            line=n,
            group=len(self.groups) - 1,
        )
        parent = self.by_number.get(number.rsplit(".", 1)[0]) if number and "." in number else None
        task.parent = parent or (self.stack[-1] if self.stack else None)
        if task.parent is not None:
            task.parent.children.append(task)
        if number is not None:
            self.by_number.setdefault(number, task)
        self.tasks.append(task)
        self.wrapping = task
        self.groups[-1].entries.append(task)
        self.stack.append(task)
        self.pending_blank = False

    def _close(self, indent: int) -> None:
        """Leave the tasks a line at `indent` is no longer inside."""
        while self.stack and self.stack[-1].indent >= indent:
            self.stack.pop()

    def _heading(self, line: str) -> bool:
        indent = len(line) - len(line.lstrip(" "))
        heading = HEADING_RE.match(line) if indent <= 3 else None
        if heading is None:
            return False
        self.stack.clear()
        self.pending_blank = False
        level = len(heading["hashes"])
        if level == 1 and not self.title and not self.tasks:
            self.title = heading["text"].strip()
        elif level == 2:
            self.groups.append(Group(heading["text"].strip()))
        else:
            self._add(self.groups[-1].notes(), line)
        return True

    def _text(self, line: str) -> None:
        """A line that is neither task nor heading: it belongs to the open task, else to the
        group's notes."""
        indent = len(line) - len(line.lstrip(" "))
        self._close(indent)
        untitled = not self.title and not self.tasks
        if indent == 0 and untitled and line.lstrip().startswith("# "):
            self.title = line.lstrip()[2:].strip()
            return
        target = self.stack[-1].body if self.stack else self.groups[-1].notes()
        if not self.stack and indent > 3 and not ANY_ITEM_RE.match(line):
            line = line.lstrip()  # stray indentation outside lists would make a code block
            m = HEADING_RE.match(line)
            if m and len(m["hashes"]) == 1 and untitled:
                self.title = m["text"].strip()
                return
        self._add(target, line)
        m = FENCE_RE.match(line)
        if m:
            self.fence = (m.group(1), target)

    def _add(self, target: list[str], line: str) -> None:
        if self.pending_blank and target:
            target.append("")
        self.pending_blank = False
        target.append(line)


def checklist_doc(
    tool: str, source: str, title: str, checklist: Checklist, tasks: dict[int, Task]
) -> str:
    """tasks.md for an imported checklist: the groups as `##` sections, each raw task replaced
    by its task (keyed by id(raw task)) with the raw task's state and text as notes.

    Sub-tasks are emitted where they stand in the source, so nesting becomes order.
    """
    parts = doc_head(tool, source, f"Tasks: {title}")
    for group in checklist.groups:
        if group.title:
            parts += [f"## {group.title}", ""]
        for entry in group.entries:
            if isinstance(entry, list):
                parts += [*quote_lines(reindent(entry, 0)), ""]
                continue
            notes = [*entry.state_notes(), *quote_lines(reindent(entry.body, 2))]
            parts += [*task_block(tasks[id(entry)], notes), *([""] if notes else [])]
    return join_doc(collapse_blanks(parts))


def numbers_in(text: str) -> list[str]:
    """`1.1, 2.3 and 4` -> ["1.1", "2.3", "4"]."""
    return re.findall(r"\d+(?:\.\d+)*", text)
