"""Which tasks cover which requirement: the one computation `check`, `tasks`, `coverage` and
drift share. Pure: a parsed spec and task list in, a `Coverage` out.

A task covers a requirement in one of two ways, and every link says which:

- `covers`: the id is listed in the task's `covers:` sub-bullet (specflow's explicit record);
- `text`:   the id is named in the task's own text, e.g. Spec Kit's
            `- [ ] T012 [US1] Validate input per FR-003`.

A task list *declares* coverage when any task has `covers:`; then an uncovered requirement is a
definite gap. Without any `covers:` the text mentions are all there is, so a gap is likely but
not certain (callers report it as a warning).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from specflow.domain.spec import Spec
from specflow.domain.tasks import Task

How = Literal["covers", "text"]
# FR-001, FR-12a; also SC-001 (success criteria) when a task names them.
REQUIREMENT_ID_RE = re.compile(r"\b(?:FR|SC)-\d+[a-z]?\b")


@dataclass(frozen=True)
class Link:
    task: str
    how: How


@dataclass
class RequirementCoverage:
    id: str
    text: str
    links: list[Link] = field(default_factory=list)

    @property
    def tasks(self) -> list[str]:
        return [link.task for link in self.links]

    @property
    def covered(self) -> bool:
        return bool(self.links)


@dataclass(frozen=True)
class UnknownReference:
    """A task that names a requirement the spec does not define."""

    task: str
    requirement: str
    how: How
    line: int | None


@dataclass
class Coverage:
    requirements: list[RequirementCoverage]
    declared: bool  # some task has `covers:` (coverage is recorded, not only mentioned)
    unknown: list[UnknownReference] = field(default_factory=list)

    @property
    def uncovered(self) -> list[RequirementCoverage]:
        return [r for r in self.requirements if not r.covered]

    @property
    def source(self) -> str:
        """How coverage was read, for people: `covers:` lists and/or ids named in task text."""
        kinds = {link.how for r in self.requirements for link in r.links}
        if self.declared and "text" in kinds:
            return "covers: and ids named in task text"
        return "covers:" if self.declared else "ids named in task text, as no task has covers:"

    def by_id(self) -> dict[str, RequirementCoverage]:
        return {r.id: r for r in self.requirements}


def task_links(task: Task) -> list[tuple[str, How]]:
    """The requirement ids one task covers, each with how it says so (`covers:` first)."""
    out: list[tuple[str, How]] = [(c, "covers") for c in task.covers]
    listed = set(task.covers)
    for rid in dict.fromkeys(REQUIREMENT_ID_RE.findall(task.title)):
        if rid not in listed:
            out.append((rid, "text"))
    return out


def compute_coverage(spec: Spec, tasks: Iterable[Task]) -> Coverage:
    task_list = list(tasks)
    reqs = [RequirementCoverage(r.id, r.text) for r in spec.requirements]
    index = {r.id: r for r in reqs}
    known_other = {c.id for c in spec.success_criteria}
    unknown: list[UnknownReference] = []
    for task in task_list:
        for rid, how in task_links(task):
            if rid in index:
                index[rid].links.append(Link(task.id, how))
            elif rid not in known_other and REQUIREMENT_ID_RE.fullmatch(rid):
                unknown.append(UnknownReference(task.id, rid, how, task.line))
    return Coverage(reqs, declared=any(t.covers for t in task_list), unknown=unknown)
