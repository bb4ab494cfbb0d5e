"""What a person sees while a run goes: a rich dashboard on a terminal, plain lines otherwise.

Views are event listeners (called from worker threads, after the event is on disk); they never
influence the run.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

from specflow.observe.text import LOUD, live_line
from specflow.runs.events import Event


class PlainView:
    """Timestamped lines for logs and pipes."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self._lock = threading.Lock()

    def __call__(self, ev: Event) -> None:
        line = live_line(ev)
        if line is None:
            return
        stamp = time.strftime("%H:%M:%S", time.localtime(float(ev.get("t", time.time()))))
        with self._lock:
            self.stream.write(f"{stamp} {line}\n")
            self.stream.flush()

    def __enter__(self) -> PlainView:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


@dataclass
class _SlotView:
    task: str
    agent: str = ""
    started: float = field(default_factory=time.time)
    phase: str = "agent"
    steps: int = 0
    tokens: int = 0
    cost: float = 0.0


class LiveView:
    """A rich Live table: one row per running task, then the queue and progress."""

    def __init__(self, console: Any, titles: dict[str, str] | None = None) -> None:
        self.console = console
        self.titles = titles or {}
        self.running: dict[str, _SlotView] = {}
        self.total = 0
        self.merged = 0
        self.failed: list[str] = []
        self.waiting: list[str] = []  # not started yet, in dependency order
        self.blocked: list[str] = []
        self.awaiting: list[str] = []  # wait for `specflow approve`
        self.agent = ""
        self._live: Any = None
        self._lock = threading.Lock()
        self._plain = PlainView(stream=None)

    def __enter__(self) -> LiveView:
        from rich.live import Live

        # get_renderable: re-rendered on every refresh, so elapsed times tick.
        self._live = Live(console=self.console, refresh_per_second=4, get_renderable=self._render)
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.refresh()
            self._live.__exit__(None, None, None)

    def __call__(self, ev: Event) -> None:
        kind = ev.get("kind")
        tid = str(ev.get("task", ""))
        with self._lock:
            if kind in ("run_started", "run_resumed"):
                self.total = len(ev.get("selected") or [])
                self.waiting = list(ev.get("selected") or [])
                self.titles.update(ev.get("titles") or {})
                self.agent = str(ev.get("agent", ""))
            elif kind == "task_started":
                if tid in self.waiting:
                    self.waiting.remove(tid)
                self.running[tid] = _SlotView(tid, self.agent.split(" ", 1)[0][:24])
            elif tid in self.running:
                s = self.running[tid]
                if kind in ("agent_step", "step", "tool_call"):
                    s.steps += 1
                    usage = ev.get("usage") or {}
                    s.tokens += int(usage.get("prompt_tokens", 0)) + int(
                        usage.get("completion_tokens", 0)
                    )
                    s.cost += float(usage.get("cost_usd", 0.0))
                elif kind == "agent_finished":
                    s.steps = max(s.steps, int(ev.get("steps", 0)))
                elif kind in ("verify_started", "merge_started", "review_started"):
                    s.phase = {"verify_started": "verify", "merge_started": "merge"}.get(
                        str(kind), "review"
                    )
                elif kind == "agent_started":
                    s.phase = f"agent #{ev.get('attempt', 1)}"
                    s.agent = str(ev.get("agent") or s.agent)
            if kind == "awaiting_approval":
                self.running.pop(tid, None)
                if tid not in self.awaiting:
                    self.awaiting.append(tid)
            elif kind == "task_approved" and tid in self.awaiting:
                self.awaiting.remove(tid)
            if kind == "task_merged":
                self.running.pop(tid, None)
                self.merged += 1
            elif kind == "task_failed":
                self.running.pop(tid, None)
                self.failed.append(tid)
            elif kind == "task_blocked":
                self.blocked.append(tid)
                if tid in self.waiting:
                    self.waiting.remove(tid)
        if kind in LOUD and self._live:
            self._live.console.print(live_line(ev, fallback="{kind}"))

    def _render(self) -> Any:
        from rich.table import Table

        now = time.time()
        table = Table(title=None, expand=False, show_edge=False, pad_edge=False)
        for col in ("task", "agent", "phase", "elapsed", "steps", "tokens", "cost", "title"):
            table.add_column(col, no_wrap=True, overflow="ellipsis", max_width=40)
        with self._lock:
            rows = sorted(self.running.values(), key=lambda s: s.started)
            for s in rows:
                table.add_row(
                    s.task,
                    s.agent,
                    s.phase,
                    f"{now - s.started:5.1f}s",
                    str(s.steps),
                    str(s.tokens),
                    f"${s.cost:.3f}",
                    self.titles.get(s.task, "")[:50],
                )
            table.caption = (
                f"{self.merged}/{self.total} merged, {len(self.failed)} failed, "
                f"{len(self.blocked)} blocked, {len(self.waiting)} queued"
            )
            if self.awaiting:
                table.caption += "\nawaiting approval: " + " ".join(self.awaiting)
                table.caption += " (specflow approve TASK)"
            if self.waiting:
                more = " …" if len(self.waiting) > 10 else ""
                table.caption += "\nnext: " + " ".join(self.waiting[:10]) + more
        return table


def make_view(console: Any, *, tty: bool, titles: dict[str, str]) -> PlainView | LiveView:
    return LiveView(console, titles) if tty else PlainView()
