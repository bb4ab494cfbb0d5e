"""Where a task's agent runs: the Executor seam of the implement engine.

The engine keeps the scheduler, the event log and the merge queue; for each attempt it hands
its executor an `AttemptJob` and gets back an `AttemptResult`, with the task's commit checked
out in the job's worktree. Implementations:

- `LocalExecutor` (the default): the agent runs in the slot's worktree on this machine and the
  merge queue verifies the commit.
- `specflow.executors.ray_executor.RayExecutor` (`--executor ray`, made by
  `specflow.executors.make_executor`): the agent and the task's checks run on a Ray cluster
  node, in a clone of a shared git remote; the verified commit comes back by `git fetch`, and
  the merge queue skips re-verifying it unless the tip moved.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from specflow.agents.base import Agent
from specflow.engine.attempt import (
    AttemptJob,
    AttemptResult,
    Cancelled,
    Emit,
    agent_outcome,
    agent_task,
    commit_work,
    limits_dict,
    run_agent,
)
from specflow.fsutil import atomic_write_text
from specflow.runs.blobs import store_blob


class Executor(Protocol):
    name: str

    def capacity(self) -> int | None:
        """How many agents it runs at once (None: as many as `--parallel` says)."""
        ...

    def run_attempt(self, job: AttemptJob, emit: Emit, cancel: threading.Event) -> AttemptResult:
        """Run attempt `job.attempt` of `job.task` (with `job.feedback` from the previous one).

        `emit(kind, **data)` records an event of the task (the executor adds `attempt`). On
        return, `job.worktree` has HEAD at the task's one commit on top of `job.base`. Raises
        AttemptFailed (agent failed, no changes, checks failed past `job.verify_retries`) or
        Cancelled once `cancel` is set.
        """
        ...

    def close(self) -> None:
        """Release what the executor holds (connections, remote refs). Called once per run."""
        ...


class LocalExecutor:
    """The agent and the commit in the slot's worktree; the merge queue verifies."""

    name = "local"

    def __init__(self, agent: Agent) -> None:
        self.agent = agent

    def capacity(self) -> int | None:
        return None

    def run_attempt(self, job: AttemptJob, emit: Emit, cancel: threading.Event) -> AttemptResult:
        if cancel.is_set():
            raise Cancelled()
        tid, n = job.task.id, job.attempt
        texts = (job.spec_text, job.plan_text)
        agent_job = agent_task(
            job.run_id, job.feature, job.task, job.worktree, job.paths.brief(tid), texts, n,
            job.feedback, job.model, job.limits,
        )  # fmt: skip
        if job.feedback is not None:
            atomic_write_text(job.paths.feedback(tid, n), job.feedback)

        def emit_attempt(kind: str, **data: Any) -> None:
            emit(kind, attempt=n, **data)

        result = run_agent(
            self.agent,
            agent_job,
            emit_attempt,
            cancel,
            base=job.base,
            brief_ref=store_blob(job.paths.dir / "blobs", {"brief": agent_job.brief}),
            limits=limits_dict(job.limits),
        )
        agent_outcome(result, cancel)
        commit_work(job.git, job.base, job.message, emit_attempt)
        return AttemptResult(n)

    def close(self) -> None:
        return None
