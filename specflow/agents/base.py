"""The Agent protocol: one task, one worktree, one attempt."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from specflow.domain.tasks import Task
from specflow.llm.base import Usage


@dataclass
class Limits:
    max_steps: int = 40
    max_seconds: float = 900.0
    max_cost_usd: float | None = None


@dataclass
class AgentTask:
    run_id: str
    feature: str  # the feature folder name, e.g. "003-login"
    task: Task
    worktree: Path
    brief_path: Path  # a Markdown brief: task, requirements covered, spec/plan excerpts, files
    brief: str
    attempt: int = 1
    feedback: str | None = None  # verify output or merge conflict from the previous attempt
    model: str | None = None
    limits: Limits = field(default_factory=Limits)


@dataclass
class AgentResult:
    ok: bool
    summary: str = ""
    reason: str | None = None  # why it failed or stopped: "step limit", "exit code 3", ...
    steps: int = 0
    usage: Usage = field(default_factory=Usage)


class EventSink(Protocol):
    """Where an agent reports what it does (steps, tool calls, model calls)."""

    def __call__(self, kind: str, **data: Any) -> None: ...


class Agent(Protocol):
    name: str

    def run(self, job: AgentTask, emit: EventSink, cancel: threading.Event) -> AgentResult: ...
