"""`specflow specify FEATURE.md | - | "description"`."""

from __future__ import annotations

from typing import Any, Optional

import typer

from specflow.cli.app import app_of
from specflow.cli.commands._shared import feature_option, one_feature

UPDATE_HELP = (
    "Edit this FEATURE's spec.md for a change request (FEATURE's argument, or --from FILE): "
    "only the requirements it changes."
)
FROM_HELP = (
    "Start from a shared library's feature: NAME/feature (with --update: the change "
    "request's file)."
)


def register(app: typer.Typer) -> None:
    @app.command()
    def specify(
        ctx: typer.Context,
        source: str = typer.Argument(
            None, help="A Markdown file, '-' for stdin, or a quoted description."
        ),
        model: str = typer.Option(None, "--model", "-m", help="litellm model name for this stage."),
        regenerate: Optional[str] = typer.Option(
            None, "--regenerate", help="Regenerate spec.md of this FEATURE from its feature.md."
        ),
        feature_opt: Optional[str] = feature_option(),
        update: str = typer.Option(None, "--update", help=UPDATE_HELP),
        force: bool = typer.Option(False, "--force", help="Replace a hand-edited spec.md."),
        from_library: str = typer.Option(None, "--from", help=FROM_HELP),
        max_cost: float = typer.Option(
            None, "--max-cost", min=0.0, help="Refuse to spend more than this (USD)."
        ),
        quick: bool = typer.Option(
            False, "--quick", help="A small change: spec, plan and tasks in one model call."
        ),
        bugfix: bool = typer.Option(
            False,
            "--bugfix",
            help="A bug: current, expected and unchanged behaviour, and how to reproduce it.",
        ),
    ) -> None:
        """Create a feature folder specs/NNN-slug/ with feature.md and a generated spec.md."""
        from specflow.cli.commands._shared import report_outcome
        from specflow.errors import InputError
        from specflow.stages import pipeline
        from specflow.stages.common import budgeted_model

        app_ = app_of(ctx)
        project = app_.project
        regenerate = one_feature(regenerate, feature_opt)  # `-F 3` = `--regenerate 3`
        if update:
            _update(app_, update, source, from_library, model, max_cost)
            return
        if (quick or bugfix) and (regenerate or from_library or (quick and bugfix)):
            raise InputError(
                "--quick and --bugfix start a new feature from a description, one at a time",
                "leave out --regenerate and --from, and pick one of --quick and --bugfix",
            )
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
        text, label = _read_source(source)
        llm = budgeted_model(project, None, "specify", model, max_cost)
        if quick:
            from specflow.stages.quick import quick as quick_change

            feature, usage, used = quick_change(
                project, text, source=label, model_override=model, model=llm
            )
            rel = feature.path.relative_to(project.root)
            app_.echo(
                f"wrote {rel}/spec.md, plan.md, tasks.md (v1, {used}, "
                f"{usage.prompt_tokens}+{usage.completion_tokens} tokens, ${usage.cost_usd:.4f})"
            )
            return
        if bugfix:
            from specflow.stages.bugfix import specify_bugfix

            outcome = specify_bugfix(project, text, source=label, model_override=model, model=llm)
        else:
            outcome = pipeline.specify(project, text, source=label, model_override=model, model=llm)
        report_outcome(app_, outcome, "wrote")
        from specflow.formats.spec_md import parse_spec

        questions = parse_spec(outcome.artifact.body).open_questions()
        if questions:
            app_.echo(
                f"{len(questions)} open question(s): run 'specflow clarify {outcome.feature.short}'"
            )


def _read_source(source: str | None) -> tuple[str, str]:
    """The feature text and where it came from: a file, stdin (`-`), or the words given."""
    import sys
    from pathlib import Path

    from specflow.errors import InputError
    from specflow.fsutil import read_text_input

    if source is None:
        raise InputError(
            "missing FEATURE", "pass a Markdown file, '-' for stdin, or a quoted description"
        )
    if source == "-":
        data = sys.stdin.buffer.read()
        if b"\x00" in data:
            raise InputError("stdin looks like binary data", "pipe a UTF-8 Markdown file")
        try:
            return data.decode("utf-8"), "stdin"
        except UnicodeDecodeError:
            raise InputError("stdin is not valid UTF-8", "pipe a UTF-8 file") from None
    if Path(source).is_file() or Path(source).suffix.lower() in (".md", ".txt", ".markdown"):
        return read_text_input(Path(source)), source
    return source, "description"


def _update(
    app_: object,
    feature_arg: str,
    request: str | None,
    path: str | None,
    model: str | None,
    max_cost: float | None,
) -> None:
    """`specify --update FEATURE "request" | --from FILE`."""
    from pathlib import Path

    from specflow.errors import InputError
    from specflow.fsutil import read_text_input
    from specflow.stages.common import budgeted_model
    from specflow.stages.spec_update import update_spec
    from specflow.stages.status import rel_path

    app: Any = app_
    if (request is None) == (path is None):
        raise InputError(
            "--update needs the change request: as text or with --from FILE (one of them)",
            'e.g. specflow specify --update 3 "users can export notes"',
        )
    text = read_text_input(Path(path)) if path else str(request)
    project = app.project
    feature = project.resolve_feature(feature_arg)
    llm = budgeted_model(project, feature, "specify", model, max_cost)
    archived, upd, _ = update_spec(project, feature, text, model_override=model, model=llm)
    changed = [
        *(f"{r.id} modified" for r in upd.modified),
        *(f"{r.id} added" for r in upd.added),
        *(f"{rid} removed" for rid in upd.removed),
    ]
    app.echo(
        f"updated {rel_path(project, feature.artifact('spec'))}: {', '.join(changed)} "
        f"(change kept in {rel_path(project, archived)}/; next: specflow plan {feature.number})"
    )
