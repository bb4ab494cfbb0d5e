"""`specflow tasks [FEATURE]`."""

from __future__ import annotations

import typer

from specflow.cli.commands._shared import register_stage


def register(app: typer.Typer) -> None:
    register_stage(
        app,
        "tasks",
        "Write tasks.md, the task graph, from spec.md and plan.md "
        "(updating the previous version if any).",
    )
