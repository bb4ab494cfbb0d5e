"""What command modules share: the FEATURE argument and --feature, the one feature resolved,
the report, stage and group shapes of commands, and how a stage's outcome is printed."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Optional

import typer

from specflow.cli.app import App, app_of

if TYPE_CHECKING:
    from specflow.project import Feature


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


def command_group(app: typer.Typer, name: str, help: str) -> typer.Typer:
    """`specflow NAME SUBCOMMAND …` (export, library, change); bare `specflow NAME` shows help."""
    group = typer.Typer(name=name, help=help, no_args_is_help=True)
    app.add_typer(group, name=name)
    return group


def register_stage(app: Any, stage: str, doc: str) -> None:
    """`specflow plan` and `specflow tasks`: the same options, a different stage function."""

    def command(
        ctx: typer.Context,
        feature: str = feature_argument(),
        feature_opt: str = feature_option(),
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

        app_, feat = given_feature(ctx, feature, feature_opt)
        llm = budgeted_model(app_.project, feat, stage, model, max_cost)
        run = getattr(pipeline, stage)
        outcome = run(app_.project, feat, force=force, model_override=model, model=llm)
        report_outcome(app_, outcome, "wrote")
        raise_for_violations(outcome)

    command.__doc__ = doc
    app.command(name=stage)(command)


def feature_argument(default_all: bool = False) -> Any:
    """FEATURE, the optional first argument of a command about a feature (or --feature);
    `default_all`: without it the command covers every feature."""
    more = " (default: all)" if default_all else ""
    return typer.Argument(None, help=f"Feature folder, number or slug{more}.")


def given_feature(
    ctx: typer.Context, positional: str | None, option: str | None
) -> tuple[App, Feature]:
    """The command's app and the feature given as the first argument or as --feature."""
    named = one_feature(positional, option)
    app_ = app_of(ctx)
    return app_, app_.project.resolve_feature(named)


def feature_option() -> Any:
    """`--feature/-F`: the feature, named the same way in every command (docs/cli.md)."""
    return typer.Option(None, "--feature", "-F", help="Feature folder, number or slug.")


def one_feature(positional: str | None, option: str | None) -> str | None:
    """The feature given as the first argument or as --feature, not both differently."""
    if positional and option and positional != option:
        from specflow.errors import InputError

        raise InputError(
            f"two features given: '{positional}' and --feature '{option}'", "give the feature once"
        )
    return positional or option


def features_with_spec(project: Any, feature: str | None) -> list[Any]:
    """The named feature, or every feature that has a spec.md."""
    if feature:
        return [project.resolve_feature(feature)]
    return [f for f in project.features() if f.artifact("spec").is_file()]


FeatureReport = Callable[[App, list["Feature"], bool], None]


def register_feature_report(
    app: typer.Typer, name: str, report: FeatureReport, *, spec_only: bool = False
) -> None:
    """`specflow NAME [FEATURE] [--json]` (cost, status, coverage): the named feature, or every
    feature (with `spec_only`, every one that has a spec.md), handed to `report` with the app
    and whether JSON was asked for. The command's help is `report`'s docstring."""

    def command(
        ctx: typer.Context,
        feature: Optional[str] = feature_argument(default_all=True),
        feature_opt: Optional[str] = feature_option(),
        json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
    ) -> None:
        named = one_feature(feature, feature_opt)
        app_ = app_of(ctx)
        project = app_.project
        if spec_only:
            feats = features_with_spec(project, named)
        else:
            feats = [project.resolve_feature(named)] if named else project.features()
        report(app_, feats, json_out)

    command.__doc__ = report.__doc__
    app.command(name=name)(command)
