"""`specflow plan [FEATURE]`."""

from __future__ import annotations

import typer

from specflow.cli.commands._shared import register_stage


def register(app: typer.Typer) -> None:
    register_stage(
        app,
        "plan",
        "Write plan.md (how to build it) from spec.md, the constitution and the repository "
        "(updating the previous version if any).",
    )
