"""Small helpers shared by command modules (output of stage outcomes)."""

from __future__ import annotations

from typing import Any


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
