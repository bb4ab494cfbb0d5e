"""`specflow coverage [FEATURE] [--json]`: requirement -> tasks -> commits and runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from specflow.cli.commands._shared import register_feature_report

if TYPE_CHECKING:
    from specflow.cli.app import App
    from specflow.project import Feature


def register(app: typer.Typer) -> None:
    register_feature_report(app, "coverage", coverage, spec_only=True)


def coverage(app_: App, feats: list[Feature], json_out: bool) -> None:
    """Per requirement: the tasks that cover it, their state, and the commits and runs that
    implemented them (from the Specflow-Task/-Feature/-Run commit trailers)."""
    from specflow.stages.coverage import feature_coverage, render_text

    if not feats:
        app_.echo("no features yet: specflow specify FEATURE.md")
        return
    results = [feature_coverage(app_.project, f) for f in feats]
    if json_out:
        app_.print_json({"features": [r.to_dict() for r in results]})
        return
    app_.echo("\n\n".join(render_text(r) for r in results))
