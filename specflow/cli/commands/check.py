"""`specflow check`: the CI gate."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from specflow.cli.app import app_of

if TYPE_CHECKING:
    from pathlib import Path


def register(app: typer.Typer) -> None:
    @app.command()
    def check(
        ctx: typer.Context,
        strict: bool = typer.Option(
            False,
            "--strict",
            help="Open clarifications are problems too; coverage warnings become errors.",
        ),
        fmt: str = typer.Option(
            "text", "--format", "-f", help="text, json or github (annotations)."
        ),
        report: str = typer.Option(
            None, "--report", help="Also write a JUnit XML report to this file."
        ),
        drift: bool = typer.Option(
            False, "--drift", help="Code or spec moved since implementation is an error too."
        ),
    ) -> None:
        """Exit 1 if specs don't parse, artifacts are stale, the graph has cycles, a plan violates the constitution, or requirements are uncovered."""
        from specflow.cli.check_report import render_problems, write_junit
        from specflow.errors import InputError
        from specflow.stages.check import check_project, failed

        app_ = app_of(ctx)
        if fmt not in ("text", "json", "github"):
            raise InputError(f"unknown format '{fmt}'", "use text, json or github")
        problems, count = check_project(app_.project, strict=strict, drift=drift)
        prefix = _repo_prefix(app_.project.root) if fmt == "github" else ""
        text = render_problems(problems, count, fmt, prefix)
        if text:
            app_.echo(text.rstrip("\n"))
        if report:
            write_junit(problems, count, report)
        if failed(problems):  # warnings (lint, coverage) do not fail
            raise typer.Exit(1)


def _repo_prefix(root: Path) -> str:
    """The project's folder relative to the git repository root, e.g. `services/api/`."""
    from specflow.project import git_toplevel

    top = git_toplevel(root)
    if top is None:
        return ""
    try:
        rel = root.resolve().relative_to(top.resolve())
    except ValueError:
        return ""
    return "" if str(rel) == "." else rel.as_posix() + "/"
