"""`specflow specify FEATURE.md | - | "description"`."""

from __future__ import annotations

import typer

from specflow.cli.app import app_of


def register(app: typer.Typer) -> None:
    @app.command()
    def specify(
        ctx: typer.Context,
        source: str = typer.Argument(
            None, help="A Markdown file, '-' for stdin, or a quoted description."
        ),
        model: str = typer.Option(None, "--model", "-m", help="litellm model name for this stage."),
        regenerate: str = typer.Option(
            None, "--regenerate", help="Regenerate spec.md of this FEATURE from its feature.md."
        ),
        force: bool = typer.Option(False, "--force", help="Replace a hand-edited spec.md."),
        from_library: str = typer.Option(
            None, "--from", help="Start from a shared library's feature: NAME/feature."
        ),
        max_cost: float = typer.Option(
            None, "--max-cost", min=0.0, help="Refuse to spend more than this (USD)."
        ),
    ) -> None:
        """Create a feature folder specs/NNN-slug/ with feature.md and a generated spec.md."""
        import sys
        from pathlib import Path

        from specflow.cli.commands._shared import report_outcome
        from specflow.errors import InputError
        from specflow.fsutil import read_text_input
        from specflow.stages import pipeline
        from specflow.stages.common import budgeted_model

        app_ = app_of(ctx)
        project = app_.project
        if regenerate:
            feature = project.resolve_feature(regenerate)
            llm = budgeted_model(project, feature, "specify", model, max_cost)
            outcome = pipeline.respecify(
                project, feature, force=force, model_override=model, model=llm
            )
            report_outcome(app_, outcome, "wrote")
            return
        if from_library:
            if source is not None:
                raise InputError(
                    "pass either FEATURE or --from, not both",
                    "edit the feature after it is created",
                )
            from specflow.stages.from_library import library_feature

            lib = library_feature(project, from_library)
            label = f"{lib.library}/{lib.path}/feature.md"
            outcome = pipeline.specify(
                project, lib.feature_text, source=label, model_override=model, from_library=lib
            )
            rel = outcome.artifact.path.relative_to(project.root)
            if lib.spec_body is not None:
                app_.echo(f"wrote {rel} (v1, copied from library {lib.library} {lib.path}/spec.md)")
            else:
                report_outcome(app_, outcome, "wrote")
            return
        if source is None:
            raise InputError(
                "missing FEATURE", "pass a Markdown file, '-' for stdin, or a quoted description"
            )
        if source == "-":
            data = sys.stdin.buffer.read()
            if b"\x00" in data:
                raise InputError("stdin looks like binary data", "pipe a UTF-8 Markdown file")
            try:
                text, label = data.decode("utf-8"), "stdin"
            except UnicodeDecodeError:
                raise InputError("stdin is not valid UTF-8", "pipe a UTF-8 file") from None
        elif Path(source).is_file() or Path(source).suffix.lower() in (".md", ".txt", ".markdown"):
            text, label = read_text_input(Path(source)), source
        else:
            text, label = source, "description"
        llm = budgeted_model(project, None, "specify", model, max_cost)
        outcome = pipeline.specify(project, text, source=label, model_override=model, model=llm)
        report_outcome(app_, outcome, "wrote")
        from specflow.formats.spec_md import parse_spec

        questions = parse_spec(outcome.artifact.body).open_questions()
        if questions:
            app_.echo(
                f"{len(questions)} open question(s): run 'specflow clarify {outcome.feature.number}'"
            )
