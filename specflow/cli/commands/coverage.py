"""`specflow coverage [FEATURE] [--json]`: requirement -> tasks -> commits and runs."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def coverage(
        ctx: typer.Context,
        feature: str = typer.Argument(None, help="Feature folder, number or slug (default: all)."),
        json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
    ) -> None:
        """Per requirement: the tasks that cover it, their state, and the commits and runs that
        implemented them (from the Specflow-Task/-Feature/-Run commit trailers)."""
        from specflow.stages.coverage import feature_coverage, render_text

        app_ = ctx.obj
        project = app_.project
        if feature:
            feats = [project.resolve_feature(feature)]
        else:  # every feature that has a spec
            feats = [f for f in project.features() if f.artifact("spec").is_file()]
        if not feats:
            app_.echo("no features yet: specflow specify FEATURE.md")
            return
        results = [feature_coverage(project, f) for f in feats]
        if json_out:
            app_.print_json({"features": [r.to_dict() for r in results]})
            return
        app_.echo("\n\n".join(render_text(r) for r in results))
