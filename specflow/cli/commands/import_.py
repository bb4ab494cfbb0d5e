"""`specflow import SOURCE [--format F] [--dry-run] [--json]`: other tools' specs in."""

from __future__ import annotations

import typer

from specflow.cli.app import app_of


def register(app: typer.Typer) -> None:
    @app.command("import")
    def import_(
        ctx: typer.Context,
        source: str = typer.Argument(..., help="A project folder, or the tool's own folder/file."),
        fmt: str = typer.Option(
            None,
            "--format",
            "-f",
            help="speckit, kiro, openspec or taskmaster (default: detected).",
        ),
        dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be written."),
        json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
    ) -> None:
        """Turn Spec Kit, Kiro, OpenSpec or Task Master specs into specflow features."""
        from pathlib import Path

        from specflow.importers import run_import

        app_ = app_of(ctx)
        result = run_import(app_.project, Path(source), fmt, dry_run=dry_run)
        if json_out:
            app_.print_json(result.to_dict())
            return
        verb = "would import" if dry_run else "imported"
        app_.echo(f"{verb} {len(result.features)} feature(s) from {result.format}:")
        for f in result.features:
            tasks = f.tasks or []
            done = sum(1 for t in tasks if t.done)
            counts = [f"{len(tasks)} tasks ({done} done)" if tasks else "no tasks"]
            if f.requirements:
                counts.append(f"{f.requirements} requirements")
            app_.echo(f"  {f.folder}  <- {f.source}  ({', '.join(counts)})")
            for name in f.changes:
                app_.echo(f"    change {name}: {f.folder}/changes/{name}/ (specflow change apply)")
            for w in f.warnings:
                app_.echo(f"    warning: {w}")
        for f in result.additions:
            for name in f.changes:
                app_.echo(f"  {f.folder}/changes/{name}/  (a change to this existing feature)")
            for w in f.warnings:
                app_.echo(f"    warning: {w}")
        if result.constitution_source:
            state = "written" if result.constitution_written else "would be written"
            app_.echo(f"  specs/constitution.md <- {result.constitution_source} ({state})")
        for note in result.notes:
            app_.echo(f"  note: {note}")
