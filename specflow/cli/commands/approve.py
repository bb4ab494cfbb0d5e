"""`specflow approve TASK… [--feature F]`: a person's approval for tasks the trust policy holds."""

from __future__ import annotations

from typing import Optional

import typer

from specflow.cli.app import app_of


def register(app: typer.Typer) -> None:
    @app.command()
    def approve(
        ctx: typer.Context,
        tasks: list[str] = typer.Argument(
            ..., help="Task ids (T012), then optionally the feature."
        ),
        feature: Optional[str] = typer.Option(None, "--feature", "-f", help="Feature folder."),
        json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
    ) -> None:
        """Approve tasks waiting for a person; a running `implement` merges them, otherwise
        `specflow implement FEATURE --resume` does."""
        from specflow.stages.approve import approve_tasks

        app_ = app_of(ctx)
        ids = [t for t in tasks if t.upper().startswith("T") and t[1:2].isdigit()]
        rest = [t for t in tasks if t not in ids]
        feat = feature or (rest[0] if rest else None)
        result = approve_tasks(app_.project, feat, ids)
        if json_out:
            app_.print_json(result.to_dict())
            return
        for a in result.approved:
            app_.echo(f"approved {a['task']} ({str(a['commit'])[:10]}): {a['stat']}")
        if result.running:
            app_.echo(f"run {result.running} is live: it merges the approved work now")
        else:
            app_.echo(f"to merge: specflow implement {result.feature} --resume")
