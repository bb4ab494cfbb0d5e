"""`specflow status [FEATURE] [--json]`: must stay fast — no model layer, no rich."""

from __future__ import annotations

import typer

from specflow.cli.app import app_of


def register(app: typer.Typer) -> None:
    @app.command()
    def status(
        ctx: typer.Context,
        feature: str = typer.Argument(None, help="Feature folder, number or slug (default: all)."),
        json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
    ) -> None:
        """Pipeline state: each artifact's version and freshness, task progress."""
        from specflow.stages.status import project_status

        app_ = app_of(ctx)
        project = app_.project
        feats = [project.resolve_feature(feature)] if feature else project.features()
        statuses = project_status(project, feats)
        from specflow.engine.approvals import awaiting_approval

        waiting = {f.name: sorted(awaiting_approval(project.state_dir, f.name)) for f in feats}
        if json_out:
            out = [{**s.to_dict(), "awaiting_approval": waiting[s.feature]} for s in statuses]
            app_.print_json({"features": out})
            return
        if not statuses:
            app_.echo("no features yet: specflow specify FEATURE.md")
            return
        for s in statuses:
            progress = f"{s.tasks_done}/{s.tasks_total} tasks done" if s.tasks_total else "no tasks"
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
