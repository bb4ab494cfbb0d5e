"""The task list (Spec Kit's tasks.md, plus sub-bullets) and the dependency graph it defines."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from specflow.errors import ParseError

Risk = Literal["low", "medium", "high"]
# Task ids as projects write them: T012, with a letter suffix in either case (T003A, T004a)
# and dotted sub-tasks (T200.1).
TASK_ID = r"T\d{3,}[A-Za-z]?(?:\.\d+)*"


class Task(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=rf"^{TASK_ID}$")
    title: str
    done: bool = False
    parallel: bool = False
    story: str | None = Field(default=None, pattern=r"^US\d+$")
    depends: list[str] | None = Field(
        default=None, description="explicit dependencies; absent = Spec Kit's phase/[P] reading"
    )
    files: list[str] = Field(default_factory=list)
    covers: list[str] = Field(default_factory=list)
    verify: str | None = None
    risk: Risk | None = None
    model: str | None = None
    # Where the task was read from, for error messages. Not part of the document.
    line: SkipJsonSchema[int | None] = Field(default=None, exclude=True)


class Phase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    tasks: list[Task] = Field(default_factory=list)


class TaskList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    phases: list[Phase] = Field(default_factory=list)

    def all_tasks(self) -> list[Task]:
        return [t for p in self.phases for t in p.tasks]


def implicit_dependencies(tasklist: TaskList) -> dict[str, list[str]]:
    """Dependencies for every task, Spec Kit's reading where `depends:` is absent.

    Phases run in order: a phase's first tasks wait for every task of the previous phase.
    Inside a phase, a task without [P] waits for all tasks listed before it in the phase;
    a [P] task waits only for the nearest non-[P] task before it (and what that one waits for).
    Only the necessary edges are produced; transitive ones are implied.
    """
    deps: dict[str, list[str]] = {}
    prev_phase: list[str] = []
    for phase in tasklist.phases:
        barrier: list[str] = list(prev_phase)  # what a task at this point must wait for
        since_barrier: list[str] = []  # [P] tasks since the last sequential one
        for task in phase.tasks:
            if task.depends is not None:
                deps[task.id] = list(task.depends)
            elif task.parallel:
                deps[task.id] = list(barrier)
            else:
                deps[task.id] = list(dict.fromkeys([*barrier, *since_barrier]))
            if task.parallel:
                since_barrier.append(task.id)
            else:
                barrier = [task.id]
                since_barrier = []
        prev_phase = [t.id for t in phase.tasks] or prev_phase
    return deps


class TaskGraph:
    """A validated DAG of tasks. Construction raises ParseError on duplicates, unknown ids, cycles."""

    def __init__(self, tasklist: TaskList, *, path: str | None = None) -> None:
        self.tasklist = tasklist
        self.path = path
        self.tasks: dict[str, Task] = {}
        for task in tasklist.all_tasks():
            if task.id in self.tasks:
                first = self.tasks[task.id].line
                raise ParseError(
                    f"duplicate task id {task.id}"
                    + (f" (first defined on line {first})" if first else ""),
                    path=path,
                    line=task.line,
                    hint="give every task its own id",
                )
            self.tasks[task.id] = task
        self.deps = implicit_dependencies(tasklist)
        for tid, ds in self.deps.items():
            for d in ds:
                if d not in self.tasks:
                    raise ParseError(
                        f"task {tid} depends on unknown task {d}",
                        path=path,
                        line=self.tasks[tid].line,
                        hint="fix the 'depends:' list",
                    )
                if d == tid:
                    raise ParseError(
                        f"task {tid} depends on itself", path=path, line=self.tasks[tid].line
                    )
        self.dependents: dict[str, list[str]] = {t: [] for t in self.tasks}
        for tid, ds in self.deps.items():
            for d in ds:
                self.dependents[d].append(tid)
        self._order = self._toposort()

    def _toposort(self) -> list[str]:
        indeg = {t: len(set(ds)) for t, ds in self.deps.items()}
        ready = [t for t in self.tasks if indeg[t] == 0]
        order: list[str] = []
        while ready:
            t = ready.pop(0)
            order.append(t)
            for n in self.dependents[t]:
                indeg[n] -= 1
                if indeg[n] == 0:
                    ready.append(n)
        if len(order) != len(self.tasks):
            cycle = self._find_cycle(set(self.tasks) - set(order))
            first = self.tasks[cycle[0]]
            raise ParseError(
                "dependency cycle: " + " -> ".join([*cycle, cycle[0]]),
                path=self.path,
                line=first.line,
                hint="remove one of these dependencies",
            )
        return order

    def _find_cycle(self, remaining: set[str]) -> list[str]:
        start = min(remaining, key=lambda t: (self.tasks[t].line or 0, t))
        path: list[str] = []
        index: dict[str, int] = {}
        node = start
        while node not in index:
            index[node] = len(path)
            path.append(node)
            node = next(d for d in self.deps[node] if d in remaining)
        cycle = path[index[node] :]
        cycle.reverse()  # present as "A -> B" meaning A comes before B
        first = min(range(len(cycle)), key=lambda i: (self.tasks[cycle[i]].line or 0, cycle[i]))
        return cycle[first:] + cycle[:first]

    # -- queries -----------------------------------------------------------------

    def order(self) -> list[str]:
        """A topological order (dependencies first, document order among equals)."""
        return list(self._order)

    def ancestors(self, tid: str) -> set[str]:
        out: set[str] = set()
        stack = list(self.deps[tid])
        while stack:
            t = stack.pop()
            if t not in out:
                out.add(t)
                stack.extend(self.deps[t])
        return out

    def descendants(self, tid: str) -> set[str]:
        out: set[str] = set()
        stack = list(self.dependents[tid])
        while stack:
            t = stack.pop()
            if t not in out:
                out.add(t)
                stack.extend(self.dependents[t])
        return out

    def remaining_path(self, weights: dict[str, float] | None = None) -> dict[str, float]:
        """Longest path from each task to the end of the graph, the task included."""
        w = weights or {}
        out: dict[str, float] = {}
        for t in reversed(self._order):
            tail = max((out[n] for n in self.dependents[t]), default=0.0)
            out[t] = w.get(t, 1.0) + tail
        return out

    def critical_path(self, weights: dict[str, float] | None = None) -> list[str]:
        if not self.tasks:
            return []
        rem = self.remaining_path(weights)
        roots = [t for t in self._order if not self.deps[t]]
        node = max(roots, key=lambda t: rem[t])
        path = [node]
        while self.dependents[node]:
            node = max(self.dependents[node], key=lambda t: rem[t])
            path.append(node)
        return path

    def waves(self, only: Iterable[str] | None = None) -> list[list[str]]:
        """Levels of the graph: tasks in one wave have all dependencies in earlier waves."""
        level: dict[str, int] = {}
        for t in self._order:
            level[t] = 1 + max((level[d] for d in self.deps[t]), default=-1)
        keep = set(only) if only is not None else set(self.tasks)
        out: list[list[str]] = []
        for t in self._order:
            if t in keep:
                while len(out) <= level[t]:
                    out.append([])
                out[level[t]].append(t)
        return [w for w in out if w]

    def uncovered(self, requirement_ids: Iterable[str]) -> list[str]:
        covered = {c for t in self.tasks.values() for c in t.covers}
        return [r for r in requirement_ids if r not in covered]
