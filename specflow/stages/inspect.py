"""Read-only views of the pipeline: status, check, graph. Cheap: no model layer imported."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from specflow.artifacts import KINDS, STALE, ArtifactStore
from specflow.errors import ParseError, SpecflowError
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


def _task_counts(body: str, path: str) -> list[int]:
    from specflow.formats.tasks_md import parse_tasks

    all_tasks = parse_tasks(body, path).all_tasks()
    return [len(all_tasks), sum(1 for t in all_tasks if t.done)]


def _open_questions(body: str, path: str) -> int:
    from specflow.formats.spec_md import parse_spec

    return len(parse_spec(body, path).open_questions())


def feature_status(
    project: Project, feature: Feature, summaries: Summaries | None = None
) -> FeatureStatus:
    store = ArtifactStore(project, feature)
    arts: list[ArtifactStatus] = []
    error = None
    out = FeatureStatus(feature.name, _rel(project, feature.path), arts)
    for kind in KINDS:
        try:
            a = store.read(kind)
        except SpecflowError as exc:
            error = error or exc.message
            arts.append(ArtifactStatus(kind, "broken", 0, _rel(project, feature.artifact(kind))))
            continue
        prov = a.provenance
        arts.append(
            ArtifactStatus(
                kind=kind,
                state=a.state,
                version=a.version,
                path=_rel(project, a.path),
                changed_inputs=a.changed_inputs,
                model=prov.model if prov else None,
                cost_usd=float(prov.usage.get("cost_usd", 0.0)) if prov else 0.0,
                created=prov.created if prov else None,
            )
        )
        try:
            if kind == "tasks" and a.exists:
                counts = _summary(summaries, kind, a.body, str(a.path), _task_counts)
                out.tasks_total, out.tasks_done = counts
            if kind == "spec" and a.exists:
                out.open_questions = _summary(summaries, kind, a.body, str(a.path), _open_questions)
        except SpecflowError as exc:
            error = error or exc.message
    out.error = error
    return out


def _summary(summaries: Summaries | None, kind: str, body: str, path: str, compute: Any) -> Any:
    if summaries is None:
        return compute(body, path)
    return summaries.get(kind, body, lambda: compute(body, path))


def _rel(project: Project, path: Any) -> str:
    try:
        return str(path.relative_to(project.root))
    except ValueError:
        return str(path)


# -- check -----------------------------------------------------------------------------


@dataclass
class Problem:
    path: str
    line: int | None
    message: str
    code: str
    severity: str = "error"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_project(project: Project, *, strict: bool = False) -> tuple[list[Problem], int]:
    """All problems in all features, and how many features were checked."""
    problems: list[Problem] = []
    features = project.features()
    for feature in features:
        problems += check_feature(project, feature, strict=strict)
    return problems, len(features)


def check_feature(project: Project, feature: Feature, *, strict: bool = False) -> list[Problem]:
    from specflow.domain.tasks import TaskGraph
    from specflow.formats.plan_md import parse_plan
    from specflow.formats.spec_md import parse_spec
    from specflow.formats.tasks_md import parse_tasks

    store = ArtifactStore(project, feature)
    problems: list[Problem] = []
    parsed: dict[str, Any] = {}
    offsets: dict[str, int] = {}
    parsers = {"spec": parse_spec, "plan": parse_plan, "tasks": parse_tasks}
    for kind in KINDS:
        rel = _rel(project, feature.artifact(kind))
        try:
            art = store.read(kind)
        except ParseError as exc:
            problems.append(Problem(rel, exc.line, exc.detail, "front-matter"))
            continue
        if not art.exists:
            continue
        # Lines in parse errors count from the body; add the front matter's lines back.
        offsets[kind] = art.text.count("\n") - art.body.count("\n") if art.text else 0
        try:
            parsed[kind] = parsers[kind](art.body, rel)
        except ParseError as exc:
            line = exc.line + offsets[kind] if exc.line else None
            problems.append(Problem(rel, line, exc.detail, "parse"))
            continue
        if art.state == STALE:
            changed = ", ".join(art.changed_inputs)
            stage = "specify --regenerate" if kind == "spec" else kind
            problems.append(
                Problem(
                    rel,
                    1,
                    f"{kind}.md is stale: {changed} changed since version {art.version} "
                    f"(run 'specflow {stage} {feature.number}')",
                    "stale",
                )
            )
    spec = parsed.get("spec")
    if spec is not None and strict:
        rel = _rel(project, feature.artifact("spec"))
        for q in spec.open_questions():
            problems.append(
                Problem(
                    rel,
                    _line_of(feature.artifact("spec"), q),
                    f"open question: {q} (answer it with 'specflow clarify')",
                    "clarification",
                )
            )
    tl = parsed.get("tasks")
    if tl is not None:
        rel = _rel(project, feature.artifact("tasks"))
        off = offsets.get("tasks", 0)
        try:
            graph = TaskGraph(tl, path=rel)
        except ParseError as exc:
            problems.append(Problem(rel, (exc.line or 0) + off or None, exc.detail, "graph"))
            return problems
        if spec is not None:
            known = set(spec.requirement_ids())
            for t in graph.tasks.values():
                for c in t.covers:
                    if c.startswith("FR-") and c not in known:
                        problems.append(
                            Problem(
                                rel,
                                (t.line or 0) + off or None,
                                f"{t.id} covers {c}, which spec.md does not define",
                                "unknown-requirement",
                            )
                        )
            spec_rel = _rel(project, feature.artifact("spec"))
            # Coverage is checked where the task list records it: a Spec Kit list without any
            # `covers:` says nothing about coverage, which is not the same as covering nothing.
            tracks = any(t.covers for t in graph.tasks.values())
            for r in graph.uncovered(spec.requirement_ids()) if tracks else []:
                problems.append(
                    Problem(
                        spec_rel,
                        _line_of(feature.artifact("spec"), r),
                        f"{r} is covered by no task in tasks.md",
                        "uncovered",
                    )
                )
    return problems


def _line_of(path: Any, needle: str) -> int | None:
    try:
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if needle in line:
                return i
    except OSError:
        return None
    return None


# -- graph -----------------------------------------------------------------------------


def load_graph(project: Project, feature: Feature) -> Any:
    from specflow.domain.tasks import TaskGraph
    from specflow.formats.tasks_md import parse_tasks

    store = ArtifactStore(project, feature)
    art = store.read("tasks")
    if not art.exists:
        from specflow.errors import InputError

        raise InputError(f"{feature.name} has no tasks.md", "run 'specflow tasks' first")
    rel = _rel(project, art.path)
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
