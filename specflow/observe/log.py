"""`specflow log`: a run's events grouped by task, with the agent and verify output."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

from specflow.errors import InputError
from specflow.observe.text import LOG_RUN_KINDS, log_line, run_line
from specflow.runs.events import Event, read_events
from specflow.runs.state import RunPaths, rebuild

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
        for ev in events:
            if task is None or ev.get("task") in (None, task):
                yield json.dumps(ev)
        return
    records = rebuild(paths.events)
    for ev in events:
        if ev.get("kind") in LOG_RUN_KINDS:
            yield f"{_ts(ev)} " + run_line(ev)
    by_task: dict[str, list[Event]] = {}
    for ev in events:
        if isinstance(ev.get("task"), str):
            by_task.setdefault(ev["task"], []).append(ev)
    for tid in sorted(by_task):
        if task and tid != task:
            continue
        rec = records.get(tid)
        yield ""
        head = f"{tid}  {rec.status if rec else '?'}"
        if rec and rec.attempts:
            head += (
                f"  ({rec.attempts} attempt{'s' if rec.attempts != 1 else ''}, {rec.seconds:.1f}s)"
            )
        if rec and rec.reason:
            head += f"  {rec.reason}"
        yield head
        for ev in by_task[tid]:
            line = log_line(ev)
            if line:
                yield f"  {_ts(ev)} {line}"
            if ev.get("kind") == "agent_finished" or (
                ev.get("kind") == "task_failed" and "agent" in str(ev.get("reason"))
            ):
                out = _tail(paths.agent_log(tid, int(ev.get("attempt") or 0)))
                if out and ev.get("kind") == "agent_finished":
                    yield "    agent output:"
                    yield from ("      " + ln for ln in out.splitlines())
            if ev.get("kind") == "review_verdict":
                for f in ev.get("findings") or []:
                    where = f"{f.get('file')}:{f.get('line')}" if f.get("line") else f.get("file")
                    yield f"    - {where} [{f.get('severity')}] {f.get('message')}"
            if ev.get("kind") == "verify_failed":
                out = _tail(
                    Path(str(ev.get("log") or paths.verify_log(tid, int(ev.get("attempt") or 0))))
                )
                if out:
                    yield "    verify output:"
                    yield from ("      " + ln for ln in out.splitlines())


def _ts(ev: Event) -> str:
    return time.strftime("%H:%M:%S", time.localtime(float(ev.get("t", 0))))


def _tail(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    text = data[-TAIL_CHARS:].decode("utf-8", errors="replace").rstrip()
    return ("… " if len(data) > TAIL_CHARS else "") + text
