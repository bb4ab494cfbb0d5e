"""`specflow graph [FEATURE] --format mermaid|dot|json`."""

from __future__ import annotations

import typer

from specflow.cli.app import app_of


def register(app: typer.Typer) -> None:
    @app.command()
    def graph(
        ctx: typer.Context,
        feature: str = typer.Argument(None, help="Feature folder, number or slug."),
        fmt: str = typer.Option("mermaid", "--format", "-f", help="mermaid, dot or json."),
    ) -> None:
        """Print the task graph with its critical path marked."""
        import sys

        from specflow.stages.graph import load_graph, render_graph

        app_ = app_of(ctx)
        project = app_.project
        g = load_graph(project, project.resolve_feature(feature))
        sys.stdout.write(render_graph(g, fmt))
