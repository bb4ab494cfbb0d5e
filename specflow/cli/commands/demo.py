"""`specflow demo`: the whole pipeline on a bundled example, offline."""

from __future__ import annotations

from pathlib import Path

import typer

from specflow.cli.app import app_of


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        ctx: typer.Context,
        directory: Path = typer.Option(
            Path("demo-output"), "--dir", help="Where to build the demo project."
        ),
        parallel: int = typer.Option(4, "--parallel", "-p", help="Agents at once in implement."),
        no_implement: bool = typer.Option(False, "--no-implement", help="Stop after tasks."),
    ) -> None:
        """Run init -> specify -> clarify -> plan -> tasks -> implement on a bundled example, offline."""
        from specflow.project import Project
        from specflow.stages.demo import run_demo
        from specflow.stages.graph import load_graph, render_graph
        from specflow.stages.status import feature_status

        app_ = app_of(ctx)
        res = run_demo(directory, app_.echo, implement=not no_implement, parallel=parallel)
        project = Project.discover(res.root)
        assert project is not None
        feat = project.resolve_feature(res.feature)
        app_.echo("")
        app_.echo(f"--- {feat.name}/tasks.md (the task graph) ---")
        app_.echo(feat.artifact("tasks").read_text(encoding="utf-8").split("---\n", 2)[-1].strip())
        app_.echo("")
        app_.echo("--- specflow graph --format mermaid (critical path in bold arrows) ---")
        app_.echo(render_graph(load_graph(project, feat), "mermaid").rstrip())
        app_.echo("")
        app_.echo("--- specflow status ---")
        st = feature_status(project, feat)
        for a in st.artifacts:
            app_.echo(
                f"  {a.kind + '.md':10} v{a.version:<3} {a.state:12} {a.model or ''}  ${a.cost_usd:.4f}"
            )
        app_.echo(f"  tasks: {st.tasks_done}/{st.tasks_total} done")
        if res.tests_passed is not None:
            app_.echo(
                "example tests on the integration branch: "
                + ("passed" if res.tests_passed else "FAILED")
            )
        if res.tests_passed is not None:
            from specflow.observe.loading import open_run
            from specflow.observe.report import write_report

            opened = open_run(project, "last")
            out = project.state_dir / "reports" / f"{opened.trace.run_id}.html"
            write_report(opened, out)
            app_.echo(f"run report (open it in a browser): {out}")
        app_.echo(
            f"demo project: {res.root}\n  try: cd {directory} && specflow status, specflow cost, "
            "specflow trace last T005, specflow why T006, git log --stat specflow/<feature>"
        )
        if res.tests_passed is False:
            raise typer.Exit(1)
