"""`specflow clarify [FEATURE] [--answer Q1=...]`."""

from __future__ import annotations

from typing import Optional

import typer

from specflow.cli.commands._shared import feature_argument, feature_option, given_feature


def register(app: typer.Typer) -> None:
    @app.command()
    def clarify(
        ctx: typer.Context,
        feature: Optional[str] = feature_argument(),
        feature_opt: Optional[str] = feature_option(),
        answer: list[str] = typer.Option(
            None,
            "--answer",
            "-a",
            help="Record an answer: Q1='text' (or part of the question=text).",
        ),
        json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
    ) -> None:
        """List a spec's open questions ([NEEDS CLARIFICATION: …]) or record answers."""
        from specflow.errors import InputError
        from specflow.stages.clarify import open_questions, record_answers

        app_, feat = given_feature(ctx, feature, feature_opt)
        project = app_.project
        if answer:
            pairs: dict[str, str] = {}
            for item in answer:
                if "=" not in item:
                    raise InputError(
                        f"--answer '{item}' has no '='", "use --answer Q1='your answer'"
                    )
                key, _, value = item.partition("=")
                pairs[key.strip()] = value
            done = record_answers(project, feat, pairs)
            for q in done:
                app_.echo(f"answered {q.key}: {q.text}")
            left = open_questions(project, feat)
            app_.echo(f"{len(left)} open question(s) left" if left else "no open questions left")
            return
        qs = open_questions(project, feat)
        if json_out:
            app_.print_json([{"id": q.key, "question": q.text} for q in qs])
            return
        if not qs:
            app_.echo(f"{feat.name}: no open questions")
            return
        for q in qs:
            app_.echo(f"{q.key}: {q.text}")
        app_.echo(f"answer with: specflow clarify {feat.short} --answer Q1='...'")
