"""`specflow cost [FEATURE] [--json]`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from specflow.cli.commands._shared import register_feature_report

if TYPE_CHECKING:
    from specflow.cli.app import App
    from specflow.project import Feature


def register(app: typer.Typer) -> None:
    register_feature_report(app, "cost", cost)


def cost(app_: App, feats: list[Feature], json_out: bool) -> None:
    """Spend per stage, task, model and agent, with tokens, from artifacts and run records."""
    from specflow.stages.cost import cost_report

    rep = cost_report(app_.project, feats)
    if json_out:
        app_.print_json(rep.to_dict())
        return
    data = rep.to_dict()
    for title, key in (
        ("stage", "by_stage"),
        ("model", "by_model"),
        ("agent", "by_agent"),
        ("task", "by_task"),
        ("run", "by_run"),
    ):
        rows = data[key]
        if not rows:
            continue
        app_.echo(
            f"{'by ' + title:40} {'prompt':>10} {'cached':>10} {'completion':>10} {'cost':>10}"
        )
        for name, u in rows.items():
            app_.echo(_row(f"  {name:38}", u))
        app_.echo("")
    app_.echo(_row(f"{'total':40}", data["total"]))
    for branch, runs in data["unmerged_runs"].items():
        app_.echo(
            f"includes {len(runs)} run(s) recorded on {branch} only, not merged here yet: "
            + ", ".join(runs)
        )


def _row(label: str, u: dict[str, Any]) -> str:
    return (
        f"{label} {u['prompt_tokens']:>10} {u['cached_tokens']:>10} {u['completion_tokens']:>10} "
        f"${u['cost_usd']:>9.4f}"
    )
