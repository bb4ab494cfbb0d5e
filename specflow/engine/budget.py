"""`--max-cost`: a run's spending limit, tracked from its events.

Spend is what the run's events report: agent usage (`agent_finished`) and review usage
(`review_verdict`). Before starting a task the engine asks `room()`: a task starts only when
what is spent, plus what the running tasks are still expected to spend, plus the next task's
estimate stays within the limit. The estimate is the mean cost of the tasks this run finished,
else the per-task limit (`[implement].max_cost_usd`), else nothing (then tasks start while
anything is left). Each agent also gets at most the remaining budget as its own cost limit
(`limits_for`), which the builtin agent enforces. The limit counts this invocation only: a
resumed run gets a fresh `--max-cost`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from specflow.agents.base import Limits
from specflow.errors import RunFailed
from specflow.llm.budget import money
from specflow.runs.events import Event, EventLog

COST_EVENTS = {"agent_finished": "implement", "review_verdict": "review"}


@dataclass
class Budget:
    limit: float | None
    per_task: float | None = None
    spent: float = 0.0
    by_task: dict[str, float] = field(default_factory=dict)
    by_stage: dict[str, float] = field(default_factory=dict)
    finished: list[float] = field(default_factory=list)
    exhausted: bool = False
    refused: list[str] = field(default_factory=list)  # tasks not started for lack of budget
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def attach(self, events: EventLog) -> None:
        events.subscribe(self.observe)

    def observe(self, ev: Event) -> None:
        kind = str(ev.get("kind"))
        tid = ev.get("task")
        with self._lock:
            if kind in COST_EVENTS:
                cost = float((ev.get("usage") or {}).get("cost_usd", 0.0) or 0.0)
                self.spent += cost
                stage = COST_EVENTS[kind]
                self.by_stage[stage] = self.by_stage.get(stage, 0.0) + cost
                if isinstance(tid, str):
                    self.by_task[tid] = self.by_task.get(tid, 0.0) + cost
            elif kind in ("task_merged", "task_failed") and isinstance(tid, str):
                self.finished.append(self.by_task.get(tid, 0.0))

    def estimate(self) -> float:
        with self._lock:
            if self.finished:
                return sum(self.finished) / len(self.finished)
        return self.per_task or 0.0

    def room(self, free: int, running: Iterable[str]) -> int:
        """How many of `free` slots may start a task now."""
        if self.limit is None or free <= 0:
            return max(free, 0)
        est = self.estimate()
        with self._lock:
            running = list(running)
            if not self.finished and self.per_task is None:
                # Nothing to estimate from yet: one task at a time until the first finishes.
                return 1 if not running and self.spent < self.limit else 0
            committed = self.spent + sum(max(0.0, est - self.by_task.get(t, 0.0)) for t in running)
        n = 0
        while n < free and committed < self.limit and committed + est <= self.limit:
            committed += est
            n += 1
        return n

    def refuse(self, tasks: list[str], events: EventLog) -> None:
        """Record (once) that the budget stopped these ready tasks from starting."""
        if self.exhausted or not tasks:
            return
        self.exhausted = True
        self.refused = list(tasks)
        events.emit(
            "budget_exhausted",
            limit=self.limit,
            spent=round(self.spent, 6),
            estimate=round(self.estimate(), 6),
            by_stage={k: round(v, 6) for k, v in self.by_stage.items()},
            by_task={k: round(v, 6) for k, v in sorted(self.by_task.items())},
            waiting=list(tasks),
        )

    def limits_for(self, limits: Limits) -> Limits:
        """The agent's own limits, with its cost cap lowered to what the run has left."""
        if self.limit is None:
            return limits
        with self._lock:
            left = max(self.limit - self.spent, 0.0)
        cap = left if limits.max_cost_usd is None else min(limits.max_cost_usd, left)
        return replace(limits, max_cost_usd=cap)

    def report(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "spent": round(self.spent, 6),
            "by_stage": {k: round(v, 6) for k, v in self.by_stage.items()},
            "by_task": {k: round(v, 6) for k, v in sorted(self.by_task.items())},
            "not_started": self.refused,
        }


def raise_for_budget_or_approval(summary: Any, budget: Budget | None, awaiting: list[str]) -> None:
    """End a run that stopped on its budget, or with work waiting for a person, with exit 1
    and a message saying what to do (failed tasks are named too)."""
    exhausted = budget is not None and budget.exhausted and budget.limit is not None
    if not exhausted and not awaiting:
        return
    feat = summary.feature
    failed = sorted(t for t, r in summary.records.items() if r.status == "failed")
    parts = [f"{summary.count('merged')} merged"]
    hints: list[str] = []
    blocked = sorted(t for t, r in summary.records.items() if r.status == "blocked")
    if failed:
        parts.append(f"{len(failed)} failed ({', '.join(failed)})")
    if blocked:
        parts.append(f"{len(blocked)} blocked ({', '.join(blocked)})")
    if awaiting:
        parts.append(f"{len(awaiting)} awaiting approval ({', '.join(awaiting)})")
        hints.append(
            f"approve with 'specflow approve {awaiting[0]} {feat}' (one per task), then "
            f"'specflow implement {feat} --resume' (or run with --wait-approval)"
        )
    if exhausted and budget is not None and budget.limit is not None:
        stages = ", ".join(f"{k} {money(v)}" for k, v in sorted(budget.by_stage.items()))
        head = (
            f"budget exhausted: spent {money(budget.spent)} of {money(budget.limit)}"
            + (f" ({stages})" if stages else "")
            + f"; {len(summary.not_run)} task(s) not started"
        )
        parts.insert(0, head)
        more = max(budget.limit, budget.estimate() * max(len(summary.not_run), 1))
        hints.insert(0, f"continue with 'specflow implement {feat} --resume --max-cost {more:.2f}'")
    err = RunFailed(f"run {summary.run_id}: " + ", ".join(parts), "; ".join(hints))
    err.summary = summary  # type: ignore[attr-defined]
    raise err
