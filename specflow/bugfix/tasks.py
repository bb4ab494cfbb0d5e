"""A bugfix spec's rules for its task list: regression tasks and the fix task's test."""

from __future__ import annotations

from typing import Any

from specflow.bugfix.spec import read_bugfix
from specflow.engine.reproduce import Reproduce


def bugfix_task_problems(spec_body: str, tasklist: Any) -> list[str]:
    """Nothing for an ordinary spec. For a bugfix spec: every unchanged-behaviour requirement
    is covered by a regression task (one that covers no expected-behaviour requirement), and a
    fix task covers the expected behaviour, adds the reproducing test and runs it in verify."""
    info = read_bugfix(spec_body)
    if info is None:
        return []
    tasks = tasklist.all_tasks()
    expected = set(info.expected)
    problems: list[str] = []
    for rid in info.unchanged:
        if not any(rid in t.covers and not expected & set(t.covers) for t in tasks):
            problems.append(
                f"unchanged requirement {rid} needs its own regression task (one that covers "
                f"{rid} and no expected-behaviour requirement), with a test that passes before "
                "and after the fix"
            )
    fixes = [t for t in tasks if expected & set(t.covers)]
    test = info.test_path
    if test and not any(test in t.files and _runs(t, test, info.command) for t in fixes):
        problems.append(
            f"the fix task (the one covering {', '.join(sorted(expected))}) must list the "
            f"reproducing test {test} in its files and run it in verify"
        )
    return problems


def _runs(task: Any, test: str, command: str) -> bool:
    verify = task.verify or ""
    return test in verify or (bool(command) and command.strip() == verify.strip())


def reproductions(spec_body: str | None, tasks: list[Any]) -> dict[str, Reproduce]:
    """Task id -> what its verify must also show, for the fix tasks of a bugfix spec: those
    covering expected behaviour and adding the reproducing test. Empty for other specs."""
    info = read_bugfix(spec_body) if spec_body else None
    if info is None or not info.test_path:
        return {}
    expected = set(info.expected)
    out: dict[str, Reproduce] = {}
    for t in tasks:
        if expected & set(t.covers) and info.test_path in t.files:
            command = info.command or t.verify or ""
            if command:
                out[t.id] = Reproduce((info.test_path,), command)
    return out
