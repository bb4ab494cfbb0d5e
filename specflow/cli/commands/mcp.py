"""`specflow mcp [--project PATH]`: an MCP server over stdio for Claude Code, Cursor, VS Code."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from specflow.cli.app import app_of


def register(app: typer.Typer) -> None:
    @app.command()
    def mcp(
        ctx: typer.Context,
        project: Optional[Path] = typer.Option(
            None, "--project", "-p", help="Project folder (default: the current directory)."
        ),
    ) -> None:
        """Serve specflow over MCP (stdio): features, artifacts, stages, and the task graph as
        next/claim/complete tools that verify and merge. See docs/mcp.md."""
        from specflow.errors import NotInitialized
        from specflow.project import Project

        start = project.expanduser() if project else app_of(ctx).cwd
        found = Project.discover(start)
        if found is None:
            raise NotInitialized(
                f"not a specflow project: {start} (no specflow.toml here or above)",
                "pass --project PATH, or run 'specflow init' first",
            )
        from specflow.mcp.server import serve  # imports the mcp SDK: only for this command

        serve(found)
