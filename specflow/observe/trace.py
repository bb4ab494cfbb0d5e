"""A run's trace as data: per task its attempts; per attempt the agent's steps and model calls,
the task commit, the checks and the merge — rebuilt from `events.jsonl` and the run folder.

`load_trace` is what `specflow trace`, `why`, `report`, `replay` and the OpenTelemetry export
read; it never changes anything. Status, reason and usage per task come from the engine's own
fold (`engine.state.apply_event`), so the trace and `specflow log`/`status` always agree.
"""

from __future__ import annotations

import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from specflow.domain.usage import empty_usage
from specflow.runs.events import Event, read_events
from specflow.runs.state import RunPaths, TaskRecord, apply_event, find_run

STEP_KINDS = ("agent_step", "model_call", "agent_note")
MERGE_KINDS = ("merge_started", "merge_rebase", "merge_retry", "merge_conflict", "task_merged")
DIFF_CHARS = 60_000


@dataclass
class Verify:
    t: float
    commands: list[str] = field(default_factory=list)
    ok: bool | None = None  # None: still running, or the run stopped meanwhile
    reason: str | None = None
    output: str = ""  # the tail the engine recorded (bounded)
    seconds: float | None = None
    end: float | None = None
    log: str | None = None


@dataclass
class Attempt:
    n: int
    agent: str | None = None
    model: str | None = None
    started: float | None = None
    finished: float | None = None
    ok: bool | None = None
    reason: str | None = None
    steps: list[Event] = field(default_factory=list)  # agent_step / model_call / agent_note
    usage: dict[str, float] = field(default_factory=dict)
    commit: str | None = None
    commit_t: float | None = None
    verifies: list[Verify] = field(default_factory=list)
    merges: list[Event] = field(default_factory=list)
    base: str | None = None  # the commit the attempt's worktree started from, when known
    agent_log: str | None = None
    transcript: str | None = None
    feedback: str | None = None  # what the attempt was told about the previous one


@dataclass
class TaskTrace:
    id: str
    title: str = ""
    depends: list[str] = field(default_factory=list)
    status: str = "pending"
    reason: str | None = None
    blocked_by: str | None = None
    commit: str | None = None  # on the integration branch, when merged
    slot: int | None = None
    base: str | None = None
    started: float | None = None
    ended: float | None = None
    usage: dict[str, float] = field(default_factory=dict)
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def last(self) -> Attempt | None:
        return self.attempts[-1] if self.attempts else None

    def attempt(self, n: int) -> Attempt:
        for a in self.attempts:
            if a.n == n:
                return a
        a = Attempt(n)
        self.attempts.append(a)
        return a

    @property
    def diff_commit(self) -> tuple[str, str] | None:
        """(commit, where) whose `git show` is this task's change."""
        if self.commit:
            return self.commit, "integration branch"
        for a in reversed(self.attempts):
            if a.commit:
                return a.commit, f"task branch (attempt {a.n}, not merged)"
        return None


@dataclass
class RunTrace:
    run_id: str
    run_dir: Path
    feature: str = ""
    info: Event = field(default_factory=dict)  # the run_started event
    started: float | None = None
    ended: float | None = None
    finished: Event | None = None  # run_finished
    interrupted: bool = False
    resumes: int = 0
    warnings: list[str] = field(default_factory=list)
    tasks: dict[str, TaskTrace] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.finished is None:
            return "interrupted" if self.interrupted else "running (or killed)"
        bad = any(t.status in ("failed", "blocked") for t in self.tasks.values())
        return "failed" if bad or self.finished.get("not_run") else "ok"

    def usage(self) -> dict[str, float]:
        total = empty_usage()
        for t in self.tasks.values():
            for k in total:
                total[k] += float(t.usage.get(k, 0.0))
        return total

    def to_dict(self, *, diffs: dict[str, str] | None = None) -> dict[str, Any]:
        tasks = []
        for t in self.tasks.values():
            d = asdict(t)
            if diffs is not None and t.id in diffs:
                d["diff"] = diffs[t.id]
            tasks.append(d)
        return {
            "run": self.run_id,
            "feature": self.feature,
            "status": self.status,
            "started": self.started,
            "ended": self.ended,
            "agent": self.info.get("agent"),
            "model": self.info.get("model"),
            "parallel": self.info.get("parallel"),
            "branch": self.info.get("branch"),
            "base": self.info.get("base"),
            "usage": {k: round(v, 6) for k, v in self.usage().items()},
            "warnings": self.warnings,
            "tasks": tasks,
        }


def resolve_run(state_dir: Path, run: str | None, feature: str | None = None) -> str:
    """A run id from what the user typed: an id, a prefix, `last`, or nothing (the latest)."""
    wanted = None if run in (None, "", "last", "latest") else run
    return find_run(state_dir, feature, wanted)[0]


def load_trace(
    state_dir: Path, run_id: str, graph: Any | None = None, *, with_events: bool = False
) -> RunTrace:
    """The trace of one run; `graph` (a TaskGraph) adds titles, dependencies and the tasks that
    never started."""
    paths = RunPaths(state_dir, run_id)
    events = read_events(paths.events)
    trace = RunTrace(run_id, paths.dir, events=events if with_events else [])
    records: dict[str, TaskRecord] = {}
    current: dict[str, int] = {}  # task -> attempt number events without one belong to
    restarted: dict[str, int] = {}  # task -> attempts before its latest task_started
    for ev in events:
        apply_event(records, ev)
        kind = str(ev.get("kind"))
        t = float(ev.get("t", 0.0))
        if kind in ("run_started", "run_resumed"):
            if kind == "run_started" or not trace.info:
                trace.info = ev
            trace.feature = str(ev.get("feature") or trace.feature)
            trace.started = trace.started or t
            trace.resumes += kind == "run_resumed"
        elif kind == "run_interrupted":
            trace.interrupted = True
        elif kind == "run_finished":
            trace.finished = ev
        elif kind == "warning":
            trace.warnings.append(str(ev.get("message")))
        trace.ended = max(trace.ended or t, t)
        tid = ev.get("task")
        if isinstance(tid, str):
            _fold(trace, paths, (current, restarted), tid, kind, t, ev)
    for tid, rec in records.items():
        tt = trace.tasks.setdefault(tid, TaskTrace(tid))
        tt.status, tt.reason, tt.blocked_by = rec.status, rec.reason, rec.blocked_by
        tt.commit = rec.commit
        tt.usage = {k: round(v, 6) for k, v in rec.usage.items()}
    if graph is not None:
        _add_graph(trace, graph)
    return trace


def _fold(
    trace: RunTrace,
    paths: RunPaths,
    counters: tuple[dict[str, int], dict[str, int]],
    tid: str,
    kind: str,
    t: float,
    ev: Event,
) -> None:
    current, restarted = counters
    tt = trace.tasks.setdefault(tid, TaskTrace(tid))
    if kind == "task_started":
        restarted[tid] = len(tt.attempts)  # a new start (e.g. --resume): a fresh worktree
        tt.slot = ev.get("slot")
        tt.base = ev.get("base")
        tt.started = tt.started or t
        tt.ended = None
        return
    if kind in ("task_merged", "task_failed"):
        tt.ended = t
    n = int(ev.get("attempt") or current.get(tid) or 0)
    if kind == "agent_started":
        current[tid] = n
    if kind == "task_blocked" or n == 0:
        return
    a = tt.attempt(n)
    if kind == "agent_started":
        a.agent, a.started = ev.get("agent"), t
        since = tt.attempts[restarted.get(tid, 0) :]
        a.base = _attempt_base(since, a, ev.get("base") or None, tt.base)
        a.agent_log = _existing(paths.agent_log(tid, n))
        a.transcript = _existing(paths.task_dir(tid) / f"builtin-{n}.json")
        a.feedback = _existing(paths.feedback(tid, n))
    elif kind == "agent_model":
        a.model = ev.get("model")
    elif kind in STEP_KINDS:
        a.steps.append(ev)
    elif kind == "agent_finished":
        a.finished, a.ok, a.reason = t, bool(ev.get("ok")), ev.get("reason")
        a.usage = dict(ev.get("usage") or {})
    elif kind == "task_committed":
        a.commit, a.commit_t = ev.get("commit"), t
    elif kind == "verify_started":
        a.verifies.append(Verify(t, list(ev.get("commands") or []), log=_verify_log(paths, tid, n)))
    elif kind in ("verify_passed", "verify_failed"):
        v = a.verifies[-1] if a.verifies and a.verifies[-1].ok is None else Verify(t)
        if v not in a.verifies:
            a.verifies.append(v)
        v.ok, v.end = kind == "verify_passed", t
        v.seconds = ev.get("seconds", round(t - v.t, 3))
        v.reason, v.output = ev.get("reason"), str(ev.get("output") or "")
        v.log = ev.get("log") or v.log
    elif kind in MERGE_KINDS:
        a.merges.append(ev)


def _attempt_base(
    since_start: list[Attempt], a: Attempt, recorded: str | None, task_base: str | None
) -> str | None:
    """Where the attempt's worktree started. The `agent_started` event records the commit the
    slot was prepared on (`base`): right for the first attempt after a `task_started` (also a
    resumed run's), after a failed agent and after a merge conflict (the worktree was reset to
    the tip). After a failed check or review the worktree is kept: the previous attempt's
    commit. Logs older than the recorded `base` fall back to the rebase's `onto`."""
    prev = [x for x in since_start if x.n < a.n]
    if not prev:
        return recorded or task_base
    last = prev[-1]
    if any(m.get("kind") == "merge_conflict" for m in last.merges):
        ontos = [m.get("onto") for m in last.merges if m.get("kind") == "merge_rebase"]
        return recorded or (ontos[-1] if ontos else task_base)
    return last.commit or recorded or last.base


def _add_graph(trace: RunTrace, graph: Any) -> None:
    order = list(graph.order())
    for tid in order:
        task = graph.tasks[tid]
        tt = trace.tasks.setdefault(tid, TaskTrace(tid))
        tt.title = task.title
        tt.depends = sorted(set(graph.deps.get(tid, ())))
    rank = {t: i for i, t in enumerate(order)}
    trace.tasks = dict(sorted(trace.tasks.items(), key=lambda kv: (rank.get(kv[0], 1e9), kv[0])))


def _existing(path: Path) -> str | None:
    return str(path) if path.is_file() else None


def _verify_log(paths: RunPaths, tid: str, n: int) -> str | None:
    return _existing(paths.verify_log(tid, n))


def task_diff(repo: Path, commit: str, *, limit: int = DIFF_CHARS) -> str:
    """`git show` of a task commit (stat and patch), bounded; '' when git does not know it."""
    out = subprocess.run(
        ["git", "show", "--stat", "--patch", "--format=commit %H%n%n    %s%n", commit],
        cwd=repo,
        capture_output=True,
        text=True,
        errors="replace",
        check=False,
    )
    if out.returncode != 0:
        return ""
    text = out.stdout
    return text if len(text) <= limit else text[:limit] + f"\n… ({len(text) - limit} more chars)"


def read_text(path: str | None, limit: int = 20_000) -> str:
    """A recorded file's tail (agent log, verify log), '' when missing."""
    if not path:
        return ""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return ""
    text = data[-limit:].decode("utf-8", errors="replace")
    return ("… " if len(data) > limit else "") + text
