"""`specflow review [FEATURE] [--branch B] [--json]`: the integration branch against the spec."""

from __future__ import annotations

from typing import Optional

import typer

from specflow.cli.app import app_of
from specflow.cli.commands._shared import feature_argument, feature_option, one_feature


def register(app: typer.Typer) -> None:
    @app.command()
    def review(
        ctx: typer.Context,
        feature: Optional[str] = feature_argument(),
        feature_opt: Optional[str] = feature_option(),
        branch: Optional[str] = typer.Option(
            None, "--branch", help="Branch to review (default: specflow/<feature>)."
        ),
        base: Optional[str] = typer.Option(
            None, "--base", help="Where the work starts (default: merge-base with the base)."
        ),
        model: Optional[str] = typer.Option(None, "--model", "-m", help="Reviewer model."),
        max_cost: Optional[float] = typer.Option(
            None, "--max-cost", min=0.0, help="Refuse to spend more than this (USD)."
        ),
        json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
    ) -> None:
        """Is every requirement met, partly met or missing? Exit 1 when any is missing."""
        feature = one_feature(feature, feature_opt)
        from specflow.review.branch import format_table, review_branch

        app_ = app_of(ctx)
        result = review_branch(
            app_.project, feature, branch=branch, base=base, model_override=model, max_cost=max_cost
        )
        if json_out:
            app_.print_json(result.to_dict())
        else:
            for line in format_table(result):
                app_.echo(line)
        if result.missing:
            raise typer.Exit(1)
