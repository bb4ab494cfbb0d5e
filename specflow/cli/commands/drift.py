"""`specflow drift [FEATURE] [--json | --format github]`: code or spec moved since implement."""

from __future__ import annotations

from typing import Optional

import typer

from specflow.cli.commands._shared import feature_argument, feature_option, one_feature


def register(app: typer.Typer) -> None:
    @app.command()
    def drift(
        ctx: typer.Context,
        feature: Optional[str] = feature_argument(default_all=True),
        feature_opt: Optional[str] = feature_option(),
        json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
        fmt: str = typer.Option(
            "text", "--format", "-f", help="text, json or github (annotations)."
        ),
    ) -> None:
        """Per requirement: the commits and files that implemented it, later commits that changed
        those files without a task of this feature, and whether its text changed since. No model
        (`check --drift` fails CI on drift)."""
        feature = one_feature(feature, feature_opt)
        from specflow.cli.check_report import render_problems
        from specflow.cli.commands._shared import features_with_spec
        from specflow.cli.commands.check import _repo_prefix
        from specflow.errors import InputError
        from specflow.stages.drift import drift_problems, feature_drift, render_text

        app_ = ctx.obj
        project = app_.project
        fmt = "json" if json_out else fmt
        if fmt not in ("text", "json", "github"):
            raise InputError(f"unknown format '{fmt}'", "use text, json or github")
        feats = features_with_spec(project, feature)
        if not feats:
            app_.echo("no features yet: specflow specify FEATURE.md")
            return
        results = [(f, feature_drift(project, f)) for f in feats]
        if fmt == "json":
            app_.print_json({"features": [fd.to_dict() for _, fd in results]})
        elif fmt == "github":
            problems = [p for f, fd in results for p in drift_problems(project, f, fd)]
            text = render_problems(problems, len(feats), fmt, _repo_prefix(project.root))
            if text:
                app_.echo(text.rstrip("\n"))
        else:
            app_.echo("\n\n".join(render_text(fd) for _, fd in results))
