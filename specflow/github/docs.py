"""What the GitHub exports read from a feature: its spec (optional) and its task graph."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from specflow.artifacts import ArtifactStore
from specflow.errors import InputError

if TYPE_CHECKING:
    from specflow.domain.spec import Spec
    from specflow.domain.tasks import TaskGraph
    from specflow.project import Feature, Project


@dataclass
class FeatureDocs:
    feature: Feature
    spec: Spec | None
    graph: TaskGraph | None
    rel: str  # the feature folder relative to the project root

    def requirement_text(self, rid: str) -> str | None:
        if self.spec is None:
            return None
        texts = {r.id: r.text for r in self.spec.requirements}
        texts.update({c.id: c.text for c in self.spec.success_criteria})
        return texts.get(rid)

    def phase_of(self) -> dict[str, tuple[int, str]]:
        """Task id -> (1-based phase index, phase title)."""
        out: dict[str, tuple[int, str]] = {}
        if self.graph is None:
            return out
        for i, phase in enumerate(self.graph.tasklist.phases, 1):
            for t in phase.tasks:
                out[t.id] = (i, phase.title)
        return out


def load_docs(project: Project, feature: Feature, *, need_tasks: bool = True) -> FeatureDocs:
    from specflow.domain.tasks import TaskGraph
    from specflow.formats.spec_md import parse_spec
    from specflow.formats.tasks_md import parse_tasks

    store = ArtifactStore(project, feature)
    rel = feature.path.relative_to(project.root).as_posix()
    spec = None
    spec_art = store.read("spec")
    if spec_art.exists:
        spec = parse_spec(spec_art.text or "", f"{rel}/spec.md")
    graph = None
    tasks_art = store.read("tasks")
    if tasks_art.exists:
        graph = TaskGraph(
            parse_tasks(tasks_art.text or "", f"{rel}/tasks.md"), path=f"{rel}/tasks.md"
        )
    elif need_tasks:
        raise InputError(f"{feature.name} has no tasks.md", "run 'specflow tasks' first")
    if graph is not None:
        for tid in merged_on_branch(project, feature) & set(graph.tasks):
            graph.tasks[tid].done = True  # merged on specflow/<feature>, not in the checkout yet
    return FeatureDocs(feature, spec, graph, rel)


def merged_on_branch(project: Project, feature: Feature) -> set[str]:
    """Tasks ticked in tasks.md on the feature's integration branch (one batched git read)."""
    from specflow.workspace.branches import FeatureRef, read_branches

    st = read_branches(project.root, [FeatureRef(feature.name, feature.path)]).get(feature.name)
    ticks = st.ticks() if st is not None and not st.in_checkout else None
    return ticks[0] if ticks else set()
