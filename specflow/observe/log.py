"""`specflow log`: a run's events grouped by task, with the agent and verify output."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

from specflow.errors import InputError
from specflow.observe.text import LOG_RUN_KINDS, log_line, run_line
from specflow.runs.catalogue import Kind
from specflow.runs.events import Event, read_events
from specflow.runs.state import RunPaths, TaskRecord, rebuild

TAIL_CHARS = 3000


def render_log(
    state_dir: Path, run_id: str, *, task: str | None = None, as_json: bool = False
) -> Iterator[str]:
    paths = RunPaths(state_dir, run_id)
    events = read_events(paths.events)
    if task:
        task = task.strip().upper()
        if not any(ev.get("task") == task for ev in events):
            raise InputError(f"task {task} did not run in {run_id}")
    if as_json:
        yield from (
            json.dumps(ev) for ev in events if task is None or ev.get("task") in (None, task)
        )
        return
    records = rebuild(paths.events)
    yield from (f"{_ts(ev)} " + run_line(ev) for ev in events if ev.get("kind") in LOG_RUN_KINDS)
    by_task: dict[str, list[Event]] = {}
    for ev in events:
        if isinstance(ev.get("task"), str):
            by_task.setdefault(ev["task"], []).append(ev)
    for tid in sorted(by_task):
        if task and tid != task:
            continue
        yield ""
        yield _heading(tid, records.get(tid))
        for ev in by_task[tid]:
            line = log_line(ev)
            if line:
                yield f"  {_ts(ev)} {line}"
            yield from _details(ev, paths, tid)


def _heading(tid: str, rec: TaskRecord | None) -> str:
    """`T002  merged  (2 attempts, 1.1s)  reason`"""
    head = f"{tid}  {rec.status if rec else '?'}"
    if rec and rec.attempts:
        head += f"  ({rec.attempts} attempt{'s' if rec.attempts != 1 else ''}, {rec.seconds:.1f}s)"
    if rec and rec.reason:
        head += f"  {rec.reason}"
    return head


def _details(ev: Event, paths: RunPaths, tid: str) -> Iterator[str]:
    """What follows an event's line: the agent's output, review findings, the checks' output."""
    kind, attempt = ev.get("kind"), int(ev.get("attempt") or 0)
    if kind == Kind.AGENT_FINISHED:
        yield from _block("agent output:", _tail(paths.agent_log(tid, attempt)))
    elif kind == Kind.REVIEW_VERDICT:
        for f in ev.get("findings") or []:
            where = f"{f.get('file')}:{f.get('line')}" if f.get("line") else f.get("file")
            yield f"    - {where} [{f.get('severity')}] {f.get('message')}"
    elif kind == Kind.VERIFY_FAILED:
        log = Path(str(ev.get("log") or paths.verify_log(tid, attempt)))
        yield from _block("verify output:", _tail(log))


def _block(title: str, text: str) -> Iterator[str]:
    if text:
        yield f"    {title}"
        yield from ("      " + ln for ln in text.splitlines())


def _ts(ev: Event) -> str:
    return time.strftime("%H:%M:%S", time.localtime(float(ev.get("t", 0))))


def _tail(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    text = data[-TAIL_CHARS:].decode("utf-8", errors="replace").rstrip()
    return ("… " if len(data) > TAIL_CHARS else "") + text
