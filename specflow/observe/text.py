"""Every event as a line of text — the one place for it. Three voices of the same event:

- `live_line`: the live view and plain progress lines (`implement` on a terminal or a pipe),
  with the task in front ("T003 merged 1a2b3c4d5e");
- `log_line`: `specflow log` under the task's heading, and the report's per-task events
  ("merged 1a2b3c4d5e"); `run_line` for the run-level lines of `log`;
- `trace_line`: the one-line steps and merge-queue lines of `specflow trace`.

Events are the catalogue's (specflow/runs/catalogue.py); old runs lack fields newer writers
add, so every lookup has a fallback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from specflow.runs.catalogue import RESUMED, Event, Kind

_LIVE = {
    Kind.RUN_STARTED: "run {run} started: {n} tasks, {parallel} agents ({agent}) on {branch}",
    Kind.RUN_RESUMED: "run {run} resumed: {n} tasks left, {parallel} agents ({agent}) on {branch}",
    Kind.SANDBOX: "sandbox: {summary}",
    Kind.TASK_STARTED: "{task} started in slot {slot}",
    Kind.AGENT_FINISHED: "{task} agent finished (attempt {attempt}, {seconds}s{fail})",
    Kind.TASK_COMMITTED: "{task} committed {short}",
    Kind.VERIFY_FAILED: "{task} verify failed: {reason}",
    Kind.MERGE_CONFLICT: "{task} merge conflict in {files_s}",
    Kind.TASK_MERGED: "{task} merged {short}",
    Kind.TASK_FAILED: "{task} FAILED: {reason}",
    Kind.TASK_BLOCKED: "{task} blocked by {by}",
    Kind.RUN_INTERRUPTED: "run {run} interrupted",
    Kind.RUN_FINISHED: "run {run} finished: {merged} merged, {failed} failed, {blocked} blocked",
    Kind.WARNING: "warning: {message}",
    Kind.BRANCH_UPDATED: "{branch}: took {commits} new commit(s) from {base} ({how})",
    Kind.REVIEW_STARTED: "{task} review by {model}",
    Kind.REVIEW_VERDICT: "{task} review: {decision} ({n_findings} findings) {summary}",
    Kind.AWAITING_APPROVAL: "{task} AWAITING APPROVAL (risk {risk}): run '{hint}'",
    Kind.TASK_APPROVED: "{task} approved by {by}",
    Kind.MODEL_ESCALATED: "{task} escalated to {to} after: {reason}",
    Kind.BUDGET_EXHAUSTED: "budget exhausted: spent ${spent} of ${limit}; not starting {waiting_s}",
}

# Loud in the live view: printed above the table, not only counted in it.
LOUD = frozenset(
    {
        Kind.TASK_FAILED,
        Kind.TASK_BLOCKED,
        Kind.WARNING,
        Kind.BRANCH_UPDATED,
        Kind.RUN_INTERRUPTED,
        Kind.AWAITING_APPROVAL,
        Kind.BUDGET_EXHAUSTED,
        Kind.MODEL_ESCALATED,
    }
)


class _Default(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def _fields(ev: Event) -> dict[str, Any]:
    d: dict[str, Any] = dict(ev)
    d.setdefault("n", len(ev.get("selected") or []))
    d["short"] = str(ev.get("commit") or "")[:10]
    d["files_s"] = ", ".join(ev.get("files") or [])
    d["fail"] = "" if ev.get("ok", True) else f", {ev.get('reason')}"
    d["n_findings"] = len(ev.get("findings") or [])
    d["waiting_s"] = ", ".join(ev.get("waiting") or [])
    return d


def live_line(ev: Event, *, fallback: str | None = None) -> str | None:
    """The progress line of an event, or `fallback` (None: the event has no line)."""
    fmt = _LIVE.get(str(ev.get("kind")), fallback)  # type: ignore[call-overload]
    if fmt is None:
        return None
    try:
        return str(fmt.format_map(_Default(_fields(ev))))
    except (ValueError, KeyError):
        return None


# -- `specflow log` ------------------------------------------------------------------------

_RUN_KEYS = ("feature", "agent", "parallel", "merged", "failed", "blocked", "awaiting", "spent")
LOG_RUN_KINDS = frozenset(
    {
        Kind.RUN_STARTED,
        Kind.SANDBOX,
        Kind.RUN_RESUMED,
        Kind.RUN_INTERRUPTED,
        Kind.RUN_FINISHED,
        Kind.BUDGET_EXHAUSTED,
    }
)


def run_line(ev: Event) -> str:
    """`run started feature=001-calc agent=… parallel=2` (without the time)."""
    if ev.get("kind") == Kind.SANDBOX:
        return f"sandbox: {ev.get('summary') or ev.get('backend')}"
    detail = " ".join(f"{k}={ev[k]}" for k in (*_RUN_KEYS, "limit") if k in ev)
    return f"{str(ev['kind']).replace('_', ' ')} " + detail


def _short(ev: Event, key: str = "commit") -> str:
    return str(ev.get(key))[:10]


def _agent_finished(ev: Event) -> str:
    status = "ok" if ev.get("ok") else f"failed ({ev.get('reason')})"
    return f"agent {status} after {ev.get('seconds')}s, {ev.get('steps')} steps"


def _review_started(ev: Event) -> str:
    warn = " (same vendor as the implementer)" if ev.get("same_vendor") else ""
    return f"review by {ev.get('model')}{warn}"


def _review_verdict(ev: Event) -> str:
    n = len(ev.get("findings") or [])
    cost = float((ev.get("usage") or {}).get("cost_usd", 0.0) or 0.0)
    return f"review: {ev.get('decision')} ({n} findings, ${cost:.4f}): {ev.get('summary')}"


_LOG: dict[str, Callable[[Event], str]] = {
    Kind.TASK_STARTED: lambda ev: f"started in slot {ev.get('slot')} on {_short(ev, 'base')}",
    Kind.AGENT_STARTED: lambda ev: f"attempt {ev.get('attempt')}: agent {ev.get('agent')}",
    Kind.AGENT_FINISHED: _agent_finished,
    Kind.TASK_COMMITTED: lambda ev: f"committed {_short(ev)}",
    Kind.VERIFY_PASSED: lambda ev: f"verify passed ({ev.get('seconds')}s)",
    Kind.VERIFY_FAILED: lambda ev: f"verify failed: {ev.get('reason')}",
    Kind.MERGE_CONFLICT: lambda ev: "merge conflict in " + ", ".join(ev.get("files") or []),
    Kind.MERGE_RETRY: lambda ev: f"merge retry: {ev.get('reason')}",
    Kind.TASK_MERGED: lambda ev: f"merged {_short(ev)}",
    Kind.TASK_FAILED: lambda ev: f"FAILED: {ev.get('reason')}",
    Kind.TASK_BLOCKED: lambda ev: f"blocked by {ev.get('by')}",
    Kind.REVIEW_STARTED: _review_started,
    Kind.REVIEW_VERDICT: _review_verdict,
    Kind.REVIEW_FAILED: lambda ev: f"review failed: {ev.get('reason')}",
    Kind.AWAITING_APPROVAL: lambda ev: (
        f"awaiting approval (risk {ev.get('risk')}): {ev.get('hint')}"
    ),
    Kind.TASK_APPROVED: lambda ev: f"approved by {ev.get('by')}",
    Kind.TASK_RESTORED: lambda ev: (
        f"{'committed' if ev.get('by') == RESUMED else 'approved'} work {_short(ev)} "
        "restored for merge"
    ),
    Kind.MODEL_ESCALATED: lambda ev: (
        f"model escalated {ev.get('from')} -> {ev.get('to')} after: {ev.get('reason')}"
    ),
}


def log_line(ev: Event) -> str | None:
    """The event under its task in `specflow log` (None: not shown)."""
    fn = _LOG.get(str(ev.get("kind")))
    return fn(ev) if fn is not None else None


# -- `specflow trace` ----------------------------------------------------------------------

_MERGE: dict[str, Callable[[Event], str]] = {
    Kind.MERGE_STARTED: lambda m: f"merge onto {_short(m, 'onto')}",
    Kind.MERGE_REBASE: lambda m: f"rebase onto {_short(m, 'onto')}",
    Kind.MERGE_RETRY: lambda m: f"merge retry: {m.get('reason')}",
    Kind.MERGE_CONFLICT: lambda m: "merge CONFLICT in " + ", ".join(m.get("files") or []),
}


def trace_line(ev: Event, *, full: bool = False) -> str | None:
    """A merge-queue event, a model call or a model's note as one trace line (None for the
    other kinds, which the trace lays out itself)."""
    kind = ev.get("kind")
    if kind == Kind.MODEL_CALL:
        return (
            f"model call {ev.get('model')}: {ev.get('prompt_tokens')}+"
            f"{ev.get('completion_tokens')} tokens, ${float(ev.get('cost_usd') or 0):.6f}, "
            f"{ev.get('latency_s')}s, {ev.get('tool_calls')} tool call(s)"
        )
    if kind == Kind.AGENT_NOTE:
        text = " ".join(str(ev.get("text") or "").split())
        return f"model says: {text if full else text[:100]}"
    if kind in _MERGE:
        return _MERGE[str(kind)](ev)
    if kind == Kind.TASK_MERGED:
        return f"merged as {_short(ev)}"
    return None
