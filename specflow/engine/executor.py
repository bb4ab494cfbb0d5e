"""Where a task's agent runs: the Executor seam of the implement engine.

The engine keeps the scheduler, the event log and the merge queue; for each attempt it asks its
executor to run the agent and leave the task's commit checked out in the task's (driver-side)
slot. Implementations:

- `LocalExecutor` (the default): the agent runs in the slot's worktree on this machine and the
  merge queue verifies the commit, exactly as the engine always did.
- `specflow.executors.ray_executor.RayExecutor` (`--executor ray`): the agent and the task's
  checks run on a Ray cluster node, in a clone of a shared git remote; the verified commit comes
  back by `git fetch`, and the merge queue skips re-verifying it unless the tip moved.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from specflow.errors import InputError

if TYPE_CHECKING:
    from specflow.config import Config
    from specflow.domain.tasks import Task
    from specflow.engine.runner import Engine
    from specflow.executors.ray_executor import RayExecutor
    from specflow.workspace.git import Git
    from specflow.workspace.pool import Slot

EXECUTORS = ("local", "ray")


class Executor(Protocol):
    name: str

    def run_task(
        self, engine: Engine, task: Task, slot: Slot, attempt: int, feedback: str | None
    ) -> tuple[int, str | None]:
        """Run attempt `attempt` of `task` (with `feedback` from the previous one, if any).

        On return, `slot` (on its task branch, based on `slot.base`) has HEAD at the task's one
        commit on top of `slot.base`. Returns (the last attempt number used, the commit if it
        already passed the task's checks on `slot.base`, else None). Raises the engine's
        task failure (agent failed, no changes, checks failed past the retries) or its
        cancellation, like the engine's own steps.
        """
        ...

    def close(self) -> None:
        """Release what the executor holds (connections, remote refs). Called once per run."""
        ...


class LocalExecutor:
    """Today's behaviour: agent and commit in the slot's worktree; the merge queue verifies."""

    name = "local"

    def run_task(
        self, engine: Engine, task: Task, slot: Slot, attempt: int, feedback: str | None
    ) -> tuple[int, str | None]:
        engine._run_agent(task, slot, attempt, feedback)
        engine._commit(task, slot, attempt)
        return attempt, None

    def close(self) -> None:
        return None


def make_executor(
    kind: str | None,
    *,
    address: str | None,
    config: Config,
    project_root: Path,
    repo_root: Path,
    git: Git,
    agent_spec: str,
    tmux: bool = False,
) -> RayExecutor | None:
    """`--executor KIND`: None for local (the engine's default), else a connected executor.
    Without the `ray` package, `ray` is an InputError (exit 2) with the pip command."""
    kind = (kind or "local").strip().lower()
    if kind == "local":
        return None
    if kind != "ray":
        raise InputError(f"unknown executor '{kind}'", "use --executor local or --executor ray")
    from specflow.executors.ray_executor import RayExecutor, import_ray, resolve_remote

    import_ray()
    if tmux:
        raise InputError("--tmux runs agents on this machine", "drop --tmux with --executor ray")
    rc = config.ray
    address = address or rc.address
    remote = resolve_remote(rc.remote, project_root, repo_root, address)
    return RayExecutor(
        git=git,
        remote=remote,
        agent_spec=agent_spec,
        config=config,
        address=address,
        slots_per_node=rc.agent_slots_per_node,
    )
