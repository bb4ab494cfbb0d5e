"""`specflow status [FEATURE] [--json]`: must stay fast — no model layer, no rich."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import typer

from specflow.cli.commands._shared import register_feature_report

if TYPE_CHECKING:
    from specflow.cli.app import App
    from specflow.project import Feature


def register(app: typer.Typer) -> None:
    register_feature_report(app, "status", status)


def status(app_: App, feats: list[Feature], json_out: bool) -> None:
    """Pipeline state: each artifact's version and freshness, task progress."""
    from specflow.stages.status import branch_progress, project_status
    from specflow.workspace.branches import current_branch

    project = app_.project
    statuses = project_status(project, feats)
    from specflow.engine.approvals import awaiting_approval

    waiting = {f.name: sorted(awaiting_approval(project.state_dir, f.name)) for f in feats}
    branches = branch_progress(project, feats)
    if json_out:
        out = [
            {
                **s.to_dict(),
                "awaiting_approval": waiting[s.feature],
                "integration": b.to_dict() if (b := branches.get(s.feature)) else None,
            }
            for s in statuses
        ]
        app_.print_json({"features": out})
        _fail_if_unreadable(statuses)
        return
    if not statuses:
        app_.echo("no features yet: specflow specify FEATURE.md")
        return
    behind = any(not b.in_checkout for b in branches.values())
    here = (current_branch(project.root) if behind else None) or "this checkout"
    for s in statuses:
        progress = f"{s.tasks_done}/{s.tasks_total} tasks done" if s.tasks_total else "no tasks"
        b = branches.get(s.feature)
        if b is not None and not b.in_checkout and b.tasks_total:
            progress += (
                f" here; {b.tasks_done}/{b.tasks_total} merged on {b.branch}, not yet in {here}"
            )
        extra = f", {s.open_questions} open question(s)" if s.open_questions else ""
        app_.echo(f"{s.feature}  ({progress}{extra})")
        for a in s.artifacts:
            if a.state == "missing":
                app_.echo(f"  {a.kind + '.md':10} -")
                continue
            why = f" ({', '.join(a.changed_inputs)} changed)" if a.changed_inputs else ""
            model = f"  {a.model}" if a.model else ""
            cost = f"  ${a.cost_usd:.4f}" if a.cost_usd else ""
            state = f"{a.state}, violates the constitution" if a.violations else a.state
            app_.echo(f"  {a.kind + '.md':10} v{a.version:<3} {state}{why}{model}{cost}")
            for v in a.violations:
                app_.echo(f"  {'':10} {v}")
        if s.error:
            app_.echo(f"  problem: {s.error}")
        if waiting.get(s.feature):
            ids = " ".join(waiting[s.feature])
            app_.echo(f"  awaiting approval: {ids} (specflow approve TASK {s.feature})")
    _fail_if_unreadable(statuses)


def _fail_if_unreadable(statuses: list[Any]) -> None:
    """Status cannot vouch for a feature it could not read: say so on stderr, exit 1."""
    broken = [s.error for s in statuses if s.error]
    if broken:
        more = f"; {len(broken) - 1} more" if len(broken) > 1 else ""
        sys.stderr.write(f"error: {broken[0]} (run 'specflow check' for every problem{more})\n")
        raise typer.Exit(1)
