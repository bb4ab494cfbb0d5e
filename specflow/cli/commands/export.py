"""`specflow export github [FEATURE]`: tasks as GitHub issues, through the gh CLI."""

from __future__ import annotations

from typing import Optional

import typer

from specflow.cli.commands._shared import (
    command_group,
    feature_argument,
    feature_option,
    given_feature,
)


def register(app: typer.Typer) -> None:
    export_app = command_group(
        app, "export", "Send specflow artifacts to other tools: GitHub issues and pull requests."
    )

    @export_app.command("github")
    def github(
        ctx: typer.Context,
        feature: Optional[str] = feature_argument(),
        feature_opt: Optional[str] = feature_option(),
        dry_run: bool = typer.Option(
            False, "--dry-run", help="Print every gh call (argv as JSON lines), run nothing."
        ),
        repo: Optional[str] = typer.Option(
            None, "--repo", "-R", help="OWNER/NAME (default: the repository gh sees here)."
        ),
        json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """One issue per task, in dependency order, with labels and a task list of dependencies."""
        import re

        from specflow.errors import InputError
        from specflow.github.gh import argv_lines
        from specflow.github.issues import export_issues

        if repo is not None and not re.fullmatch(r"[\w.-]+/[\w.-]+", repo):
            raise InputError(f"--repo '{repo}' is not OWNER/NAME", "e.g. --repo acme/webapp")
        app_, feat = given_feature(ctx, feature, feature_opt)
        result = export_issues(app_.project, feat, repo=repo, dry_run=dry_run)
        if json_out:
            app_.print_json(result.to_dict())
            return
        if dry_run:
            if result.calls:
                app_.echo(argv_lines(result.calls))
            return
        for item in result.issues:
            if item.action in ("created", "updated", "closed"):
                app_.echo(f"{item.action} #{item.number} {item.task}")
        app_.echo(
            f"{feat.name}: {result.count('created')} created, {result.count('updated')} updated, "
            f"{result.count('unchanged')} unchanged, {result.count('closed')} closed "
            f"(record: {result.state_path})"
        )

    @export_app.command("pr")
    def pull_request(
        ctx: typer.Context,
        feature: Optional[str] = feature_argument(),
        feature_opt: Optional[str] = feature_option(),
        run: Optional[str] = typer.Option(
            None, "--run", help="Run record for the body (default: the newest)."
        ),
        base: Optional[str] = typer.Option(None, "--base", help="Target branch."),
        repo: Optional[str] = typer.Option(None, "--repo", "-R", help="OWNER/NAME."),
        draft: bool = typer.Option(False, "--draft", help="Open it as a draft."),
        dry_run: bool = typer.Option(
            False, "--dry-run", help="Print every call (argv as JSON lines), run nothing."
        ),
        json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """A pull request for the integration branch specflow/<feature> (what implement --pr does)."""
        from specflow.github.pr import load_run_record, open_pull_request

        app_, feat = given_feature(ctx, feature, feature_opt)
        project = app_.project
        record = load_run_record(project, feat, run)
        plan = open_pull_request(
            project, feat, record, dry_run=dry_run, base=base, repo=repo, draft=draft
        )
        if json_out:
            app_.print_json(plan.to_dict())
        elif dry_run:
            app_.echo(plan.dry_run_text())
        else:
            verb = "updated" if plan.updated else "opened"
            app_.echo(f"{verb} {plan.url or 'pull request'} ({plan.head} -> {plan.base})")
