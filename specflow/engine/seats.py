"""Agent seats: how many tasks run an agent at once (`--parallel`).

A task holds a seat from dispatch until its work is committed and handed to the gate. Landing
(the gate's checks, the merge) needs the task's worktree but no seat, so the next task's agent
starts meanwhile instead of waiting for a busy merge queue or a minutes-long test suite. A task
the gate sends back (a conflict, a failed check) waits for a seat before its agent runs again:
never more than `size` agents at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Seats:
    def __init__(self, size: int, wake: Callable[[], None]) -> None:
        self.size = size
        self._cond = threading.Condition()
        self._held: set[str] = set()
        self._waiting = 0  # tasks sent back, waiting for a seat: served before new tasks
        self._wake = wake  # tells the scheduling loop that a seat is free

    @contextmanager
    def dispatching(self) -> Iterator[int]:
        """The free seats, held still while the scheduling loop fills them (`hold`)."""
        with self._cond:
            yield max(0, self.size - len(self._held) - self._waiting)

    def hold(self, task: str) -> None:
        """Inside `dispatching`: `task` takes a free seat."""
        self._held.add(task)

    def leave(self, task: str) -> None:
        """`task`'s agent is done (its work goes to the gate, or the task ended)."""
        with self._cond:
            if task not in self._held:
                return
            self._held.discard(task)
            self._cond.notify_all()
        self._wake()

    def wait(self, task: str, cancel: threading.Event) -> None:
        """A task sent back by the gate takes a seat again, once one is free."""
        with self._cond:
            self._waiting += 1
            try:
                while len(self._held) >= self.size and not cancel.is_set():
                    self._cond.wait(0.2)
            finally:
                self._waiting -= 1
            self._held.add(task)

    def holds(self, task: str) -> bool:
        with self._cond:
            return task in self._held
