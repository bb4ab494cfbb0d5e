"""`specflow implement [FEATURE] --parallel N --agent A`: run the task graph with N agents."""

from __future__ import annotations

import sys
from typing import Any, Optional

import typer

from specflow.cli.app import app_of
from specflow.cli.commands._shared import feature_option, one_feature


def register(app: typer.Typer) -> None:
    @app.command()
    def implement(
        ctx: typer.Context,
        feature: Optional[str] = typer.Argument(None, help="Feature folder, number or slug."),
        feature_opt: Optional[str] = feature_option(),
        parallel: Optional[int] = typer.Option(
            None, "--parallel", "-j", min=1, max=256, help="Agents at once (default: config)."
        ),
        agent: Optional[str] = typer.Option(
            None, "--agent", help="builtin, claude, codex, gemini, aider, cmd:<command> (config)."
        ),
        only: Optional[str] = typer.Option(None, "--only", help="Only these tasks: T003,T007."),
        change: Optional[str] = typer.Option(
            None,
            "--change",
            help="Only the tasks of this applied change (those covering its requirements).",
        ),
        from_phase: Optional[str] = typer.Option(
            None, "--from", help="Start at this phase (number or title)."
        ),
        dry_run: bool = typer.Option(False, "--dry-run", help="Print the waves, run nothing."),
        resume: bool = typer.Option(False, "--resume", help="Continue the last (or --run) run."),
        run_id: Optional[str] = typer.Option(None, "--run", help="The run to resume."),
        model: Optional[str] = typer.Option(None, "--model", "-m", help="Model for the agents."),
        json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
        tmux: bool = typer.Option(
            False, "--tmux", help="CLI agents: one tmux window per task (specflow attach T012)."
        ),
        max_cost: Optional[float] = typer.Option(
            None, "--max-cost", min=0.0, help="USD at most (agents + review); default: [budget]."
        ),
        wait_approval: bool = typer.Option(
            False,
            "--wait-approval",
            help="Keep running while tasks wait for 'specflow approve' (default: end, exit 1).",
        ),
        executor: Optional[str] = typer.Option(
            None,
            "--executor",
            help="Where agents run: local (default) or ray (extra specflow-sdd[ray]).",
        ),
        ray_address: Optional[str] = typer.Option(
            None, "--ray-address", help="Ray cluster address (default: [ray].address)."
        ),
        pr: bool = typer.Option(
            False,
            "--pr",
            help="Open a pull request for specflow/<feature> through gh (draft if a task failed).",
        ),
    ) -> None:
        """Run the feature's task graph: agents in worktrees, verified, merged in order."""
        feature = one_feature(feature, feature_opt)
        from specflow.stages.implement import ImplementOptions, plan_implement, run_implement

        app_obj = app_of(ctx)
        project = app_obj.project
        options = ImplementOptions(
            feature=feature,
            parallel=parallel,
            agent=agent,
            only=only.split(",") if only else None,
            change=change,
            from_phase=from_phase,
            resume=resume or run_id is not None,
            run_id=run_id,
            model=model,
            tmux=tmux,
            max_cost=max_cost,
            wait_approval=wait_approval,
            executor=executor,
            ray_address=ray_address,
        )
        if dry_run:
            _dry_run(app_obj, plan_implement(project, options), json_out=json_out, pr=pr)
            return

        _gh_first(pr)
        from specflow.observe.live import make_view

        tty = sys.stderr.isatty() and not app_obj.quiet
        view = make_view(app_obj.err_console, tty=tty, titles={})
        from specflow.errors import RunFailed

        try:
            with view:
                summary = run_implement(project, options, observer=None if app_obj.quiet else view)
        except RunFailed as err:
            failed = getattr(err, "summary", None)
            if json_out and failed is not None:
                app_obj.print_json(failed.to_json())
            if pr and failed is not None and failed.ran:
                _open_pr(app_obj, project, failed, draft=True)
            raise
        _echo_summary(app_obj, options, summary, json_out=json_out)
        if pr:
            _open_pr(app_obj, project, summary, draft=False)


def _echo_summary(app_obj: Any, options: Any, summary: Any, *, json_out: bool) -> None:
    if json_out:
        app_obj.print_json(summary.to_json())
    elif summary.ran == 0 and options.change:
        app_obj.echo(_change_done(app_obj.project, options))
    elif summary.ran == 0:
        app_obj.echo(f"nothing to do: every task of {summary.feature} is merged")
    else:
        app_obj.echo(
            f"run {summary.run_id}: all {summary.ran} tasks merged on specflow/{summary.feature}"
        )


def _change_done(project: Any, options: Any) -> str:
    """`--change NAME` with nothing left: its tasks, and where new ones come from."""
    from specflow.stages.implement import load

    ld = load(project, options)
    feature = ld.feature.short
    return (
        f"nothing to do: every task of change {options.change} is merged "
        f"({', '.join(sorted(ld.wanted or []))}); if tasks.md was not updated since the change "
        f"was applied, run 'specflow plan {feature}' and 'specflow tasks {feature}' first"
    )


def _dry_run(app_obj: Any, plan: Any, *, json_out: bool, pr: bool) -> None:
    """`--dry-run`: the waves that would run, the gates, the critical path (and the PR)."""
    if json_out:
        app_obj.print_json(plan.__dict__)
        return
    app_obj.echo(f"feature {plan.feature}: {sum(map(len, plan.waves))} tasks to run")
    if plan.done:
        app_obj.echo(f"already done: {', '.join(plan.done)}")
    if plan.skipped:
        app_obj.echo(f"not selected: {', '.join(plan.skipped)}")
    for i, wave in enumerate(plan.waves, 1):
        app_obj.echo(f"wave {i}: " + ", ".join(wave))
        for t in wave:
            gate = f"  [{plan.gates[t]}]" if t in plan.gates else ""
            app_obj.echo(f"  {t}  {plan.titles[t]}{gate}")
    if plan.critical_path:
        app_obj.echo("critical path: " + " -> ".join(plan.critical_path))
    if pr:
        from specflow.github.pr import pull_request_after_run

        app_obj.echo("pull request (dry run), the gh calls:")
        app_obj.echo(
            pull_request_after_run(app_obj.project, plan.feature, None, dry_run=True).dry_run_text()
        )


def _open_pr(app_obj: Any, project: Any, summary: Any, *, draft: bool) -> None:
    """A pull request for the integration branch, its body built from spec, tasks and run."""
    from specflow.github.pr import pull_request_after_run

    plan = pull_request_after_run(
        project, summary.feature, summary.run_id, dry_run=False, draft=draft
    )
    app_obj.echo(
        f"pull request: {plan.url}" + (" (draft: some tasks did not land)" if draft else "")
    )


def _gh_first(pr: bool) -> None:
    """`--pr` needs gh: checked before anything is created, not after the whole graph ran."""
    if pr:
        from specflow.github.gh import require_gh

        require_gh()
