"""The MCP server: tools and resources over stdio, built on the `mcp` SDK's MCPServer.

Tools are sync functions (the SDK runs them in worker threads); specflow's typed errors become
tool errors (`isError: true`) with one line saying what is wrong and what to do next.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.types import Resource as MCPResource

from specflow import __version__
from specflow.errors import SpecflowError
from specflow.mcp import features
from specflow.mcp.desk import TaskDesk
from specflow.project import Project

F = TypeVar("F", bound=Callable[..., Any])

INSTRUCTIONS = """\
specflow keeps this repository's specs, task graph, checks and record. To implement a feature:
1. list_features / feature_status to see where things stand; read_artifact for spec, plan, tasks.
2. next_task(feature) gives the highest-priority ready task and its brief.
3. claim_task(feature, task_id) returns a git worktree path: edit files ONLY inside it.
4. complete_task(feature, task_id, summary): specflow commits, runs the task's verify command and
   the project's tests, and merges into specflow/<feature>. On verify failure it returns the
   output and keeps the claim: fix the files and call complete_task again.
5. fail_task(feature, task_id, reason) gives a task up; its dependents are blocked.
Repeat from 2 until next_task says the feature is done. Do not edit tasks.md: specflow ticks it.
"""


def tool_errors(fn: F) -> F:
    """specflow's typed errors -> one-line MCP tool errors."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SpecflowError as err:
            msg = err.message + (f" ({err.hint})" if err.hint else "")
            raise ToolError(msg.replace("\n", " ")) from None

    return wrapper  # type: ignore[return-value]


class SpecflowServer(MCPServer[None]):
    """Lists every artifact on disk as a resource (they come and go as stages run)."""

    def __init__(self, project: Project, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.project = project

    async def list_resources(self) -> list[MCPResource]:
        found = await super().list_resources()
        for uri, name, description in features.list_artifact_resources(self.project):
            found.append(
                MCPResource(uri=uri, name=name, description=description, mime_type="text/markdown")
            )
        return found


def build_server(project: Project) -> SpecflowServer:
    desk: TaskDesk | None = None

    def get_desk() -> TaskDesk:
        if desk is None:
            raise ToolError("the server is not started")
        return desk

    @asynccontextmanager
    async def lifespan(_: MCPServer[None]) -> AsyncIterator[None]:
        nonlocal desk
        desk = TaskDesk(project)
        desk.restore()
        try:
            yield None
        finally:
            desk.close()

    server = SpecflowServer(
        project,
        name="specflow",
        version=__version__,
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        log_level="WARNING",
    )

    _feature_tools(server, project, get_desk)
    _task_tools(server, get_desk)
    _resources(server, project)
    return server


def _feature_tools(
    server: SpecflowServer, project: Project, get_desk: Callable[[], TaskDesk]
) -> None:
    """Features, artifacts, stages and run logs."""

    @server.tool()
    @tool_errors
    def list_features() -> dict[str, Any]:
        """Every feature under specs/ with its artifacts' states and task progress."""
        return {"features": features.list_features(project)}

    @server.tool()
    @tool_errors
    def feature_status(feature: str) -> dict[str, Any]:
        """One feature: each artifact's state/version, and each task's state (merged, claimed,
        ready, waiting, file_wait, failed, blocked) with its dependencies.
        `feature`: folder name (001-login), number (1) or slug (login)."""
        feat = project.resolve_feature(feature)
        out = features.artifact_status(project, feat)
        if feat.artifact("tasks").is_file():
            out.update(get_desk().status(feat.name))
        return out

    @server.tool()
    @tool_errors
    def read_artifact(feature: str, kind: str) -> dict[str, Any]:
        """Read an artifact: kind is spec, plan, tasks, feature or constitution. Returns its text
        (without front matter), state (fresh/stale/edited/hand-written) and version."""
        return features.read_artifact(project, feature or None, kind)

    @server.tool()
    @tool_errors
    def run_stage(
        stage: str, feature: str | None = None, feature_text: str | None = None, force: bool = False
    ) -> dict[str, Any]:
        """Run a generation stage with the configured model: `specify` with feature_text creates
        a new feature (with only `feature`, regenerates its spec from feature.md); `plan` and
        `tasks` write plan.md / tasks.md of `feature`. force=true regenerates even if up to date
        or edited by hand."""
        return features.run_stage(project, stage, feature, feature_text, force=force)

    @server.tool()
    @tool_errors
    def run_log(
        run: str | None = None, task: str | None = None, feature: str | None = None
    ) -> dict[str, Any]:
        """A run's log (default: the latest run, or the latest of `feature`): per task its
        attempts, verify output and merge result. MCP sessions are runs too."""
        return features.run_log(project, run, task, feature)


def _task_tools(server: SpecflowServer, get_desk: Callable[[], TaskDesk]) -> None:
    """Claiming and completing tasks (mcp/desk.py)."""

    @server.tool()
    @tool_errors
    def next_task(feature: str) -> dict[str, Any]:
        """The highest-priority ready task (dependencies merged, not claimed, no file shared with
        a claimed task) with its brief — or, as `why`, the reason none is ready."""
        return get_desk().next_task(feature)

    @server.tool()
    @tool_errors
    def claim_task(feature: str, task_id: str) -> dict[str, Any]:
        """Claim a ready task: specflow prepares a git worktree on branch
        specflow-task/<feature>/<id> from the integration branch's tip and returns its path and
        the task brief. Edit files only inside that worktree, then call complete_task."""
        return get_desk().claim(feature, task_id)

    @server.tool()
    @tool_errors
    def complete_task(feature: str, task_id: str, summary: str = "") -> dict[str, Any]:
        """Report a claimed task done. specflow commits the worktree's changes (with
        Specflow-Task trailers), runs the task's verify command and the project's tests, then
        rebases and merges into specflow/<feature>, ticking the task in tasks.md.
        status "merged": done. "verify_failed": output attached, claim kept - fix and call again.
        "conflict": the worktree was reset to the new tip - redo the change and call again."""
        return get_desk().complete(feature, task_id, summary)

    @server.tool()
    @tool_errors
    def fail_task(feature: str, task_id: str, reason: str) -> dict[str, Any]:
        """Give up a claimed task: releases the claim and records the failure; tasks depending
        on it become blocked (claim it again later to retry)."""
        return get_desk().fail(feature, task_id, reason)


def _resources(server: SpecflowServer, project: Project) -> None:
    """The artifacts and the constitution as MCP resources."""

    @server.resource(
        "specflow://features/{feature}/{kind}",
        name="artifact",
        description="An artifact of a feature: feature, spec, plan or tasks (Markdown).",
        mime_type="text/markdown",
    )
    def artifact(feature: str, kind: str) -> str:
        try:
            return features.read_resource_text(project, feature, kind)
        except SpecflowError as err:
            raise ResourceNotFoundError(err.message) from None

    @server.resource(features.CONSTITUTION_URI, name="constitution", mime_type="text/markdown")
    def constitution() -> str:
        try:
            return features.read_resource_text(project, "", "constitution")
        except SpecflowError as err:
            raise ResourceNotFoundError(err.message) from None


def serve(project: Project) -> None:
    build_server(project).run("stdio")
