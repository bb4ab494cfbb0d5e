"""Executors that run the implement engine's agents somewhere else (see engine/executor.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from specflow.errors import InputError

if TYPE_CHECKING:
    from specflow.config import Config
    from specflow.executors.ray_executor import RayExecutor
    from specflow.workspace.git import Git

EXECUTORS = ("local", "ray")


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
