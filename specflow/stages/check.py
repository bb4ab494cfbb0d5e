"""`specflow check`: every problem in every feature, for people and CI. No model layer.

The artifacts are read and parsed once (`FeatureCheck`); then each *finding producer* in
`PRODUCERS` looks at the parsed feature and returns its problems. A new kind of finding (lint,
drift …) is one more producer appended to that list — nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

from specflow.artifacts import KINDS, STALE, ArtifactStore
from specflow.errors import ParseError
from specflow.project import Feature, Project
from specflow.stages.status import rel_path

ERROR, WARNING = "error", "warning"


@dataclass
class Problem:
    path: str
    line: int | None
    message: str
    code: str
    severity: str = ERROR

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FeatureCheck:
    """One feature's artifacts, read and parsed once for every producer."""

    project: Project
    feature: Feature
    strict: bool = False
    drift: bool = False  # `check --drift`: code or spec moved since implementation is an error
    parsed: dict[str, Any] = field(default_factory=dict)  # kind -> Spec / Plan / TaskList
    offsets: dict[str, int] = field(default_factory=dict)  # kind -> front matter lines
    graph: Any = None  # the TaskGraph, when tasks.md parsed and has no cycle
    shared: dict[Any, str] | None = None  # texts of files outside the feature, for one pass

    def rel(self, kind: str) -> str:
        return rel_path(self.project, self.feature.artifact(kind))

    def file_line(self, kind: str, body_line: int | None) -> int | None:
        """A line counted in the body (as parsers count) as a line of the file."""
        return body_line + self.offsets.get(kind, 0) if body_line else None

    def line_of(self, kind: str, needle: str) -> int | None:
        return line_of_id(self.feature.artifact(kind), needle)


Producer = Callable[[FeatureCheck], list[Problem]]


def check_project(
    project: Project, *, strict: bool = False, drift: bool = False
) -> tuple[list[Problem], int]:
    """All problems in all features (lint findings included), and how many features were
    checked. Findings are remembered by what they were computed from (stages/findings_cache.py);
    `--drift` reads git, so a drift check computes everything afresh."""
    from specflow.formats._md import shared_docs
    from specflow.lint.gate import feature_linter
    from specflow.stages.findings_cache import FindingsCache

    cache = FindingsCache(project, strict)
    problems: list[Problem] = []
    linted: list[Problem] = []
    shared: dict[Any, str] = {}  # the constitution, read once for all features
    lint = feature_linter(project, strict=strict, memo=cache.lint)
    features = project.features()
    for feature in features:
        with shared_docs():  # the spec parser and the linter share one parse of spec.md
            if drift:
                problems += check_feature(
                    project, feature, strict=strict, drift=True, shared=shared
                )
            else:
                rows = cache.feature(feature, partial(_rows, project, feature, strict, shared))
                problems += [Problem(**row) for row in rows]
            linted += [Problem(**p.to_dict()) for p in lint(feature)]
    if not features:
        problems += _unseen_folders(project)
    problems += linted
    cache.save()
    return problems, len(features)


def _rows(
    project: Project, feature: Feature, strict: bool, shared: dict[Any, str]
) -> list[dict[str, Any]]:
    return [p.to_dict() for p in check_feature(project, feature, strict=strict, shared=shared)]


def _unseen_folders(project: Project) -> list[Problem]:
    """Folders under the specs dir when none is a feature: a gate that sees nothing must
    not pass."""
    if not project.specs_dir.is_dir():
        return []
    return [
        Problem(
            rel_path(project, p),
            None,
            "not a feature folder: no spec.md, plan.md or tasks.md in it",
            "no-feature",
        )
        for p in sorted(project.specs_dir.iterdir())
        if p.is_dir() and not p.name.startswith(".")
    ]


def check_feature(
    project: Project,
    feature: Feature,
    *,
    strict: bool = False,
    drift: bool = False,
    shared: dict[Any, str] | None = None,
) -> list[Problem]:
    fc = FeatureCheck(project, feature, strict, drift, shared=shared)
    problems = read_artifacts(fc)
    for produce in PRODUCERS:
        problems += produce(fc)
    return problems


def failed(problems: list[Problem]) -> bool:
    return any(p.severity == ERROR for p in problems)


# -- reading ------------------------------------------------------------------------------


def read_artifacts(fc: FeatureCheck) -> list[Problem]:
    """Parse each artifact (front matter and body), and report the stale ones."""
    from specflow.formats.plan_md import parse_plan
    from specflow.formats.spec_md import parse_spec
    from specflow.formats.tasks_md import parse_tasks

    store = ArtifactStore(fc.project, fc.feature, snapshot=True, shared=fc.shared)
    problems: list[Problem] = []
    parsers = {"spec": parse_spec, "plan": parse_plan, "tasks": parse_tasks}
    for kind in KINDS:
        rel = fc.rel(kind)
        try:
            art = store.read(kind)
        except ParseError as exc:
            problems.append(Problem(rel, exc.line, exc.detail, "front-matter"))
            continue
        if not art.exists:
            continue
        # Lines in parse errors count from the body; add the front matter's lines back.
        fc.offsets[kind] = art.text.count("\n") - art.body.count("\n") if art.text else 0
        try:
            fc.parsed[kind] = parsers[kind](art.body, rel)
        except ParseError as exc:
            problems.append(Problem(rel, fc.file_line(kind, exc.line), exc.detail, "parse"))
            continue
        if art.state == STALE:
            changed = ", ".join(art.changed_inputs)
            stage = "specify --regenerate" if kind == "spec" else kind
            problems.append(
                Problem(
                    rel,
                    1,
                    f"{kind}.md is stale: {changed} changed since version {art.version} "
                    f"(run 'specflow {stage} {fc.feature.short}')",
                    "stale",
                )
            )
    return problems


# -- producers ----------------------------------------------------------------------------


def open_questions(fc: FeatureCheck) -> list[Problem]:
    spec = fc.parsed.get("spec")
    if spec is None or not fc.strict:
        return []
    return [
        Problem(
            fc.rel("spec"),
            fc.line_of("spec", q),
            f"open question: {q} (answer it with 'specflow clarify')",
            "clarification",
        )
        for q in spec.open_questions()
    ]


def task_graph(fc: FeatureCheck) -> list[Problem]:
    from specflow.domain.tasks import TaskGraph

    tl = fc.parsed.get("tasks")
    if tl is None:
        return []
    rel = fc.rel("tasks")
    try:
        fc.graph = TaskGraph(tl, path=rel)
    except ParseError as exc:
        return [Problem(rel, fc.file_line("tasks", exc.line), exc.detail, "graph")]
    return []


def coverage(fc: FeatureCheck) -> list[Problem]:
    """Requirements no task covers, and tasks naming requirements the spec lacks.

    With `covers:` in the task list a gap is certain: an error. Without, coverage is read from
    the ids tasks name in their text, so a gap is probable: a warning (an error with --strict).
    """
    from specflow.domain.coverage import compute_coverage

    spec = fc.parsed.get("spec")
    if spec is None or fc.graph is None:
        return []
    cov = compute_coverage(spec, fc.graph.tasks.values())
    problems: list[Problem] = []
    for ref in cov.unknown:
        verb = "covers" if ref.how == "covers" else "names"
        problems.append(
            Problem(
                fc.rel("tasks"),
                fc.file_line("tasks", ref.line),
                f"{ref.task} {verb} {ref.requirement}, which spec.md does not define",
                "unknown-requirement",
                ERROR if ref.how == "covers" or fc.strict else WARNING,
            )
        )
    severity = ERROR if cov.declared or fc.strict else WARNING
    for r in cov.uncovered:
        problems.append(
            Problem(
                fc.rel("spec"),
                fc.line_of("spec", r.id),
                f"{r.id} is covered by no task in tasks.md (coverage read from {cov.source})",
                "uncovered",
                severity,
            )
        )
    return problems


def constitution(fc: FeatureCheck) -> list[Problem]:
    plan = fc.parsed.get("plan")
    if plan is None:
        return []
    return _violations(fc.rel("plan"), plan, fc.offsets.get("plan", 0))


def drift(fc: FeatureCheck) -> list[Problem]:
    """With --drift: requirements whose code or text moved since their tasks merged."""
    if not fc.drift or fc.parsed.get("spec") is None or fc.graph is None:
        return []
    from specflow.stages.drift import drift_problems, feature_drift

    return drift_problems(fc.project, fc.feature, feature_drift(fc.project, fc.feature))


def changes(fc: FeatureCheck) -> list[Problem]:
    """Open change proposals whose base moved, or that touch a requirement another one does."""
    from specflow.artifacts import spec_requirement_hashes
    from specflow.stages.change import CHANGES, change_problems

    if fc.parsed.get("spec") is None or not (fc.feature.path / CHANGES).is_dir():
        return []
    body = ArtifactStore(fc.project, fc.feature).read("spec").body
    current = spec_requirement_hashes(body)
    rel = rel_path(fc.project, fc.feature.path / CHANGES)
    return [
        Problem(rel, None, message, "change") for message in change_problems(fc.feature, current)
    ]


PRODUCERS: list[Producer] = [
    open_questions,
    task_graph,
    coverage,
    constitution,
    drift,
    changes,
]


# -- shared with the stages ---------------------------------------------------------------


def constitution_problems(project: Project, feature: Feature) -> list[Problem]:
    """The plan's unjustified failing constitution gates (what `plan` and `tasks` enforce)."""
    fc = FeatureCheck(project, feature)
    read_artifacts(fc)
    return constitution(fc)


def _violations(rel: str, plan: Any, offset: int) -> list[Problem]:
    from specflow.domain.constitution import describe, violations

    return [
        Problem(rel, gate.line + offset if gate.line else None, describe(gate), "constitution")
        for gate in violations(plan)
    ]


def line_of_id(path: Any, needle: str) -> int | None:
    """The first line of the body (front matter skipped: it records requirement hashes) naming
    `needle` as a whole word (FR-001, not FR-0010)."""
    import re

    pattern = re.compile(rf"(?<![\w-]){re.escape(needle)}(?![\w-])")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    start = 0
    if lines and lines[0].strip() == "---":
        start = next((i + 1 for i in range(1, len(lines)) if lines[i].strip() == "---"), 0)
    for i in range(start, len(lines)):
        if pattern.search(lines[i]):
            return i + 1
    return None
