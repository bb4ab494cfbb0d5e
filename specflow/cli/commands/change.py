"""`specflow change new NAME [FEATURE]` / `specflow change apply NAME [FEATURE]`."""

from __future__ import annotations

from typing import Optional

import typer

from specflow.cli.commands._shared import (
    command_group,
    feature_argument,
    feature_option,
    given_feature,
)


def register(app: typer.Typer) -> None:
    change = command_group(
        app,
        "change",
        "Change proposals: delta requirements with base hashes, applied without a model.",
    )

    @change.command("new")
    def new(
        ctx: typer.Context,
        name: str = typer.Argument(..., help="The change's name: lowercase, digits and '-'."),
        feature: Optional[str] = feature_argument(),
        feature_opt: Optional[str] = feature_option(),
        modify: list[str] = typer.Option(
            None, "--modify", help="A requirement to change (repeatable); its base is recorded."
        ),
        remove: list[str] = typer.Option(
            None, "--remove", help="A requirement to remove (repeatable); its base is recorded."
        ),
        rename: list[str] = typer.Option(
            None, "--rename", help="OLD=NEW: give a requirement a new id (repeatable)."
        ),
        why: str = typer.Option("", "--why", help="Why the change: goes into proposal.md."),
    ) -> None:
        """Create specs/<feature>/changes/NAME/ with proposal.md and deltas.md."""
        from specflow.errors import InputError
        from specflow.stages.change import new_change
        from specflow.stages.status import rel_path as rel

        app_, feat = given_feature(ctx, feature, feature_opt)
        project = app_.project
        renames = dict(r.partition("=")[::2] for r in rename or [])
        if any(not old or not new for old, new in renames.items()):
            raise InputError("--rename takes OLD=NEW", "e.g. --rename FR-003=FR-010")
        folder = new_change(
            project, feat, name, why=why, modify=modify, remove=remove, rename=renames
        )
        app_.echo(f"wrote {rel(project, folder)}/ (edit deltas.md, then 'specflow change apply')")

    @change.command("apply")
    def apply(
        ctx: typer.Context,
        name: str = typer.Argument(..., help="The change to apply."),
        feature: Optional[str] = feature_argument(),
        feature_opt: Optional[str] = feature_option(),
    ) -> None:
        """Merge the change's deltas into spec.md (refused when a base hash moved) and archive
        the change. No model: run 'specflow plan' and 'specflow tasks' after it."""
        from specflow.stages.change import apply_change
        from specflow.stages.status import rel_path as rel

        app_, feat = given_feature(ctx, feature, feature_opt)
        project = app_.project
        spec, archived = apply_change(project, feat, name)
        app_.echo(
            f"applied {name} to {rel(project, spec)}; archived in {rel(project, archived)}/ "
            f"(next: specflow plan {feat.number})"
        )
