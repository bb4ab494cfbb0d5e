"""`specflow describe PATH…`: a spec of existing code's current behaviour."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def describe(
        ctx: typer.Context,
        paths: list[str] = typer.Argument(None, help="Files or folders to describe."),
        model: str = typer.Option(None, "--model", "-m", help="litellm model name for this stage."),
        budget: int = typer.Option(
            6000, "--budget", min=500, help="Tokens of code per model call (chunk size)."
        ),
        max_cost: float = typer.Option(
            None, "--max-cost", min=0.0, help="Refuse to spend more than this (USD)."
        ),
    ) -> None:
        """Write specs/NNN-slug/spec.md describing what the named code does today."""
        from specflow.stages.common import budgeted_model
        from specflow.stages.describe import describe as run

        app_ = ctx.obj
        project = app_.project
        llm = budgeted_model(project, None, "specify", model, max_cost)
        done = run(
            project,
            list(paths or []),
            cwd=app_.cwd,
            budget_tokens=budget,
            model_override=model,
            model=llm,
        )
        rel = done.feature.artifact("spec").relative_to(project.root)
        u = done.usage
        app_.echo(
            f"wrote {rel} ({done.kept} observed requirement(s) from {len(done.files)} file(s) "
            f"in {done.chunks} call(s), {done.model}, "
            f"{u.prompt_tokens}+{u.completion_tokens} tokens, ${u.cost_usd:.4f})"
        )
        if done.dropped:
            app_.echo(
                f"dropped {len(done.dropped)} naming files not read: {', '.join(done.dropped)}"
            )
        if done.unverified:
            app_.echo(
                f"{len(done.unverified)} name a symbol not found in their file (marked as open "
                f"questions): {', '.join(done.unverified)}"
            )
