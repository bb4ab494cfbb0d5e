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

from specflow.importers.markdown import FENCE_RE

ITEM_RE = re.compile(
    r"^(?P<indent> *)(?:[-*+]|\d+[.)])[ \t]+\[(?P<mark>[^\]\n]?)\](?P<opt>\*)?(?:[ \t]+(?P<rest>.*))?$"
)
NUMBER_RE = re.compile(
    r"^(?:\*\*)?(?:(?:task|step)\s+(?P<n1>\d+(?:\.\d+)*)|(?P<n2>\d+(?:\.\d+)+|\d+(?=\.)))\.?"
    r"(?:\*\*)?(?:[ \t]*[-–—:][ \t]*|[ \t]+|$)(?P<title>.*)$",
    re.IGNORECASE,
)
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
        return self.mark in ("x", "X")

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
    title = ""
    groups = [Group("")]
    tasks: list[RawTask] = []
    by_number: dict[str, RawTask] = {}
    stack: list[RawTask] = []
    fence: tuple[str, list[str]] | None = None  # (marker, the body it belongs to)
    pending_blank = False
    wrapping: RawTask | None = None  # the task whose title may go on on the next line

    def add(target: list[str], line: str) -> None:
        nonlocal pending_blank
        if pending_blank and target:
            target.append("")
        pending_blank = False
        target.append(line)

    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.expandtabs(4).rstrip()
        if fence is not None:
            fence[1].append(line)
            m = FENCE_RE.match(line)
            if m and m.group(1)[0] == fence[0][0] and len(m.group(1)) >= len(fence[0]):
                fence = None
            continue
        if not line.strip():
            pending_blank = True
            wrapping = None
            continue
        wrapped = wrapping is not None and not ANY_ITEM_RE.match(line)
        if wrapped and wrapping and not FENCE_RE.match(line) and not HEADING_RE.match(line):
            wrapping.title = f"{wrapping.title} {line.strip()}".strip()  # a title on two lines
            continue
        wrapping = None
        indent = len(line) - len(line.lstrip(" "))
        item = ITEM_RE.match(line)
        if item is not None:
            rest = (item["rest"] or "").strip()
            num = NUMBER_RE.match(rest)
            number = (num["n1"] or num["n2"]) if num else None
            while stack and stack[-1].indent >= len(item["indent"]):
                stack.pop()
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
                group=len(groups) - 1,
            )
            parent = by_number.get(number.rsplit(".", 1)[0]) if number and "." in number else None
            if parent is None and stack:
                parent = stack[-1]
            task.parent = parent
            if parent is not None:
                parent.children.append(task)
            if number is not None:
                by_number.setdefault(number, task)
            tasks.append(task)
            wrapping = task
            groups[-1].entries.append(task)
            stack.append(task)
            pending_blank = False
            continue
        heading = HEADING_RE.match(line) if indent <= 3 else None
        if heading is not None:
            stack.clear()
            pending_blank = False
            level = len(heading["hashes"])
            if level == 1 and not title and not tasks:
                title = heading["text"].strip()
            elif level == 2:
                groups.append(Group(heading["text"].strip()))
            else:
                add(groups[-1].notes(), line)
            continue
        while stack and stack[-1].indent >= indent:
            stack.pop()
        if indent == 0 and not title and not tasks and line.lstrip().startswith("# "):
            title = line.lstrip()[2:].strip()
            continue
        target = stack[-1].body if stack else groups[-1].notes()
        if not stack and indent > 3 and not ANY_ITEM_RE.match(line):
            line = line.lstrip()  # stray indentation outside lists would make a code block
            m = HEADING_RE.match(line)
            if m and len(m["hashes"]) == 1 and not title and not tasks:
                title = m["text"].strip()
                continue
        add(target, line)
        m = FENCE_RE.match(line)
        if m:
            fence = (m.group(1), target)
    return Checklist(title=title, groups=groups, tasks=tasks)


def render_groups(checklist: Checklist, blocks: dict[int, list[str]]) -> list[str]:
    """The groups as `##` sections, each task replaced by its block (keyed by id(task)).

    Sub-tasks are emitted where they stand in the source, so nesting becomes order.
    """
    from specflow.importers.markdown import quote_lines, reindent

    parts: list[str] = []
    for group in checklist.groups:
        if group.title:
            parts += [f"## {group.title}", ""]
        for entry in group.entries:
            if isinstance(entry, list):
                parts += [*quote_lines(reindent(entry, 0)), ""]
            else:
                parts += blocks[id(entry)]
    return parts


def numbers_in(text: str) -> list[str]:
    """`1.1, 2.3 and 4` -> ["1.1", "2.3", "4"]."""
    return re.findall(r"\d+(?:\.\d+)*", text)
