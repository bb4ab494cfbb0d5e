"""`specflow report [RUN] [-o FILE]`: one self-contained HTML file for a run."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from specflow.cli.app import app_of


def register(app: typer.Typer) -> None:
    @app.command()
    def report(
        ctx: typer.Context,
        run: Optional[str] = typer.Argument(None, help="Run id or prefix, or 'last' (default)."),
        output: Optional[Path] = typer.Option(
            None, "--output", "-o", help="Where to write (default: .specflow/reports/RUN.html)."
        ),
        feature: Optional[str] = typer.Option(None, "--feature", help="Latest run of a feature."),
    ) -> None:
        """Timeline, task graph, spend, failures with transcripts and diffs: opens offline."""
        from specflow.observe.loading import open_run
        from specflow.observe.report import write_report

        app_obj = app_of(ctx)
        project = app_obj.project
        opened = open_run(project, run, feature=feature)
        out = output or project.state_dir / "reports" / f"{opened.trace.run_id}.html"
        write_report(opened, out)
        app_obj.echo(str(out))
