"""`specflow trace [RUN] [TASK] [--json]`: a run drilled down to steps, checks, merges and diffs."""

from __future__ import annotations

from typing import Optional

import typer

from specflow.cli.app import app_of


def register(app: typer.Typer) -> None:
    @app.command()
    def trace(
        ctx: typer.Context,
        run: Optional[str] = typer.Argument(None, help="Run id or prefix, or 'last' (default)."),
        task: Optional[str] = typer.Argument(None, help="Only this task, in full."),
        feature: Optional[str] = typer.Option(None, "--feature", help="Latest run of a feature."),
        full: bool = typer.Option(False, "--full", help="Full step results and diffs."),
        json_out: bool = typer.Option(False, "--json", help="The same structure as JSON."),
        otel: Optional[str] = typer.Option(
            None, "--otel", help="Export the run as OpenTelemetry spans: 'otlp' or 'console'."
        ),
        endpoint: Optional[str] = typer.Option(None, "--otel-endpoint", help="OTLP HTTP endpoint."),
    ) -> None:
        """Per task its attempts; per attempt each step, command output, check, merge and diff."""
        from specflow.errors import InputError
        from specflow.observe.loading import open_run
        from specflow.observe.trace_text import collect_diffs, render_trace

        app_obj = app_of(ctx)
        project = app_obj.project
        if run and task is None and run.upper().startswith("T") and run[1:].isdigit():
            run, task = None, run  # `specflow trace T003`: the task in the latest run
        opened = open_run(project, run, feature=feature, with_events=otel is not None)
        if otel is not None:
            from specflow.observe.otel import TelemetrySettings, export_events, make_provider

            conf = project.config.telemetry
            url = endpoint or conf.endpoint
            provider = make_provider(TelemetrySettings(True, otel, url, conf.service_name))
            count = export_events(opened.trace.events, provider.get_tracer("specflow"))
            provider.shutdown()
            app_obj.note(f"exported {count} spans of run {opened.trace.run_id} ({otel})")
            return
        tr = opened.trace
        tid = task.strip().upper() if task else None
        if tid and tid not in tr.tasks:
            raise InputError(f"task {tid} is not in run {tr.run_id}", "see 'specflow trace'")
        diffs = collect_diffs(tr, project.root, tid, stat_only=not (full or tid or json_out))
        if json_out:
            from specflow.redact import redact_obj

            data = redact_obj(tr.to_dict(diffs=diffs))
            if tid:
                data["tasks"] = [t for t in data["tasks"] if t["id"] == tid]
            app_obj.print_json(data)
            return
        for line in render_trace(tr, diffs, tid, full=full or tid is not None):
            app_obj.echo(line)
