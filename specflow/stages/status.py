"""`specflow status`: each artifact's state and task progress. Cheap: no model layer imported."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from specflow.artifacts import KINDS, ArtifactStore
from specflow.errors import SpecflowError
from specflow.project import Feature, Project

if TYPE_CHECKING:
    from specflow.stages.summaries import Summaries


@dataclass
class ArtifactStatus:
    kind: str
    state: str
    version: int
    path: str
    changed_inputs: list[str] = field(default_factory=list)
    model: str | None = None
    cost_usd: float = 0.0
    created: str | None = None
    # plan.md: the constitution gates that fail without a justification ("line 12: …")
    violations: list[str] = field(default_factory=list)


@dataclass
class FeatureStatus:
    feature: str
    path: str
    artifacts: list[ArtifactStatus]
    tasks_total: int = 0
    tasks_done: int = 0
    open_questions: int = 0
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def project_status(project: Project, features: list[Feature]) -> list[FeatureStatus]:
    """`feature_status` of each feature, with body summaries remembered between runs."""
    from specflow.stages.summaries import Summaries

    summaries = Summaries(project.state_dir / "cache" / "summaries.json")
    out = [feature_status(project, f, summaries) for f in features]
    summaries.save()
    return out


def feature_status(
    project: Project, feature: Feature, summaries: Summaries | None = None
) -> FeatureStatus:
    store = ArtifactStore(project, feature, snapshot=True)
    arts: list[ArtifactStatus] = []
    error = None
    out = FeatureStatus(feature.name, rel_path(project, feature.path), arts)
    for kind in KINDS:
        try:
            a = store.read(kind)
        except SpecflowError as exc:
            error = error or exc.message
            arts.append(
                ArtifactStatus(kind, "broken", 0, rel_path(project, feature.artifact(kind)))
            )
            continue
        prov = a.provenance
        arts.append(
            ArtifactStatus(
                kind=kind,
                state=a.state,
                version=a.version,
                path=rel_path(project, a.path),
                changed_inputs=a.changed_inputs,
                model=prov.model if prov else None,
                cost_usd=float(prov.usage.get("cost_usd", 0.0)) if prov else 0.0,
                created=prov.created if prov else None,
            )
        )
        try:
            if kind == "tasks" and a.exists:
                counts = _summary(summaries, kind, a.body, a, _task_counts, project)
                out.tasks_total, out.tasks_done = counts
            if kind == "plan" and a.exists:  # line numbers count the front matter: whole text
                arts[-1].violations = _summary(
                    summaries, kind, a.text or "", a, _violations, project
                )
            if kind == "spec" and a.exists:
                out.open_questions = _summary(summaries, kind, a.body, a, _open_questions, project)
        except SpecflowError as exc:
            error = error or exc.message
    out.error = error
    return out


def _summary(
    summaries: Summaries | None, kind: str, key: str, art: Any, compute: Any, project: Project
) -> Any:
    """`compute(art, where)`, remembered by `key` (the text it depends on) when `summaries` is
    on; `where` names the file relative to the project in any error."""
    where = rel_path(project, art.path)
    if summaries is None:
        return compute(art, where)
    return summaries.get(kind, key, lambda: compute(art, where))


def _task_counts(art: Any, where: str) -> list[int]:
    from specflow.formats.tasks_md import parse_tasks

    all_tasks = parse_tasks(art.body, where).all_tasks()
    return [len(all_tasks), sum(1 for t in all_tasks if t.done)]


def _open_questions(art: Any, where: str) -> int:
    from specflow.formats.spec_md import parse_spec

    return len(parse_spec(art.body, where).open_questions())


def _violations(art: Any, where: str) -> list[str]:
    from specflow.domain.constitution import describe, violations
    from specflow.formats.plan_md import parse_plan

    offset = art.text.count("\n") - art.body.count("\n")
    return [
        f"line {g.line + offset}: {describe(g)}" if g.line else describe(g)
        for g in violations(parse_plan(art.body, where))
    ]


@dataclass
class BranchProgress:
    """A feature's integration branch next to the checkout: what merged there."""

    branch: str
    tasks_done: int
    tasks_total: int
    in_checkout: bool  # the checkout's branch already contains it
    runs: list[str] = field(default_factory=list)  # run ids recorded on the branch

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def branch_progress(project: Project, features: list[Feature]) -> dict[str, BranchProgress]:
    """Each feature's progress on `specflow/<feature>`, for all features in one batched git
    read (workspace/branches.py)."""
    from specflow.workspace.branches import FeatureRef, read_branches

    out: dict[str, BranchProgress] = {}
    states = read_branches(project.root, [FeatureRef(f.name, f.path) for f in features])
    for name, st in states.items():
        done, total = st.ticks() or (set(), 0)
        runs = [r.removesuffix(".json") for r in st.record_names]
        out[name] = BranchProgress(st.branch, len(done), total, st.in_checkout, runs)
    return out


def rel_path(project: Project, path: Any) -> str:
    try:
        return str(path.relative_to(project.root))
    except ValueError:
        return str(path)
