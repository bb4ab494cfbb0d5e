"""`specflow drift [FEATURE] [--json | --format github]`: code or spec moved since implement."""

from __future__ import annotations

from typing import Any, Optional

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
        explain: bool = typer.Option(
            False,
            "--explain",
            help="Ask a model whether each finding contradicts its requirement (an opinion).",
        ),
        model: Optional[str] = typer.Option(
            None, "--model", "-m", help="With --explain: the model (default: the review model)."
        ),
        max_cost: Optional[float] = typer.Option(
            None, "--max-cost", min=0.0, help="With --explain: spend at most this (USD)."
        ),
    ) -> None:
        """Per requirement: the commits and files that implemented it, later commits that changed
        those files without a task of this feature, and whether its text changed since. No model
        unless --explain, whose answer is labelled a model's opinion (`check --drift` fails CI
        on drift)."""
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
        if fmt == "github" and explain:
            raise InputError("--explain gives text or json, not annotations", "drop --format")
        if not explain and (model or max_cost is not None):
            raise InputError("--model and --max-cost go with --explain", "add --explain")
        feats = features_with_spec(project, feature)
        if not feats:
            app_.echo("no features yet: specflow specify FEATURE.md")
            return
        results = [(f, feature_drift(project, f)) for f in feats]
        opinions = _explain(project, results, model, max_cost) if explain else {}
        if fmt == "json":
            app_.print_json(
                {
                    "features": [
                        {**fd.to_dict(), **_opinion_json(opinions, fd.feature, explain)}
                        for _, fd in results
                    ]
                }
            )
        elif fmt == "github":
            problems = [p for f, fd in results for p in drift_problems(project, f, fd)]
            text = render_problems(problems, len(feats), fmt, _repo_prefix(project.root))
            if text:
                app_.echo(text.rstrip("\n"))
        else:
            app_.echo(
                "\n\n".join(
                    "\n".join([render_text(fd), *opinions.get(fd.feature, {}).get("text", [])])
                    for _, fd in results
                )
            )


def _opinion_json(opinions: dict[str, Any], feature: str, explain: bool) -> dict[str, Any]:
    """`explain`: the opinion, or None for a feature without findings; absent without it."""
    return {"explain": opinions.get(feature, {}).get("explain")} if explain else {}


def _explain(
    project: Any, results: list[Any], model: str | None, max_cost: float | None
) -> dict[str, dict[str, Any]]:
    """Per feature with findings: {"explain": the opinion as JSON, "text": its lines}."""
    from specflow.stages.drift_explain import explain_drift, render_opinion

    out: dict[str, dict[str, Any]] = {}
    for feature, fd in results:
        ex = explain_drift(project, feature, fd, model_override=model, max_cost=max_cost)
        if ex is not None:
            out[fd.feature] = {"explain": ex.to_dict(), "text": [render_opinion(ex)]}
        else:
            out[fd.feature] = {"text": ["model's opinion: no finding to judge, no model asked"]}
    return out
