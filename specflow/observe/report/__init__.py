"""`specflow report`: one self-contained HTML file for a run — timeline, task graph, spend,
failures with transcripts and diffs. No external requests: CSS, JS and SVG are inline, and a
Content-Security-Policy meta tag forbids anything else."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specflow.observe.report.data import (
    layered_layout,
    spend_by_model,
    spend_by_stage,
    spend_by_task,
    timeline,
)
from specflow.observe.report.svg import gantt_svg, graph_svg

if TYPE_CHECKING:
    from specflow.observe.loading import OpenedRun

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
TEXT_LIMIT = 30_000


def build_report(opened: OpenedRun) -> str:
    import jinja2
    from markupsafe import Markup

    from specflow import __version__
    from specflow.observe.trace import read_text
    from specflow.observe.trace_text import collect_diffs, render_trace
    from specflow.observe.why import failure_lines
    from specflow.redact import env_secrets, redact

    trace = opened.trace
    secrets = env_secrets()

    def clean(text: str) -> str:
        text = redact(text, secrets=secrets)
        return text if len(text) <= TEXT_LIMIT else "… " + text[-TEXT_LIMIT:]

    diffs = collect_diffs(trace, opened.project.root, None, stat_only=False)
    graph = opened.graph
    nodes = list(trace.tasks)
    deps = {t: list(tt.depends) for t, tt in trace.tasks.items()}
    critical: set[tuple[str, str]] = set()
    if graph is not None:
        path = graph.critical_path()
        critical = set(zip(path, path[1:]))
    layout = layered_layout(nodes, deps)
    status = {t: tt.status for t, tt in trace.tasks.items()}
    titles = {t: tt.title for t, tt in trace.tasks.items()}
    tasks: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for tt in trace.tasks.values():
        text = "\n".join(list(render_trace(trace, {}, tt.id, full=True))[1:]).strip("\n")
        diff = diffs.get(tt.id, "")
        item = {
            "id": tt.id,
            "title": tt.title,
            "status": tt.status,
            "reason": tt.reason or (f"blocked by {tt.blocked_by}" if tt.blocked_by else ""),
            "attempts": len(tt.attempts),
            "cost": float(tt.usage.get("cost_usd", 0.0)),
            "seconds": (tt.ended - tt.started) if tt.ended and tt.started else None,
            "trace": clean(text),
            "diff": _diff_html(clean(diff), Markup) if diff else None,
        }
        tasks.append(item)
        failed_attempts = [
            a for a in tt.attempts if a.ok is False or any(v.ok is False for v in a.verifies)
        ]
        if tt.status == "failed" or failed_attempts:
            logs = []
            for a in failed_attempts or tt.attempts[-1:]:
                logs.append({"n": a.n, "log": clean(read_text(a.agent_log)), "path": a.agent_log})
            why = (
                failure_lines(tt, trace.run_id)
                if tt.status == "failed"
                else [
                    f"{tt.id} {tt.status} after {len(tt.attempts)} attempts; earlier attempts failed"
                ]
            )
            failures.append({**item, "why": clean("\n".join(why)), "logs": logs})
    stage_spend = spend_by_stage(opened.feature.path if opened.feature else None, trace)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    counts: dict[str, int] = {}
    for tt in trace.tasks.values():
        counts[tt.status] = counts.get(tt.status, 0) + 1
    usage = trace.usage()
    return env.get_template("page.html.j2").render(
        csp=CSP,
        run=trace,
        info=trace.info,
        counts=counts,
        usage=usage,
        duration=(trace.ended - trace.started) if trace.ended and trace.started else 0.0,
        gantt=Markup(gantt_svg(timeline(trace))),
        graph=Markup(graph_svg(layout, titles, status, critical)),
        spend_tasks=spend_by_task(trace),
        spend_models=spend_by_model(trace),
        spend_stages=stage_spend,
        tasks=tasks,
        failures=failures,
        version=__version__,
        generated=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    )


def _diff_html(diff: str, markup: Any) -> Any:
    from html import escape

    rows = []
    for line in diff.splitlines():
        cls = ""
        if line.startswith("+") and not line.startswith("+++"):
            cls = "add"
        elif line.startswith("-") and not line.startswith("---"):
            cls = "del"
        elif line.startswith("@@"):
            cls = "hunk"
        elif line.startswith(("diff --git", "commit ")):
            cls = "file"
        rows.append(f'<span class="{cls}">{escape(line)}</span>' if cls else escape(line))
    return markup("\n".join(rows))


def write_report(opened: OpenedRun, out: Path) -> Path:
    from specflow.fsutil import atomic_write_text

    atomic_write_text(out, build_report(opened))
    return out
