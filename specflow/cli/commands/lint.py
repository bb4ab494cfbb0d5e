"""`specflow lint [TARGET…]`: deterministic rules over spec.md (docs/lint.md)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def lint(
        ctx: typer.Context,
        targets: list[str] = typer.Argument(
            None, help="spec.md files, folders, or features (number, slug); default: all."
        ),
        fmt: str = typer.Option(
            "text", "--format", "-f", help="text, json, github (annotations) or sarif."
        ),
        as_json: bool = typer.Option(False, "--json", help="Same as --format json."),
        output: str = typer.Option(None, "--output", "-o", help="Write the report to a file."),
        strict: bool = typer.Option(False, "--strict", help="Warnings fail too (exit 1)."),
        rules: bool = typer.Option(False, "--rules", help="List the rules and exit."),
    ) -> None:
        """Check specs for vague words, untestable requirements, conflicts and open questions.

        Exit 1 when a finding is an error (or any warning with --strict), 2 on bad input.
        """
        from pathlib import Path

        from specflow.errors import InputError
        from specflow.lint.output import FORMATS, render
        from specflow.lint.rules import RULES
        from specflow.lint.run import lint_targets, resolve_targets, settings_for
        from specflow.project import Project

        app_ = ctx.obj
        fmt = "json" if as_json else fmt
        if fmt not in FORMATS:
            raise InputError(f"unknown format '{fmt}'", f"use {', '.join(FORMATS)}")
        if rules:
            for r in RULES.values():
                app_.echo(f"{r.id:26} {r.severity:8} {r.summary}")
            return
        project = Project.discover(app_.cwd)
        settings = settings_for(project)
        found = resolve_targets(project, list(targets or []), app_.cwd)
        base = app_.cwd
        if fmt in ("github", "sarif"):  # code hosts resolve paths from the repository root
            from specflow.project import git_toplevel

            base = git_toplevel(app_.cwd) or app_.cwd
        findings = lint_targets(found, settings, base)
        text = render(findings, len(found), fmt)
        if output:
            from specflow.fsutil import atomic_write_text

            atomic_write_text(Path(output), text + "\n")
            from specflow.lint.output import summary

            app_.echo(f"{summary(findings, len(found))} (report in {output})")
        elif fmt == "text":
            app_.echo(text)
        else:
            import sys

            sys.stdout.write(text + "\n")
        fails = {"error", "warning"} if strict else {"error"}
        if any(f.severity in fails for f in findings):
            raise typer.Exit(1)
