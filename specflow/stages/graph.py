"""`specflow graph`: the task graph as Mermaid, Graphviz dot or JSON. No model layer."""

from __future__ import annotations

import json
from collections.abc import Callable
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
    if fmt == "json":
        return _json(graph, crit)
    if fmt == "mermaid":
        return _mermaid(graph, crit)
    if fmt == "dot":
        return _dot(graph, crit)
    from specflow.errors import InputError

    raise InputError(f"unknown graph format '{fmt}'", "use mermaid, dot or json")


def _json(graph: Any, crit: list[str]) -> str:
    data = {
        "tasks": [
            {
                "id": t,
                "title": graph.tasks[t].title,
                "done": graph.tasks[t].done,
                "depends": graph.deps[t],
                "files": graph.tasks[t].files,
                "covers": graph.tasks[t].covers,
                "critical": t in crit,
            }
            for t in graph.order()
        ],
        "critical_path": crit,
        "waves": graph.waves(),
    }
    return json.dumps(data, indent=2) + "\n"


def _drawing(
    graph: Any,
    crit: list[str],
    node: Callable[[str, str, bool, bool], str],
    edge: Callable[[str, str, bool], str],
) -> list[str]:
    """A line per task, `node(id, label, on the critical path, done)`, in order, then a line
    per dependency, `edge(from, to, a step of the critical path)`."""
    on_path = set(crit)
    steps = set(zip(crit, crit[1:]))
    order = graph.order()
    lines = [
        node(t, _label(graph.tasks[t].title), t in on_path, graph.tasks[t].done) for t in order
    ]
    lines += [edge(d, t, (d, t) in steps) for t in order for d in graph.deps[t]]
    return lines


def _mermaid(graph: Any, crit: list[str]) -> str:
    def node(t: str, label: str, critical: bool, done: bool) -> str:
        text = label.replace('"', "'")
        return f'    {t}["{t}: {text}"]'

    def edge(d: str, t: str, critical: bool) -> str:
        return f"    {d} {'==>' if critical else '-->'} {t}"

    lines = ["flowchart LR", *_drawing(graph, crit, node, edge)]
    lines.append("    classDef critical stroke:#d33,stroke-width:3px;")
    lines.append("    classDef done fill:#cfc;")
    if crit:
        lines.append(f"    class {','.join(crit)} critical;")
    done = [t for t in graph.order() if graph.tasks[t].done]
    if done:
        lines.append(f"    class {','.join(done)} done;")
    return "\n".join(lines) + "\n"


def _dot(graph: Any, crit: list[str]) -> str:
    def node(t: str, label: str, critical: bool, done: bool) -> str:
        style = ", color=red, penwidth=2" if critical else ""
        fill = ', style=filled, fillcolor="#ccffcc"' if done else ""
        text = label.replace('"', '\\"')
        return f'  {t} [label="{t}: {text}"{style}{fill}];'

    def edge(d: str, t: str, critical: bool) -> str:
        return f"  {d} -> {t}{' [color=red, penwidth=2]' if critical else ''};"

    head = ["digraph tasks {", "  rankdir=LR;", "  node [shape=box];"]
    return "\n".join([*head, *_drawing(graph, crit, node, edge), "}"]) + "\n"


def _label(title: str, limit: int = 48) -> str:
    return title if len(title) <= limit else title[: limit - 1] + "…"
