"""`specflow trace` in a terminal: run header, then per task its attempts, steps, checks, merge
and diff. With a TASK, everything in full; for a whole run, one line per step and diff stats."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from specflow.observe.text import trace_line
from specflow.observe.trace import Attempt, RunTrace, TaskTrace, read_text, task_diff
from specflow.observe.why import failure_lines

RESULT_LINES_FULL = 40


def collect_diffs(
    trace: RunTrace, repo: Path, task: str | None, *, stat_only: bool
) -> dict[str, str]:
    out: dict[str, str] = {}
    for tt in trace.tasks.values():
        if task and tt.id != task:
            continue
        found = tt.diff_commit
        if found is None:
            continue
        diff = task_diff(repo, found[0])
        if stat_only:
            diff = diff.split("\ndiff --git", 1)[0].rstrip() + "\n"
        out[tt.id] = f"({found[1]}) " + diff if diff else ""
    return out


def render_trace(
    trace: RunTrace, diffs: dict[str, str], task: str | None = None, *, full: bool = False
) -> Iterator[str]:
    """The lines of the trace, secrets redacted (agent output may hold what a tool printed)."""
    from specflow.redact import env_secrets, redact

    secrets = env_secrets()
    for line in _render(trace, diffs, task, full):
        yield redact(line, secrets=secrets)


def _render(trace: RunTrace, diffs: dict[str, str], task: str | None, full: bool) -> Iterator[str]:
    yield _header(trace)
    for w in trace.warnings:
        yield f"warning: {w}"
    for tt in trace.tasks.values():
        if task and tt.id != task:
            continue
        if not full and not tt.attempts and tt.status == "pending":
            continue
        yield ""
        yield from _task(trace, tt, diffs.get(tt.id, ""), full)


def _header(trace: RunTrace) -> str:
    info = trace.info
    dur = f"{trace.ended - trace.started:.1f}s" if trace.ended and trace.started else "?"
    counts: dict[str, int] = {}
    for tt in trace.tasks.values():
        counts[tt.status] = counts.get(tt.status, 0) + 1
    tally = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    usage = trace.usage()
    return (
        f"run {trace.run_id}  {trace.feature}  {trace.status}  "
        f"(started {_clock(trace.started)}, {dur}; agent {info.get('agent')} x{info.get('parallel')}"
        + (f", model {info['model']}" if info.get("model") else "")
        + f"; {tally}; "
        f"{int(usage['prompt_tokens'])}+{int(usage['completion_tokens'])} tokens, "
        f"${usage['cost_usd']:.4f})"
    )


def _task(trace: RunTrace, tt: TaskTrace, diff: str, full: bool) -> Iterator[str]:
    head = f"{tt.id}  {tt.status.upper()}"
    if tt.title:
        head += f"  {tt.title}"
    yield head
    facts = []
    if tt.depends:
        facts.append("depends on " + ", ".join(tt.depends))
    if tt.slot is not None:
        facts.append(f"slot {tt.slot}")
    if tt.started and tt.ended:
        facts.append(f"{tt.ended - tt.started:.1f}s")
    if tt.usage.get("cost_usd"):
        facts.append(f"${float(tt.usage['cost_usd']):.4f}")
    if tt.commit:
        facts.append(f"merged as {tt.commit[:10]}")
    if facts:
        yield "  " + "; ".join(facts)
    if tt.status == "blocked":
        yield f"  blocked by {tt.blocked_by}"
    for a in tt.attempts:
        yield from _attempt(trace, a, full)
    if tt.status == "failed":
        yield "  why:"
        yield from ("    " + ln for ln in failure_lines(tt, trace.run_id))
    if diff:
        yield "  diff " + diff.splitlines()[0]
        yield from ("    " + ln for ln in diff.splitlines()[1:])


def _attempt(trace: RunTrace, a: Attempt, full: bool) -> Iterator[str]:
    status = "running" if a.ok is None else ("ok" if a.ok else f"FAILED: {a.reason}")
    took = f" in {a.finished - a.started:.1f}s" if a.finished and a.started else ""
    model = f" on {a.model}" if a.model else ""
    yield f"  attempt {a.n}: agent {a.agent}{model} at +{_rel(trace, a.started)} -> {status}{took}"
    if a.base:
        yield f"    from {a.base[:10]}"
    if a.feedback and full:
        yield f"    feedback given: {a.feedback}"
    for s in a.steps:
        yield from _step(s, full)
    yield from _after_agent(a, full)
    if full and a.agent_log:
        yield f"    agent log: {a.agent_log}"
        if not a.steps:  # a CLI agent: its output is all there is
            out = read_text(a.agent_log, 8000).rstrip().splitlines()[-RESULT_LINES_FULL:]
            yield from ("      | " + ln for ln in out)
    if full and a.transcript:
        yield f"    transcript: {a.transcript}"


def _after_agent(a: Attempt, full: bool) -> Iterator[str]:
    """The commit, the checks and the merge queue's steps of an attempt, in time order."""
    later: list[tuple[float, int, list[str]]] = []
    if a.commit:
        later.append((a.commit_t or 0.0, 0, [f"    committed {a.commit[:10]}"]))
    for v in a.verifies:
        state = "running" if v.ok is None else ("passed" if v.ok else f"FAILED: {v.reason}")
        secs = f" ({v.seconds}s)" if v.seconds is not None else ""
        lines = [f"    verify {' && '.join(v.commands) or '(checks)'} -> {state}{secs}"]
        if v.ok is False and v.output:
            out = v.output.rstrip().splitlines()
            lines += ["      | " + ln for ln in (out if full else out[-10:])]
        later.append((v.t, 1, lines))
    for m in a.merges:
        later.append((float(m.get("t", 0.0)), 2, ["    " + (trace_line(m) or "")]))
    for _, _, lines in sorted(later, key=lambda x: (x[0], x[1])):
        yield from lines


def _step(s: dict[str, Any], full: bool) -> Iterator[str]:
    line = trace_line(s, full=full)
    if line is not None:
        yield "    " + line
        return
    ok = "ok" if s.get("ok") else "FAILED"
    args = str(s.get("args") or "")
    if not full:
        yield f"    step {s.get('step')}: {s.get('tool')} {_one_line(args, 90)} -> {ok}"
    else:
        inline, blocks = _split_args(args)
        yield f"    step {s.get('step')}: {s.get('tool')} {inline} -> {ok}".replace("  ->", " ->")
        for key, text in blocks:
            yield f"      {key}:"
            yield from ("      > " + ln for ln in text.splitlines()[:RESULT_LINES_FULL])
    result = str(s.get("result") or "").rstrip()
    if result and (full or not s.get("ok")):
        lines = result.splitlines()
        limit = RESULT_LINES_FULL if full else 6
        more = len(lines) - limit
        yield from ("      | " + ln for ln in lines[:limit])
        if more > 0:
            yield f"      | … {more} more lines"


def _split_args(args: str) -> tuple[str, list[tuple[str, str]]]:
    """Tool arguments for reading: short values inline (`path="a.py"`), multi-line strings
    (file contents, edits) as blocks."""
    import json

    try:
        parsed = json.loads(args)
    except ValueError:
        return args, []
    if not isinstance(parsed, dict):
        return args, []
    inline, blocks = [], []
    for k, v in parsed.items():
        if isinstance(v, str) and "\n" in v:
            blocks.append((k, v))
        else:
            inline.append(f"{k}={json.dumps(v)}")
    return " ".join(inline), blocks


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _rel(trace: RunTrace, t: float | None) -> str:
    if t is None or trace.started is None:
        return "?"
    return f"{t - trace.started:.1f}s"


def _clock(t: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if t else "?"
