"""`specflow graph [FEATURE] --format mermaid|dot|json`."""

from __future__ import annotations

from typing import Optional

import typer

from specflow.cli.commands._shared import feature_argument, feature_option, given_feature


def register(app: typer.Typer) -> None:
    @app.command()
    def graph(
        ctx: typer.Context,
        feature: Optional[str] = feature_argument(),
        feature_opt: Optional[str] = feature_option(),
        fmt: str = typer.Option("mermaid", "--format", "-f", help="mermaid, dot or json."),
    ) -> None:
        """Print the task graph with its critical path marked."""
        import sys

        from specflow.stages.graph import load_graph, render_graph

        app_, feat = given_feature(ctx, feature, feature_opt)
        g = load_graph(app_.project, feat)
        sys.stdout.write(render_graph(g, fmt))
