"""`specflow log [RUN] [--task T]`: what happened in a run, task by task."""

from __future__ import annotations

from typing import Optional

import typer

from specflow.cli.app import app_of


def register(app: typer.Typer) -> None:
    @app.command()
    def log(
        ctx: typer.Context,
        run: Optional[str] = typer.Argument(None, help="Run id (default: the latest run)."),
        task: Optional[str] = typer.Option(None, "--task", "-t", help="Only this task."),
        feature: Optional[str] = typer.Option(None, "--feature", help="Latest run of a feature."),
        json_out: bool = typer.Option(False, "--json", help="The raw events as JSON lines."),
    ) -> None:
        """Show a run: per task its attempts, agent output, verify output and merge result."""
        from specflow.observe.log import render_log
        from specflow.runs.state import find_run

        app_obj = app_of(ctx)
        project = app_obj.project
        feat = project.resolve_feature(feature).name if feature else None
        run_id, _ = find_run(project.state_dir, feat, run)
        for line in render_log(project.state_dir, run_id, task=task, as_json=json_out):
            app_obj.echo(line)
