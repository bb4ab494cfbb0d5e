"""`specflow replay RUN [TASK]`: re-run recorded builtin-agent attempts offline, compare."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from specflow.cli.app import app_of


def register(app: typer.Typer) -> None:
    @app.command()
    def replay(
        ctx: typer.Context,
        run: str = typer.Argument(..., help="Run id or prefix, or 'last'."),
        task: Optional[str] = typer.Argument(None, help="One task (default: every builtin task)."),
        attempt: Optional[int] = typer.Option(None, "--attempt", help="Which attempt (last)."),
        template_dir: Optional[Path] = typer.Option(
            None, "--template-dir", help="Prompt templates to try instead of the project's."
        ),
        keep: bool = typer.Option(False, "--keep", help="Keep the replay's worktree."),
        json_out: bool = typer.Option(False, "--json", help="As JSON."),
    ) -> None:
        """Same model answers, same starting commit: does the agent produce the same tree?"""
        from specflow.errors import RunFailed
        from specflow.observe.loading import open_run
        from specflow.observe.rerun import replay_tasks

        app_obj = app_of(ctx)
        opened = open_run(app_obj.project, run)
        results = replay_tasks(opened, task, attempt=attempt, template_dir=template_dir, keep=keep)
        if json_out:
            app_obj.print_json([r.to_dict() for r in results])
        else:
            for r in results:
                verdict = {True: "MATCHES", False: "DIFFERS", None: "nothing to compare"}[r.matches]
                want = (r.expected_commit or "")[:10] or f"(recorded: {r.recorded_reason})"
                app_obj.echo(
                    f"{r.task} attempt {r.attempt}: {verdict} {want}; replayed from "
                    f"{(r.base or '?')[:10]}, {r.calls}/{r.answers} recorded answers used, "
                    f"{r.steps} steps, agent {'ok' if r.ok else 'failed: ' + str(r.reason)}"
                )
                app_obj.echo(f"  answers from {r.source}; recording {r.recording}")
                if r.differences:
                    app_obj.echo("  tree differences (recorded -> replayed):")
                    for line in r.differences.rstrip().splitlines():
                        app_obj.echo("    " + line)
                if r.prompt_diff:
                    app_obj.echo("  prompt diff (recorded -> replayed):")
                    for line in r.prompt_diff.rstrip().splitlines():
                        app_obj.echo("    " + line)
                elif template_dir is not None:
                    app_obj.echo("  prompts identical")
                if r.workdir:
                    app_obj.echo(f"  worktree kept at {r.workdir}")
        if any(r.matches is False for r in results):
            raise RunFailed(
                "replay did not reproduce the recorded result", "see the differences above"
            )
