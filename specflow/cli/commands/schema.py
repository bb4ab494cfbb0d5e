"""`specflow schema NAME`: print the JSON Schema of an artifact."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def schema(
        name: str = typer.Argument(..., help="spec, plan or tasks"),
    ) -> None:
        """Print the JSON Schema of an artifact (spec, plan, tasks)."""
        import sys

        from specflow.schemas import schema_text

        sys.stdout.write(schema_text(name))
