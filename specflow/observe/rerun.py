"""`specflow replay RUN [TASK]`: run a recorded builtin-agent attempt again, offline.

1. The recording: the attempt's model answers, from `.specflow/logs/calls.jsonl` (full
   requests, when the agent's calls were logged there) or else from the attempt's conversation
   `tasks/<T>/builtin-<n>.json`, with token counts from its `model_call` events; written as a
   ReplayModel JSONL (purpose `implement/<T>`, request hashes where the request is known).
2. A temporary clone (`git clone --shared`, nothing in the user's repository changes) checked
   out at the commit the attempt started from.
3. The builtin agent on a ReplayModel over that recording, with the project's (or
   `--template-dir`'s) prompt templates, the recorded brief and feedback.
4. The verdict: does the resulting tree equal the recorded task commit's tree; and a unified
   diff of the prompts (recorded vs now) — empty unless templates or inputs changed.
"""

from __future__ import annotations

import copy
import difflib
import json
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specflow.errors import InputError
from specflow.observe.trace import Attempt, TaskTrace, read_text

if TYPE_CHECKING:
    from specflow.llm.base import Call, Message
    from specflow.observe.loading import OpenedRun


@dataclass
class ReplayResult:
    task: str
    attempt: int
    base: str | None
    source: str  # where the answers came from
    recording: str
    expected_commit: str | None
    recorded_ok: bool | None
    recorded_reason: str | None
    ok: bool = False
    reason: str | None = None
    steps: int = 0
    calls: int = 0
    answers: int = 0
    tree: str | None = None
    matches: bool | None = None  # None: nothing to compare with
    differences: str = ""  # `git diff --stat` recorded tree vs replayed tree
    prompt_diff: str = ""
    workdir: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class _Capture:
    requests: list[list[Message]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on_call(self, call: Call) -> None:
        with self.lock:
            self.requests.append(copy.deepcopy(call.messages))


def replay_tasks(
    opened: OpenedRun,
    task: str | None = None,
    *,
    attempt: int | None = None,
    template_dir: Path | None = None,
    keep: bool = False,
) -> list[ReplayResult]:
    trace = opened.trace
    if task:
        tid = task.strip().upper()
        if tid not in trace.tasks:
            raise InputError(f"task {tid} is not in run {trace.run_id}")
        chosen = [trace.tasks[tid]]
    else:
        chosen = [t for t in trace.tasks.values() if _builtin_attempts(t)]
    if not chosen:
        raise InputError(
            f"run {trace.run_id} has no builtin-agent attempts to replay",
            "replay needs a run made with --agent builtin",
        )
    return [replay_task(opened, tt, attempt, template_dir=template_dir, keep=keep) for tt in chosen]


def _builtin_attempts(tt: TaskTrace) -> list[Attempt]:
    return [a for a in tt.attempts if a.agent == "builtin"]


def replay_task(
    opened: OpenedRun,
    tt: TaskTrace,
    attempt: int | None = None,
    *,
    template_dir: Path | None = None,
    keep: bool = False,
) -> ReplayResult:
    from specflow.agents.base import AgentTask, Limits
    from specflow.agents.builtin import BuiltinAgent
    from specflow.agents.builtin.loop import implement_prompts
    from specflow.llm.recorded import ReplayModel

    attempts = _builtin_attempts(tt)
    if not attempts:
        raise InputError(f"{tt.id} has no builtin-agent attempt in run {opened.trace.run_id}")
    a = attempts[-1] if attempt is None else next((x for x in attempts if x.n == attempt), None)
    if a is None:
        raise InputError(
            f"{tt.id} has no attempt {attempt}", f"attempts: {[x.n for x in attempts]}"
        )
    if opened.graph is None or tt.id not in opened.graph.tasks:
        raise InputError(f"{tt.id}: the feature's tasks.md cannot be read", "replay needs the task")
    if not a.base:
        raise InputError(f"{tt.id} attempt {a.n}: the run did not record where it started")
    project = opened.project
    out_dir = project.state_dir / "replays" / f"{opened.trace.run_id}-{tt.id}-{a.n}"
    out_dir.mkdir(parents=True, exist_ok=True)
    recorded, source = recorded_calls(opened, tt, a)
    recording = out_dir / "recording.jsonl"
    write_recording(recording, recorded, f"implement/{tt.id}")
    result = ReplayResult(
        tt.id, a.n, a.base, source, str(recording), a.commit, a.ok, a.reason, answers=len(recorded)
    )
    first_request = recorded[0]["messages"] if recorded and recorded[0].get("messages") else None
    brief, feedback = _inputs(opened, tt, a, first_request)
    work = Path(tempfile.mkdtemp(prefix=f"specflow-replay-{tt.id}-"))
    capture = _Capture()
    try:
        wt = work / "worktree"
        _git(project.root, "clone", "-q", "--shared", "--no-checkout", str(project.root), str(wt))
        _git(wt, "checkout", "-q", "--detach", a.base)
        prompt_root = _template_root(work, template_dir) if template_dir else project.root
        model_name = a.model or "replay"

        def factory(name: str | None) -> ReplayModel:
            return ReplayModel(recording, name=model_name, observer=capture)

        agent = BuiltinAgent(factory, project_root=prompt_root, log_dir=out_dir, environ=None)
        cfg = project.config.implement
        job = AgentTask(
            run_id=f"replay-{opened.trace.run_id}",
            feature=opened.trace.feature,
            task=opened.graph.tasks[tt.id],
            worktree=wt,
            brief_path=out_dir / "brief.md",
            brief=brief,
            attempt=a.n,
            feedback=feedback,
            model=model_name,
            limits=Limits(cfg.max_steps, cfg.max_seconds, cfg.max_cost_usd),
        )
        res = agent.run(job, lambda kind, **data: None, threading.Event())
        result.ok, result.reason, result.steps = res.ok, res.reason, res.steps
        result.calls = len(capture.requests)
        _git(wt, "add", "-A")
        result.tree = _git(wt, "write-tree").strip()
        if a.commit:
            expected = _git(wt, "rev-parse", f"{a.commit}^{{tree}}").strip()
            result.matches = expected == result.tree
            if not result.matches:
                result.differences = _git(wt, "diff", "--stat", expected, result.tree)
        elif a.ok is False:
            result.matches = res.ok is False and (res.reason or "") == (a.reason or "")
        if first_request is not None and capture.requests:
            new = capture.requests[0]
            if template_dir is not None:
                new = implement_prompts(prompt_root, job, job.limits)
            result.prompt_diff = prompt_diff(first_request, new)
        if keep:
            result.workdir = str(wt)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    return result


def recorded_calls(
    opened: OpenedRun, tt: TaskTrace, a: Attempt
) -> tuple[list[dict[str, Any]], str]:
    """[{messages?, response, model}] for the attempt's model calls, oldest first."""
    calls_log = opened.project.state_dir / "logs" / "calls.jsonl"
    start, end = a.started or 0.0, (a.finished or float("inf")) + 1.0
    purpose = f"implement/{tt.id}"
    from specflow.runs.events import iter_events

    logged = [
        c
        for c in iter_events(calls_log)
        if c.get("purpose") == purpose
        and c.get("response") is not None
        and start <= float(c.get("unix") or 0.0) <= end
    ]
    if logged:
        return logged, str(calls_log)
    if not a.transcript:
        raise InputError(
            f"{tt.id} attempt {a.n}: nothing recorded to replay",
            f"neither {calls_log} has its calls nor tasks/{tt.id}/builtin-{a.n}.json exists",
        )
    messages: list[Message] = json.loads(Path(a.transcript).read_text(encoding="utf-8"))
    usages = [s for s in a.steps if s.get("kind") == "model_call"]
    out: list[dict[str, Any]] = []
    for i, m in enumerate(messages):
        if m.get("role") != "assistant":
            continue
        calls = []
        for tc in m.get("tool_calls") or []:
            fn = tc.get("function") or {}
            raw = fn.get("arguments") or "{}"
            try:
                args = json.loads(raw)
            except ValueError:
                args = None
            call = {"id": tc.get("id"), "name": fn.get("name"), "arguments": args or {}}
            if not isinstance(args, dict):
                call["raw_arguments"] = raw
            calls.append(call)
        u = usages[len(out)] if len(out) < len(usages) else {}
        out.append(
            {
                "messages": messages[:i],
                "model": u.get("model"),
                "response": {"content": m.get("content"), "tool_calls": calls},
                "usage": {
                    k: u.get(k, 0) for k in ("prompt_tokens", "completion_tokens", "cost_usd")
                },
            }
        )
    return out, a.transcript


def write_recording(path: Path, calls: list[dict[str, Any]], purpose: str) -> None:
    from specflow.agents.builtin.tools import TOOLS
    from specflow.llm.recorded import request_hash

    lines = []
    for c in calls:
        response = dict(c["response"])
        response.setdefault("usage", c.get("usage") or {})
        if c.get("usage"):
            response["usage"] = c["usage"]
        msgs = c.get("messages")
        lines.append(
            {
                "purpose": purpose,
                "request_hash": request_hash(msgs, c.get("tools") or TOOLS) if msgs else "",
                "model": c.get("model") or "",
                "response": response,
            }
        )
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), "utf-8")


def _inputs(
    opened: OpenedRun, tt: TaskTrace, a: Attempt, first: list[Message] | None
) -> tuple[str, str | None]:
    """The brief and feedback the attempt was given. The brief file is rewritten per attempt,
    so for an earlier attempt the recorded user prompt stands in for it."""
    from specflow.runs.state import RunPaths

    paths = RunPaths(opened.project.state_dir, opened.trace.run_id)
    brief = read_text(str(paths.brief(tt.id)), 10**7)
    feedback = read_text(a.feedback, 10**7) or None
    user = next((str(m.get("content") or "") for m in first or [] if m.get("role") == "user"), "")
    if user and brief.strip() not in user:
        return user, None
    return brief, feedback


def _template_root(work: Path, template_dir: Path) -> Path:
    """A stand-in project root whose `.specflow/templates` is `template_dir`."""
    if not template_dir.is_dir():
        raise InputError(f"--template-dir {template_dir}: not a folder")
    root = work / "templates-root"
    (root / ".specflow").mkdir(parents=True)
    (root / ".specflow" / "templates").symlink_to(template_dir.resolve())
    return root


def prompt_diff(recorded: list[Message], new: list[Message]) -> str:
    """Unified diff of the prompts (system and user messages) of the first model request."""

    def text(msgs: list[Message]) -> list[str]:
        out: list[str] = []
        for m in msgs:
            if m.get("role") in ("system", "user"):
                out.append(f"--- {m['role']} ---\n")
                out += str(m.get("content") or "").splitlines(keepends=True)
                out.append("\n")
        return out

    diff = difflib.unified_diff(text(recorded[:2]), text(new[:2]), "recorded", "replayed")
    return "".join(d if d.endswith("\n") else d + "\n" for d in diff)


def _git(cwd: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, errors="replace"
    )
    if out.returncode != 0:
        raise InputError(f"git {args[0]} failed: {out.stderr.strip()[:300]}")
    return out.stdout
