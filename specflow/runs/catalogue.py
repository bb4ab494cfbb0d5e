"""The event catalogue: every kind of event a run records, and what each one carries.

An event is one JSON object per line in `.specflow/runs/<run>/events.jsonl`: `t` (unix time),
`kind` (a `Kind`), then the kind's payload below. Task events also carry `task`; attempt events
`attempt`; events made on a Ray node `node`. Events are read back as plain dicts (`Event`) —
runs recorded by earlier versions have the same kinds and a subset of these fields, so readers
use `.get()`; the payload types say what a writer puts in.

`tests/architecture/test_events.py` fails when code emits a kind that is not here, and the
test suite runs with every emitted kind and field checked against this file
(`SPECFLOW_STRICT_EVENTS=1`). How an event reads as text is `specflow/observe/text.py`.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, TypedDict


class Kind(str, Enum):
    # the run
    RUN_STARTED = "run_started"
    RUN_RESUMED = "run_resumed"
    RUN_INTERRUPTED = "run_interrupted"
    RUN_FINISHED = "run_finished"
    POLICY = "policy"
    SANDBOX = "sandbox"  # which confinement the run's untrusted commands get
    BUDGET_EXHAUSTED = "budget_exhausted"
    WARNING = "warning"
    BRANCH_UPDATED = "branch_updated"  # the integration branch took the base's new commits
    # a task
    TASK_STARTED = "task_started"
    TASK_CLAIMED = "task_claimed"  # an MCP client took it
    TASK_COMMITTED = "task_committed"
    TASK_MERGED = "task_merged"
    TASK_FAILED = "task_failed"
    TASK_BLOCKED = "task_blocked"
    # an attempt's agent
    AGENT_STARTED = "agent_started"
    AGENT_PROCESS = "agent_process"
    AGENT_TMUX = "agent_tmux"
    AGENT_MODEL = "agent_model"
    AGENT_STEP = "agent_step"
    AGENT_NOTE = "agent_note"
    AGENT_REPORT = "agent_report"
    MODEL_CALL = "model_call"
    AGENT_FINISHED = "agent_finished"
    # checks and the merge queue
    VERIFY_STARTED = "verify_started"
    VERIFY_PASSED = "verify_passed"
    VERIFY_FAILED = "verify_failed"
    MERGE_REBASE = "merge_rebase"
    MERGE_CONFLICT = "merge_conflict"
    MERGE_STARTED = "merge_started"
    MERGE_RETRY = "merge_retry"
    # trust (docs/trust.md)
    REVIEW_STARTED = "review_started"
    REVIEW_VERDICT = "review_verdict"
    REVIEW_FAILED = "review_failed"
    AWAITING_APPROVAL = "awaiting_approval"
    TASK_APPROVED = "task_approved"
    TASK_RESTORED = "task_restored"
    MODEL_ESCALATED = "model_escalated"


Event = dict[str, Any]  # an event as read back: `t`, `kind`, then its payload

COMMON = frozenset({"t", "kind", "task", "attempt", "node"})  # allowed on every event

RUN_KINDS = frozenset({Kind.RUN_STARTED, Kind.RUN_RESUMED, Kind.RUN_INTERRUPTED, Kind.RUN_FINISHED})
MERGE_KINDS = frozenset(
    {Kind.MERGE_REBASE, Kind.MERGE_CONFLICT, Kind.MERGE_STARTED, Kind.MERGE_RETRY}
)
STEP_KINDS = frozenset({Kind.AGENT_STEP, Kind.MODEL_CALL, Kind.AGENT_NOTE})
TASK_END_KINDS = frozenset({Kind.TASK_MERGED, Kind.TASK_FAILED, Kind.TASK_BLOCKED})


class Usage(TypedDict, total=False):
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    cached_tokens: int  # of prompt_tokens, from the provider's prompt cache (absent: none)


class Limits(TypedDict, total=False):
    max_steps: int
    max_seconds: float
    max_cost_usd: float | None


class RunStarted(TypedDict, total=False):
    """Also `run_resumed`. MCP session runs: agent "mcp", parallel 0, plus the server's data."""

    run: str
    feature: str
    agent: str
    parallel: int
    model: str | None
    branch: str
    base: str | None
    created_branch: bool
    executor: str
    selected: list[str]
    done: list[str]
    titles: dict[str, str]
    session: str
    version: str


class RunInterrupted(TypedDict, total=False):
    run: str


class RunFinished(TypedDict, total=False):
    run: str
    merged: int
    failed: int
    blocked: int
    not_run: list[str]
    awaiting: list[str]
    budget: dict[str, Any]
    reason: str


class Policy(TypedDict, total=False):
    gates: dict[str, str]
    reviewer: str | None
    same_vendor: bool | None  # None: the implementer's vendor is unknown (a cmd: agent)


class Sandbox(TypedDict, total=False):
    """docs/security.md: the confinement of agents' commands, checks and (maybe) cmd: agents."""

    backend: str  # bwrap | landlock | none
    network: bool
    cmd_agents: bool
    max_processes: int
    memory_mb: int
    max_file_mb: int
    cgroups: list[str]  # controllers holding the limits: pids, memory
    why: str  # why not a better backend
    summary: str  # the one line the live view shows


class BudgetExhausted(TypedDict, total=False):
    limit: float
    spent: float
    estimate: float
    by_stage: dict[str, float]
    by_task: dict[str, float]
    waiting: list[str]


class WarningNote(TypedDict, total=False):
    message: str


class BranchUpdated(TypedDict, total=False):
    """Before any task starts: the base branch's new commits brought into the integration
    branch (`how`: fast-forward or merge; `resolved`: tasks.md files specflow merged)."""

    branch: str
    base: str
    how: str
    commits: int
    commit: str
    resolved: list[str]


class Reason(TypedDict, total=False):
    """Why, in one line: merge_retry and review_failed carry only this."""

    reason: str


class TaskStarted(TypedDict, total=False):
    slot: int
    base: str


class TaskClaimed(TypedDict, total=False):
    worktree: str
    branch: str
    base: str
    session: str
    pid: int
    index: int
    adopted_from: str | None


class TaskCommitted(TypedDict, total=False):
    commit: str


class TaskMerged(TypedDict, total=False):
    commit: str
    reason: str | None


class TaskFailed(Reason, total=False):
    # agent | verify | merge_conflict | review | budget | no_changes | secret | tampered | internal
    cause: str


class TaskBlocked(Reason, total=False):
    by: str


class AgentStarted(TypedDict, total=False):
    agent: str
    model: str | None
    base: str | None
    brief_ref: str
    limits: Limits
    host: str  # on a Ray node
    worker: int


class AgentProcess(TypedDict, total=False):
    pid: int
    command: str
    log: str


class AgentTmux(TypedDict, total=False):
    session: str
    window: str
    window_id: str
    socket: str
    attach: str


class AgentModel(TypedDict, total=False):
    model: str
    log: str | None
    confined: bool | str  # the sandbox's summary (a bool in runs before it)


class AgentStep(TypedDict, total=False):
    step: int
    tool: str | None
    args: str
    result: str
    ok: bool
    usage: Usage


class AgentNote(TypedDict, total=False):
    step: int
    text: str


class AgentReport(Usage, total=False):
    ok: bool
    exit_code: int | None
    text: str
    turns: int
    model: str | None


class ModelCall(Usage, total=False):
    step: int
    model: str
    purpose: str
    total_cost_usd: float
    latency_s: float
    tool_calls: int
    retries: int
    finish_reason: str | None
    error: str
    request_ref: str
    response_ref: str


class AgentFinished(TypedDict, total=False):
    ok: bool
    reason: str | None
    steps: int
    usage: Usage
    seconds: float
    summary: str | None


class VerifyStarted(TypedDict, total=False):
    commands: list[str]


class VerifyPassed(TypedDict, total=False):
    commands: list[str]
    seconds: float
    log: str


class VerifyFailed(TypedDict, total=False):
    reason: str
    command: str | None
    seconds: float
    output: str
    log: str


class MergeOnto(TypedDict, total=False):
    """merge_started, merge_rebase: the integration tip the task's commit goes onto."""

    onto: str | None


class MergeConflict(MergeOnto, total=False):
    files: list[str]


class ReviewStarted(TypedDict, total=False):
    model: str | None
    implementer: str | None
    risk: str
    same_vendor: bool


class ReviewVerdict(TypedDict, total=False):
    model: str | None
    decision: str
    summary: str
    findings: list[dict[str, Any]]
    usage: Usage


class AwaitingApproval(TypedDict, total=False):
    commit: str
    base: str | None
    risk: str
    hint: str
    again: bool


RESUMED = "resume"  # task_restored's `by` for work an earlier run committed but did not land


class TaskApproved(TypedDict, total=False):
    by: str
    commit: str | None


class ModelEscalated(TypedDict, total=False):
    # also "from": the previous model (a keyword in Python, so not declared here)
    to: str
    reason: str


PAYLOADS: dict[Kind, type] = {
    Kind.RUN_STARTED: RunStarted,
    Kind.RUN_RESUMED: RunStarted,
    Kind.RUN_INTERRUPTED: RunInterrupted,
    Kind.RUN_FINISHED: RunFinished,
    Kind.POLICY: Policy,
    Kind.SANDBOX: Sandbox,
    Kind.BUDGET_EXHAUSTED: BudgetExhausted,
    Kind.WARNING: WarningNote,
    Kind.BRANCH_UPDATED: BranchUpdated,
    Kind.TASK_STARTED: TaskStarted,
    Kind.TASK_CLAIMED: TaskClaimed,
    Kind.TASK_COMMITTED: TaskCommitted,
    Kind.TASK_MERGED: TaskMerged,
    Kind.TASK_FAILED: TaskFailed,
    Kind.TASK_BLOCKED: TaskBlocked,
    Kind.AGENT_STARTED: AgentStarted,
    Kind.AGENT_PROCESS: AgentProcess,
    Kind.AGENT_TMUX: AgentTmux,
    Kind.AGENT_MODEL: AgentModel,
    Kind.AGENT_STEP: AgentStep,
    Kind.AGENT_NOTE: AgentNote,
    Kind.AGENT_REPORT: AgentReport,
    Kind.MODEL_CALL: ModelCall,
    Kind.AGENT_FINISHED: AgentFinished,
    Kind.VERIFY_STARTED: VerifyStarted,
    Kind.VERIFY_PASSED: VerifyPassed,
    Kind.VERIFY_FAILED: VerifyFailed,
    Kind.MERGE_REBASE: MergeOnto,
    Kind.MERGE_CONFLICT: MergeConflict,
    Kind.MERGE_STARTED: MergeOnto,
    Kind.MERGE_RETRY: Reason,
    Kind.REVIEW_STARTED: ReviewStarted,
    Kind.REVIEW_VERDICT: ReviewVerdict,
    Kind.REVIEW_FAILED: Reason,
    Kind.AWAITING_APPROVAL: AwaitingApproval,
    Kind.TASK_APPROVED: TaskApproved,
    Kind.TASK_RESTORED: TaskApproved,
    Kind.MODEL_ESCALATED: ModelEscalated,
}
_EXTRA = {Kind.MODEL_ESCALATED: frozenset({"from"})}


def fields_of(kind: Kind) -> frozenset[str]:
    """The fields an event of `kind` may carry."""
    return COMMON | frozenset(PAYLOADS[kind].__annotations__) | _EXTRA.get(kind, frozenset())


def check(kind: str, data: dict[str, Any]) -> Kind:
    """The catalogue's `Kind` for `kind`; ValueError for an unknown kind or field."""
    try:
        k = Kind(kind)
    except ValueError:
        raise ValueError(f"event kind {kind!r} is not in specflow/runs/catalogue.py") from None
    unknown = set(data) - fields_of(k)
    if unknown:
        raise ValueError(f"event {kind}: fields {sorted(unknown)} are not in its payload type")
    return k
