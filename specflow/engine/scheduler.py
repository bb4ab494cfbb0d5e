"""Which task runs next: pure bookkeeping, no I/O, no threads (the benchmark simulates it).

Ready = every dependency merged (or already done before the run). Among ready tasks the one
with the longest remaining path goes first; a task never starts while another task naming one
of its files is in flight (started, not yet merged or failed). A failed task blocks only its
descendants.
"""

from __future__ import annotations

from collections.abc import Iterable

from specflow.domain.tasks import TaskGraph


class Scheduler:
    def __init__(
        self,
        graph: TaskGraph,
        selected: Iterable[str],
        done: Iterable[str],
        *,
        weights: dict[str, float] | None = None,
    ) -> None:
        self.graph = graph
        self.done: set[str] = set(done)
        self.todo: set[str] = {t for t in selected if t not in self.done}
        self.running: set[str] = set()
        self.merged: set[str] = set()
        self.failed: set[str] = set()
        self.blocked: dict[str, str] = {}  # task -> the failed task that blocks it
        self.awaiting: set[str] = set()  # passed its checks, waits for `specflow approve`
        rem = graph.remaining_path(weights)
        order = {t: i for i, t in enumerate(graph.order())}
        line = {t: graph.tasks[t].line or 0 for t in graph.tasks}
        # Longest remaining path, then more dependents, then document order.
        self._key = {t: (-rem[t], -len(graph.descendants(t)), line[t], order[t]) for t in self.todo}
        self._files: dict[str, set[str]] = {
            t: {_norm(f) for f in graph.tasks[t].files} for t in self.todo
        }
        self._busy_files: dict[str, str] = {}
        self._waiting = {
            t: sum(1 for d in set(graph.deps[t]) if d not in self.done) for t in self.todo
        }
        self._ready: list[str] = sorted(
            (t for t, n in self._waiting.items() if n == 0), key=self._key.__getitem__
        )

    # -- queries ---------------------------------------------------------------------------

    def priority(self, t: str) -> float:
        """Remaining path length (higher = more urgent)."""
        return -self._key[t][0] if t in self._key else 0.0

    def queue(self) -> list[str]:
        """Ready tasks in the order they would start (some may wait on a file)."""
        return list(self._ready)

    def pending(self) -> list[str]:
        return [
            t
            for t in self.todo
            if t not in self.running
            and t not in self.merged
            and t not in self.failed
            and t not in self.blocked
            and t not in self.awaiting
        ]

    def _can_start(self, t: str) -> bool:
        return not any(f in self._busy_files for f in self._files[t])

    # -- transitions -----------------------------------------------------------------------

    def take(self, free_slots: int) -> list[str]:
        """Start up to `free_slots` tasks; returns them in priority order."""
        started: list[str] = []
        i = 0
        while len(started) < free_slots and i < len(self._ready):
            t = self._ready[i]
            if self._can_start(t):
                self._ready.pop(i)
                self.running.add(t)
                for f in self._files[t]:
                    self._busy_files[f] = t
                started.append(t)
            else:
                i += 1
        return started

    def _release(self, t: str) -> None:
        self.running.discard(t)
        for f in self._files.get(t, ()):
            if self._busy_files.get(f) == t:
                del self._busy_files[f]

    def await_task(self, t: str) -> None:
        """`t` waits for a person: not running (its slot is free), its files stay reserved,
        its dependents wait; unrelated tasks go on."""
        self.running.discard(t)
        self.awaiting.add(t)

    def resume_task(self, t: str) -> None:
        """Approved: `t` runs again (to merge its approved work)."""
        self.awaiting.discard(t)
        self.running.add(t)

    def merged_task(self, t: str) -> None:
        self._release(t)
        self.merged.add(t)
        newly: list[str] = []
        for n in dict.fromkeys(self.graph.dependents[t]):
            if n in self._waiting and n not in self.blocked:
                self._waiting[n] -= 1
                if self._waiting[n] == 0:
                    newly.append(n)
        if newly:
            self._ready.extend(newly)
            self._ready.sort(key=self._key.__getitem__)

    def failed_task(self, t: str) -> list[str]:
        """Mark `t` failed; returns the tasks it blocks (pending descendants)."""
        self._release(t)
        self.failed.add(t)
        out: list[str] = []
        for d in sorted(self.graph.descendants(t), key=lambda x: self._key.get(x, (0,))):
            if d in self.todo and d not in self.blocked and d not in self.merged:
                self.blocked[d] = t
                out.append(d)
        self._ready = [r for r in self._ready if r not in self.blocked]
        return out

    def is_idle(self) -> bool:
        """Nothing running and nothing can start: the run is over."""
        return not self.running and not any(self._can_start(t) for t in self._ready)


def _norm(path: str) -> str:
    p = path.strip().strip("`").replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    return p.rstrip("/")


def lower_bound(graph: TaskGraph, tasks: Iterable[str], weights: dict[str, float], n: int) -> float:
    """max(critical path, total work / N) over `tasks` (a sub-graph of the graph)."""
    keep = set(tasks)
    longest: dict[str, float] = {}
    for t in graph.order():
        if t in keep:
            longest[t] = weights.get(t, 0.0) + max(
                (longest[d] for d in graph.deps[t] if d in longest), default=0.0
            )
    cp = max(longest.values(), default=0.0)
    total = sum(weights.get(t, 0.0) for t in keep)
    return max(cp, total / max(n, 1))
