"""`specflow cost [FEATURE] [--json]`."""

from __future__ import annotations

from typing import Any, Optional

import typer

from specflow.cli.app import app_of
from specflow.cli.commands._shared import feature_option, one_feature


def register(app: typer.Typer) -> None:
    @app.command()
    def cost(
        ctx: typer.Context,
        feature: Optional[str] = typer.Argument(
            None, help="Feature folder, number or slug (default: all)."
        ),
        feature_opt: Optional[str] = feature_option(),
        json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
    ) -> None:
        """Spend per stage, task, model and agent, with tokens, from artifacts and run records."""
        feature = one_feature(feature, feature_opt)
        from specflow.stages.cost import cost_report

        app_ = app_of(ctx)
        project = app_.project
        feats = [project.resolve_feature(feature)] if feature else project.features()
        rep = cost_report(project, feats)
        if json_out:
            app_.print_json(rep.to_dict())
            return
        data = rep.to_dict()
        for title, key in (
            ("stage", "by_stage"),
            ("model", "by_model"),
            ("agent", "by_agent"),
            ("task", "by_task"),
            ("run", "by_run"),
        ):
            rows = data[key]
            if not rows:
                continue
            app_.echo(
                f"{'by ' + title:40} {'prompt':>10} {'cached':>10} {'completion':>10} {'cost':>10}"
            )
            for name, u in rows.items():
                app_.echo(_row(f"  {name:38}", u))
            app_.echo("")
        app_.echo(_row(f"{'total':40}", data["total"]))
        for branch, runs in data["unmerged_runs"].items():
            app_.echo(
                f"includes {len(runs)} run(s) recorded on {branch} only, not merged here yet: "
                + ", ".join(runs)
            )


def _row(label: str, u: dict[str, Any]) -> str:
    return (
        f"{label} {u['prompt_tokens']:>10} {u['cached_tokens']:>10} {u['completion_tokens']:>10} "
        f"${u['cost_usd']:>9.4f}"
    )
