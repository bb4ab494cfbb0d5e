"""`specflow graph [FEATURE] --format mermaid|dot|json`."""

from __future__ import annotations

from typing import Optional

import typer

from specflow.cli.app import app_of
from specflow.cli.commands._shared import feature_option, one_feature


def register(app: typer.Typer) -> None:
    @app.command()
    def graph(
        ctx: typer.Context,
        feature: Optional[str] = typer.Argument(None, help="Feature folder, number or slug."),
        feature_opt: Optional[str] = feature_option(),
        fmt: str = typer.Option("mermaid", "--format", "-f", help="mermaid, dot or json."),
    ) -> None:
        """Print the task graph with its critical path marked."""
        feature = one_feature(feature, feature_opt)
        import sys

        from specflow.stages.graph import load_graph, render_graph

        app_ = app_of(ctx)
        project = app_.project
        g = load_graph(project, project.resolve_feature(feature))
        sys.stdout.write(render_graph(g, fmt))
