"""`specflow why TASK [--run RUN]`: why a task failed, is blocked or waits — in a few lines."""

from __future__ import annotations

from typing import Optional

import typer

from specflow.cli.app import app_of


def register(app: typer.Typer) -> None:
    @app.command()
    def why(
        ctx: typer.Context,
        task: str = typer.Argument(..., help="Task id, e.g. T012."),
        run: Optional[str] = typer.Option(
            None, "--run", help="Run id (default: the latest run the task took part in)."
        ),
        json_out: bool = typer.Option(False, "--json", help="As JSON."),
    ) -> None:
        """Which check failed (and its output), which dependency blocks it, or where it merged."""
        from specflow.observe.why import explain
        from specflow.redact import redact

        app_obj = app_of(ctx)
        answer = explain(app_obj.project, task, run)
        answer.lines = [redact(line) for line in answer.lines]
        if json_out:
            app_obj.print_json(answer.to_dict())
            return
        for line in answer.lines:
            app_obj.echo(line)
