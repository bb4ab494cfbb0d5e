"""`specflow tasks [FEATURE]`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def tasks(
        ctx: typer.Context,
        feature: str = typer.Argument(None, help="Feature folder, number or slug."),
        model: str = typer.Option(None, "--model", "-m", help="litellm model name for this stage."),
        force: bool = typer.Option(
            False, "--force", help="Regenerate even if up to date or edited by hand."
        ),
        max_cost: float = typer.Option(
            None, "--max-cost", min=0.0, help="Refuse to spend more than this (USD)."
        ),
    ) -> None:
        """Write tasks.md, the task graph, from spec.md and plan.md (updating the previous version if any)."""
        from specflow.cli.commands._shared import report_outcome
        from specflow.engine.budget import budgeted_model
        from specflow.stages import pipeline

        app_ = ctx.obj
        project = app_.project
        feat = project.resolve_feature(feature)
        llm = budgeted_model(project, feat, "tasks", model, max_cost)
        outcome = pipeline.tasks(project, feat, force=force, model_override=model, model=llm)
        report_outcome(app_, outcome, "wrote")
