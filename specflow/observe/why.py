"""`specflow why T012`: a few lines on why a task failed, is blocked or waits — or where it merged.

The answer names the failed check (verify command and the tail of its output, merge conflict
files, the agent's limit or loop reason, a budget), follows `blocked by` to the root cause, and
for a task that never started says which dependencies it still waits for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from specflow.errors import InputError
from specflow.observe.trace import Attempt, RunTrace, TaskTrace, load_trace, read_text
from specflow.runs.state import list_runs

if TYPE_CHECKING:
    from specflow.domain.tasks import TaskGraph
    from specflow.project import Project

OUTPUT_LINES = 12


@dataclass
class Why:
    task: str
    status: str
    run: str | None
    lines: list[str] = field(default_factory=list)
    root_cause: str | None = None  # the task whose failure this one comes down to

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "status": self.status,
            "run": self.run,
            "root_cause": self.root_cause,
            "explanation": self.lines,
        }


def explain(project: Project, task_id: str, run: str | None = None) -> Why:
    from specflow.observe.loading import open_run

    tid = task_id.strip().upper()
    opened = open_run(project, run) if run else _run_with(project, tid)
    trace, graph = opened.trace, opened.graph
    if tid not in trace.tasks and (graph is None or tid not in graph.tasks):
        raise InputError(f"task {tid} is not in run {trace.run_id}", "see 'specflow trace'")
    return explain_in(trace, tid, graph)


def _run_with(project: Project, tid: str) -> Any:
    """The newest run in which the task did something; else the newest run."""
    from specflow.observe.loading import open_run

    runs = list_runs(project.state_dir)
    for run_id, _ in reversed(runs):
        trace = load_trace(project.state_dir, run_id)
        tt = trace.tasks.get(tid)
        if tt is not None and (tt.attempts or tt.status in ("merged", "failed", "blocked")):
            return open_run(project, run_id)
    return open_run(project, None)


def explain_in(trace: RunTrace, tid: str, graph: TaskGraph | None = None) -> Why:
    tt = trace.tasks.get(tid) or TaskTrace(tid)
    why = Why(tid, tt.status, trace.run_id)
    run = trace.run_id
    if tt.status == "merged":
        commit = (tt.commit or "?")[:10]
        if tt.attempts:
            why.lines.append(f"{tid} merged in run {run} as commit {commit}{_effort(tt)}.")
        else:
            why.lines.append(f"{tid} was already merged when run {run} started (commit {commit}).")
        return why
    if tt.status == "failed":
        why.root_cause = tid
        why.lines += failure_lines(tt, run)
        return why
    if tt.status == "blocked":
        return _blocked(trace, tt, why, graph)
    if tt.status in ("running", "verifying", "merging"):
        a = tt.last
        where = (
            f"attempt {a.n}, {len([s for s in a.steps if s.get('kind') == 'agent_step'])} steps"
            if a
            else ""
        )
        state = "still running" if trace.finished is None and not trace.interrupted else "stopped"
        why.lines.append(
            f"{tid} was {tt.status} ({where}) when run {run} {_ended(trace)}; {state}."
        )
        why.lines.append("  resume with: specflow implement --resume")
        return why
    if tid in (trace.info.get("done") or []):
        why.lines.append(
            f"{tid} counts as done in run {run} (merged or ticked in tasks.md before)."
        )
        return why
    return _waiting(trace, tt, why, graph)


def failure_lines(tt: TaskTrace, run: str) -> list[str]:
    """What failed and why, for one failed task: the check, its output, the limit."""
    a = tt.last
    n = len(tt.attempts)
    head = f"{tt.id} failed in run {run}"
    head += f" after {n} attempt{'s' if n != 1 else ''}" if n else ""
    lines = [f"{head}: {tt.reason or 'unknown reason'}"]
    reason = tt.reason or ""
    if a is None:
        return lines
    if reason.startswith("verify failed"):
        lines += _check_lines(a)
    elif reason.startswith("merge conflict"):
        lines += _conflict_lines(tt)
    elif reason.startswith("agent failed") or a.ok is False:
        lines += _agent_lines(a, reason)
    elif reason == "agent made no changes":
        lines.append("  the agent finished without changing any file")
    return lines


def _check_lines(a: Attempt) -> list[str]:
    v = next((v for v in reversed(a.verifies) if v.ok is False), None)
    if v is None:
        return []
    return [
        f"  check: {v.reason or ' && '.join(v.commands)} (attempt {a.n})",
        *_tail_block(v.output or read_text(v.log), "  output:"),
    ]


def _conflict_lines(tt: TaskTrace) -> list[str]:
    conflicts = [m for x in tt.attempts for m in x.merges if m.get("kind") == "merge_conflict"]
    files = sorted({f for m in conflicts for f in m.get("files") or []})
    return [
        f"  merge: {len(conflicts)} conflict(s) with the integration branch in {', '.join(files)}"
    ]


def _agent_lines(a: Attempt, reason: str) -> list[str]:
    lines = [f"  agent: {_agent_kind(a.reason or reason)} ({a.reason or reason})"]
    steps = [s for s in a.steps if s.get("kind") == "agent_step"][-3:]
    for s in steps:
        status = "ok" if s.get("ok") else "FAILED"
        lines.append(
            f"    step {s.get('step')}: {s.get('tool')} {_short(s.get('args'))} -> {status}"
        )
    if not steps:
        lines += _tail_block(read_text(a.agent_log, 4000), "  agent output:")
    return lines


def _agent_kind(reason: str) -> str:
    r = reason.lower()
    if "loop" in r:
        return "stopped for looping"
    if "cost limit" in r or "budget" in r:
        return "budget reached"
    if "limit" in r:
        return "limit reached"
    if "model error" in r or "cannot start" in r:
        return "model problem"
    return "failed"


def _blocked(trace: RunTrace, tt: TaskTrace, why: Why, graph: TaskGraph | None = None) -> Why:
    """The engine marks every descendant of a failed task `blocked by` that task; the chain of
    dependencies in between comes from the graph."""
    chain = [tt.id]
    cur = tt
    while cur.status == "blocked" and cur.blocked_by and cur.blocked_by not in chain:
        via = _dep_path(graph, chain[-1], cur.blocked_by) if graph is not None else None
        chain += via[1:] if via else [cur.blocked_by]
        cur = trace.tasks.get(cur.blocked_by) or TaskTrace(cur.blocked_by)
    line = f"{tt.id} is blocked by {chain[1]}" if len(chain) > 1 else f"{tt.id} is blocked"
    line += "".join(f", which is blocked by {c}" for c in chain[2:])
    why.lines.append(f"{line} (run {trace.run_id}).")
    why.root_cause = cur.id
    if cur.status == "failed":
        why.lines += ["  " + ln for ln in failure_lines(cur, trace.run_id)]
    else:
        why.lines.append(f"  {cur.id} is {cur.status}")
    return why


def _dep_path(graph: TaskGraph, start: str, goal: str) -> list[str] | None:
    """The shortest chain start -> dependency -> ... -> goal."""
    prev: dict[str, str] = {}
    frontier = [start]
    seen = {start}
    while frontier:
        nxt = []
        for n in frontier:
            for d in graph.deps.get(n, ()):
                if d in seen:
                    continue
                seen.add(d)
                prev[d] = n
                if d == goal:
                    path = [goal]
                    while path[-1] != start:
                        path.append(prev[path[-1]])
                    return path[::-1]
                nxt.append(d)
        frontier = nxt
    return None


def _waiting(trace: RunTrace, tt: TaskTrace, why: Why, graph: TaskGraph | None) -> Why:
    deps = sorted(set(graph.deps.get(tt.id, ()))) if graph is not None else tt.depends
    open_deps = [d for d in deps if (trace.tasks.get(d) or TaskTrace(d)).status != "merged"]
    done = set(trace.info.get("done") or [])
    open_deps = [d for d in open_deps if d not in done]
    selected = trace.info.get("selected")
    if isinstance(selected, list) and tt.id not in selected:
        why.lines.append(f"{tt.id} was not selected in run {trace.run_id} (--only / --from).")
    elif open_deps:
        parts = [f"{d} ({(trace.tasks.get(d) or TaskTrace(d)).status})" for d in open_deps]
        why.lines.append(f"{tt.id} waits for {', '.join(parts)} in run {trace.run_id}.")
        first = trace.tasks.get(open_deps[0])
        if first is not None and first.status in ("failed", "blocked"):
            sub = explain_in(trace, first.id, graph)
            why.root_cause = sub.root_cause
            why.lines += ["  " + ln for ln in sub.lines]
    else:
        why.lines.append(
            f"{tt.id} had all its dependencies merged but did not start: run {trace.run_id} {_ended(trace)}."
        )
    if trace.finished is None:
        why.lines.append("  resume with: specflow implement --resume")
    return why


def _ended(trace: RunTrace) -> str:
    if trace.interrupted:
        return "was interrupted"
    return "ended" if trace.finished is not None else "stopped without finishing (killed?)"


def _effort(tt: TaskTrace) -> str:
    n = len(tt.attempts)
    cost = float(tt.usage.get("cost_usd", 0.0))
    secs = (tt.ended - tt.started) if tt.ended and tt.started else None
    bits = [f"{n} attempt{'s' if n != 1 else ''}"]
    if secs is not None:
        bits.append(f"{secs:.1f}s")
    if cost:
        bits.append(f"${cost:.4f}")
    return " (" + ", ".join(bits) + ")"


def _tail_block(text: str, title: str) -> list[str]:
    lines = [ln for ln in text.rstrip().splitlines()]
    if not lines:
        return []
    return [title] + ["    " + ln for ln in lines[-OUTPUT_LINES:]]


def _short(value: Any, limit: int = 80) -> str:
    text = " ".join(str(value or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def attempt_summary(a: Attempt) -> str:
    if a.ok is None:
        return "did not finish"
    return "ok" if a.ok else f"failed: {a.reason}"
