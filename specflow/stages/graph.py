"""`specflow graph`: the task graph as Mermaid, Graphviz dot or JSON. No model layer."""

from __future__ import annotations

import json
from typing import Any

from specflow.artifacts import ArtifactStore
from specflow.project import Feature, Project
from specflow.stages.status import rel_path


def load_graph(project: Project, feature: Feature) -> Any:
    from specflow.domain.tasks import TaskGraph
    from specflow.formats.tasks_md import parse_tasks

    store = ArtifactStore(project, feature)
    art = store.read("tasks")
    if not art.exists:
        from specflow.errors import InputError

        raise InputError(f"{feature.name} has no tasks.md", "run 'specflow tasks' first")
    rel = rel_path(project, art.path)
    return TaskGraph(parse_tasks(art.body, rel), path=rel)


def render_graph(graph: Any, fmt: str) -> str:
    crit = graph.critical_path()
    on_path = set(crit)
    edges = set(zip(crit, crit[1:]))
    order = graph.order()
    if fmt == "json":
        data = {
            "tasks": [
                {
                    "id": t,
                    "title": graph.tasks[t].title,
                    "done": graph.tasks[t].done,
                    "depends": graph.deps[t],
                    "files": graph.tasks[t].files,
                    "covers": graph.tasks[t].covers,
                    "critical": t in on_path,
                }
                for t in order
            ],
            "critical_path": crit,
            "waves": graph.waves(),
        }
        return json.dumps(data, indent=2) + "\n"
    if fmt == "mermaid":
        lines = ["flowchart LR"]
        for t in order:
            label = _label(graph.tasks[t].title).replace('"', "'")
            lines.append(f'    {t}["{t}: {label}"]')
        for t in order:
            for d in graph.deps[t]:
                arrow = "==>" if (d, t) in edges else "-->"
                lines.append(f"    {d} {arrow} {t}")
        lines.append("    classDef critical stroke:#d33,stroke-width:3px;")
        lines.append("    classDef done fill:#cfc;")
        if crit:
            lines.append(f"    class {','.join(crit)} critical;")
        done = [t for t in order if graph.tasks[t].done]
        if done:
            lines.append(f"    class {','.join(done)} done;")
        return "\n".join(lines) + "\n"
    if fmt == "dot":
        lines = ["digraph tasks {", "  rankdir=LR;", "  node [shape=box];"]
        for t in order:
            label = _label(graph.tasks[t].title).replace('"', '\\"')
            style = ", color=red, penwidth=2" if t in on_path else ""
            fill = ', style=filled, fillcolor="#ccffcc"' if graph.tasks[t].done else ""
            lines.append(f'  {t} [label="{t}: {label}"{style}{fill}];')
        for t in order:
            for d in graph.deps[t]:
                style = " [color=red, penwidth=2]" if (d, t) in edges else ""
                lines.append(f"  {d} -> {t}{style};")
        lines.append("}")
        return "\n".join(lines) + "\n"
    from specflow.errors import InputError

    raise InputError(f"unknown graph format '{fmt}'", "use mermaid, dot or json")


def _label(title: str, limit: int = 48) -> str:
    return title if len(title) <= limit else title[: limit - 1] + "…"
