"""Open a run of a project: its trace plus the feature's task graph (titles, dependencies)."""

from __future__ import annotations

import contextlib
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

from specflow.errors import SpecflowError
from specflow.observe.trace import RunTrace, load_trace
from specflow.runs.state import find_run

if TYPE_CHECKING:
    from specflow.domain.tasks import TaskGraph
    from specflow.project import Feature, Project


@dataclass
class OpenedRun:
    project: Project
    trace: RunTrace
    feature: Feature | None
    graph: TaskGraph | None


def load_graph(project: Project, feature: Feature, commit: str | None = None) -> TaskGraph | None:
    """The feature's task graph as of `commit` (the run's base) if git has it, else the file;
    None when tasks.md is missing or does not parse (the trace works without it)."""
    from specflow.domain.tasks import TaskGraph
    from specflow.formats import parse_artifact

    path = feature.artifact("tasks")
    text = None
    if commit:
        with contextlib.suppress(ValueError):
            rel = path.resolve().relative_to(project.root.resolve()).as_posix()
            out = subprocess.run(
                ["git", "show", f"{commit}:{rel}"],
                cwd=project.root,
                capture_output=True,
                text=True,
                check=False,
            )
            text = out.stdout if out.returncode == 0 else None
    if text is None and path.is_file():
        text = path.read_text(encoding="utf-8")
    if text is None:
        return None
    try:
        return TaskGraph(parse_artifact("tasks", text, str(path)), path=str(path))
    except SpecflowError:
        return None


def open_run(
    project: Project, run: str | None, *, feature: str | None = None, with_events: bool = False
) -> OpenedRun:
    feat_name = project.resolve_feature(feature).name if feature else None
    wanted = None if run in (None, "", "last", "latest") else run
    run_id, first = find_run(project.state_dir, feat_name, wanted)
    feat: Feature | None = None
    graph: TaskGraph | None = None
    if first.get("feature"):
        with contextlib.suppress(SpecflowError):
            feat = project.resolve_feature(str(first["feature"]))
    if feat is not None:
        graph = load_graph(project, feat, first.get("base"))
    trace = load_trace(project.state_dir, run_id, graph, with_events=with_events)
    return OpenedRun(project, trace, feat, graph)
