"""`specflow attach TASK [--print]`: watch or take over a CLI agent running in tmux (`--tmux`)."""

from __future__ import annotations

from typing import Optional

import typer

from specflow.cli.app import app_of


def register(app: typer.Typer) -> None:
    @app.command()
    def attach(
        ctx: typer.Context,
        task: str = typer.Argument(..., help="Task id, e.g. T012."),
        run: Optional[str] = typer.Option(None, "--run", help="Run id (default: the latest)."),
        feature: Optional[str] = typer.Option(None, "--feature", help="Latest run of a feature."),
        print_only: bool = typer.Option(
            False, "--print", help="Print the tmux command instead of running it."
        ),
    ) -> None:
        """Attach to the tmux window where the task's agent runs (implement --tmux)."""
        import os
        import shlex

        from specflow.agents.tmux import find_window
        from specflow.runs.state import find_run

        app_obj = app_of(ctx)
        project = app_obj.project
        feat = project.resolve_feature(feature).name if feature else None
        run_id, _ = find_run(project.state_dir, feat, run)
        target = find_window(project.state_dir, run_id, task)
        argv = target.argv(inside=bool(os.environ.get("TMUX")))
        if print_only:
            app_obj.echo(shlex.join(argv))
            return
        os.execvp(argv[0], argv)
