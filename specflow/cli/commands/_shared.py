"""Small helpers shared by command modules (output of stage outcomes)."""

from __future__ import annotations

from typing import Any

import typer

from specflow.cli.app import app_of


def report_outcome(app: Any, outcome: Any, verb: str) -> None:
    art = outcome.artifact
    rel = art.path.relative_to(app.project.root)
    if outcome.skipped:
        app.echo(f"{rel} is up to date (v{art.version}); use --force to regenerate")
        return
    cost = outcome.usage.cost_usd
    how = (
        f"updated v{outcome.updated_from} -> v{art.version}"
        if outcome.updated_from
        else f"v{art.version}"
    )
    app.echo(
        f"{verb} {rel} ({how}, {outcome.model}, "
        f"{outcome.usage.prompt_tokens}+{outcome.usage.completion_tokens} tokens, ${cost:.4f})"
    )


def raise_for_violations(outcome: Any) -> None:
    """A written plan that breaks the constitution fails the command (exit 1)."""
    if not getattr(outcome, "violations", None):
        return
    from specflow.errors import ConstitutionViolation

    first, more = outcome.violations[0], len(outcome.violations) - 1
    raise ConstitutionViolation(
        f"{first}{f' (and {more} more)' if more else ''}",
        "the plan is written; justify each failing gate in a '## Complexity Tracking' row "
        "naming it, or change the plan — 'specflow check' fails until then",
    )


def register_stage(app: Any, stage: str, doc: str) -> None:
    """`specflow plan` and `specflow tasks`: the same options, a different stage function."""

    def command(
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
        from specflow.stages import pipeline
        from specflow.stages.common import budgeted_model

        app_ = app_of(ctx)
        project = app_.project
        feat = project.resolve_feature(feature)
        llm = budgeted_model(project, feat, stage, model, max_cost)
        run = getattr(pipeline, stage)
        outcome = run(project, feat, force=force, model_override=model, model=llm)
        report_outcome(app_, outcome, "wrote")
        raise_for_violations(outcome)

    command.__doc__ = doc
    app.command(name=stage)(command)
