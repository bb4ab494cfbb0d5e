"""`specflow init`."""

from __future__ import annotations

from pathlib import Path

import typer

from specflow.cli.app import app_of


def register(app: typer.Typer) -> None:
    @app.command()
    def init(
        ctx: typer.Context,
        path: Path = typer.Argument(Path("."), help="Project folder (default: here)."),
        name: str = typer.Option(None, help="Project name (default: the folder name)."),
        test_command: str = typer.Option(
            None, "--test-command", help="Command that must pass before a merge."
        ),
    ) -> None:
        """Set up specflow.toml, specs/, a constitution and the ignored .specflow/ folder."""
        from specflow.errors import InputError
        from specflow.stages.init import init_project

        app_ = app_of(ctx)
        if not path.exists():
            raise InputError(f"{path}: no such folder", "create it first")
        res = init_project(path, name=name, test_command=test_command)
        for item in res.created:
            app_.echo(f"created {item}")
        for item in res.kept:
            app_.echo(f"kept    {item} (already there)")
        app_.echo("next: specflow specify FEATURE.md")
