"""The generation stages: specify, plan, tasks. Each reads inputs, asks the model, writes one
artifact atomically — or raises and leaves every file as it was."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from specflow.artifacts import EDITED, FRESH, HANDWRITTEN, MISSING, Artifact, ArtifactStore
from specflow.errors import InputError
from specflow.llm.base import Usage
from specflow.project import Feature, Project
from specflow.stages.common import Generated, ModelChoice, chosen_model, generate, usage_meta
from specflow.stages.newfeature import ask_new, create_feature
from specflow.stages.repomap import repo_map
from specflow.templating import template_hashes

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from specflow.library.core import LibraryFeature

MAX_FEATURE_CHARS = 100_000


@dataclass
class StageOutcome:
    feature: Feature
    artifact: Artifact
    usage: Usage
    model: str
    skipped: bool = False
    updated_from: int | None = None
    # plan: failing constitution gates without a justification ("plan.md:12: …"); the plan is
    # written all the same (marked by `check` and `status`), and the command exits 1.
    violations: list[str] = field(default_factory=list)


def slugify(title: str, max_len: int = 40) -> str:
    norm = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", norm.lower())
    stop = {"a", "an", "the", "and", "or", "of", "for", "to", "with", "in", "on", "feature"}
    kept = [w for w in words if w not in stop] or words or ["feature"]
    slug = ""
    for w in kept:
        if len(slug) + len(w) + 1 > max_len:
            break
        slug = f"{slug}-{w}" if slug else w
    return slug or kept[0][:max_len]


def _context(project: Project, store: ArtifactStore | None, kind: str) -> dict[str, Any]:
    cfg = project.config.context
    constitution = ""
    if project.constitution_path.is_file():
        constitution = project.constitution_path.read_text(encoding="utf-8", errors="replace")
    ctx: dict[str, Any] = {
        "constitution": constitution.strip(),
        "repo_map": repo_map(
            project.root,
            max_chars=cfg.repo_map_max_chars,
            max_files=cfg.repo_map_max_files,
            exclude=(project.config.project.specs_dir, ".specflow"),
        ),
        "stage_artifact": f"{kind}.md",
        "previous": "",
        "previous_version": 0,
        "input_diff": "",
    }
    if store is not None:
        prev = store.read(kind)
        if prev.exists:
            ctx["previous"] = prev.body.strip()
            ctx["previous_version"] = prev.version
            ctx["input_diff"] = store.input_diff(kind, prev)
    return ctx


def validate_feature_text(text: str, source: str) -> str:
    stripped = text.strip()
    if not stripped:
        raise InputError(f"{source}: the feature description is empty", "describe the feature")
    if "\x00" in text:
        raise InputError(f"{source}: looks like a binary file", "pass a UTF-8 Markdown file")
    if len(text) > MAX_FEATURE_CHARS:
        raise InputError(
            f"{source}: the feature description is {len(text)} characters, over {MAX_FEATURE_CHARS}",
            "split it into several features",
        )
    return text


# -- specify ---------------------------------------------------------------------------


def specify(
    project: Project,
    feature_text: str,
    *,
    source: str = "feature.md",
    from_library: LibraryFeature | None = None,
    **choice: Unpack[ModelChoice],
) -> StageOutcome:
    """Create `specs/NNN-slug/` with `feature.md` (the input as given) and `spec.md`.

    `from_library`: a feature taken from a shared library. Its ready spec.md, if it has one,
    becomes the starting spec.md without asking the model; either way the artifacts record
    `library: {name, source, commit, path}` in their front matter.
    """
    from specflow.domain.spec import Spec
    from specflow.formats.spec_md import render_spec

    validate_feature_text(feature_text, source)
    extra = {"library": from_library.provenance()} if from_library else {}
    gen: Generated | _Given
    if from_library is not None and from_library.spec_body is not None:
        # a library's ready spec.md is taken as written: no template shaped it
        gen, body, shaped = _library_spec(from_library), from_library.spec_body, None
    else:
        gen = ask_new(
            project,
            feature_text,
            source,
            template="specify.md.j2",
            output=Spec,
            check=lambda s: _spec_problems(s, project.root),
            **choice,
        )
        body, shaped = render_spec(gen.value, project.root), {"spec": "artifacts/spec.md.j2"}
    feature = create_feature(
        project, gen.value.title, feature_text, {"spec": body}, gen, extra, shaped
    )
    art = ArtifactStore(project, feature).read("spec")
    return StageOutcome(feature, art, gen.usage, gen.model)


@dataclass
class _Given:
    """A spec taken as given (from a library), shaped like a generation result."""

    value: Any
    template: str | None = None
    model: str = ""
    usage: Usage = field(default_factory=Usage)
    templates: dict[str, str] = field(default_factory=dict)


def _library_spec(lib: LibraryFeature) -> _Given:
    from specflow.formats.spec_md import parse_spec

    assert lib.spec_body is not None
    where = f"library {lib.library}: {lib.path}/spec.md"
    return _Given(value=parse_spec(lib.spec_body, where))


def _carried(store: ArtifactStore, kind: str = "spec") -> dict[str, Any]:
    """The library an artifact's input came from, so every later artifact names it too."""
    try:
        prov = store.read(kind).provenance
    except InputError:
        return {}
    lib = prov.extra.get("library") if prov else None
    return {"library": lib} if lib else {}


def respecify(project: Project, feature: Feature, **opts: Unpack[Regeneration]) -> StageOutcome:
    """Regenerate spec.md from the feature's feature.md (after it changed)."""
    from specflow.domain.spec import Spec
    from specflow.formats.spec_md import render_spec

    source = feature.path / "feature.md"

    def inputs(store: ArtifactStore) -> dict[str, Any]:
        if not source.is_file():
            raise InputError(
                f"{feature.name} has no feature.md", "run 'specflow specify FILE' instead"
            )
        text = source.read_text(encoding="utf-8", errors="replace")
        return {"feature": validate_feature_text(text, str(source)).strip()}

    return _regenerate(
        project,
        feature,
        Stage("spec", "specify", "specify.md.j2", Spec, render_spec),
        inputs=inputs,
        check=lambda s: _spec_problems(s, project.root),
        **opts,
    )


class Regeneration(ModelChoice, total=False):
    """What every regeneration (respecify, plan, tasks) takes besides the feature."""

    force: bool  # regenerate even if up to date or edited by hand


@dataclass(frozen=True)
class Stage:
    kind: str  # the artifact: spec, plan, tasks
    name: str  # the stage: specify, plan, tasks
    template: str
    output: type[BaseModel]
    render: Callable[[Any, Path | None], str]  # (value, project root for template overrides)


def _regenerate(
    project: Project,
    feature: Feature,
    stage: Stage,
    *,
    inputs: Callable[[ArtifactStore], dict[str, Any]],
    check: Callable[[Any], list[str]],
    **opts: Unpack[Regeneration],
) -> StageOutcome:
    """The shared shape of a regeneration: refuse to overwrite a person's work, skip what is
    fresh, ask the model with the previous version and the input diff, write atomically."""
    force = opts.get("force", False)
    store = ArtifactStore(project, feature)
    context = inputs(store)  # missing inputs are reported before anything else
    prev = store.check_writable(stage.kind, force=force)
    if prev.state == FRESH and not force:
        return StageOutcome(feature, prev, Usage(), "", skipped=True)
    llm = chosen_model(project, stage.name, opts)
    ctx = {**_context(project, store, stage.kind), **context}
    gen = generate(
        project,
        stage=stage.name,
        template=stage.template,
        output=stage.output,
        model=llm,
        context=ctx,
        check=check,
        inputs=store.input_texts(stage.kind),
    )
    art = store.write(
        stage.kind,
        stage.render(gen.value, project.root),
        template=gen.template,
        templates=_templates(project, stage.kind, gen.templates),
        model=gen.model,
        usage=usage_meta(gen.usage),
        extra=_carried(store),
        previous=prev,
    )
    return StageOutcome(
        feature, art, gen.usage, gen.model, updated_from=prev.version if prev.exists else None
    )


def _templates(project: Project, kind: str, prompts: dict[str, str]) -> dict[str, str]:
    """Every template that shaped the artifact: the prompts and the artifact's own."""
    return {**prompts, **template_hashes([f"artifacts/{kind}.md.j2"], project.root)}


def _spec_problems(spec: Any, root: Path | None) -> list[str]:
    from specflow.formats.spec_md import parse_spec, render_spec

    problems = _duplicates("requirement", [r.id for r in spec.requirements])
    problems += _duplicates("success criterion", [c.id for c in spec.success_criteria])
    problems += _duplicates("user story", [s.id for s in spec.stories])
    if not problems:
        problems += _roundtrip_problem(spec, lambda v: render_spec(v, root), parse_spec)
    return problems


def _duplicates(what: str, ids: list[str]) -> list[str]:
    from collections import Counter

    return [f"duplicate {what} id {i}" for i, n in sorted(Counter(ids).items()) if n > 1]


def _roundtrip_problem(value: Any, render: Any, parse: Any) -> list[str]:
    """The rendered Markdown must read back with the same structure (same ids, same counts).

    Small normalisations (e.g. files inferred from a task title) are fine; losing or inventing
    items means some field held Markdown that broke the document.
    """
    try:
        back = parse(render(value))
    except InputError as exc:
        return [f"the answer does not render to valid Markdown: {exc.message}"]
    if _skeleton(back) != _skeleton(value):
        return [
            "some text contains Markdown that breaks the document structure "
            "(headings, list markers, line breaks); keep each field plain, one-line text"
        ]
    return []


def _skeleton(value: Any) -> Any:
    data = value.model_dump()
    if "phases" in data:
        return [(p["title"], [t["id"] for t in p["tasks"]]) for p in data["phases"]]
    if "requirements" in data:
        return (
            [s["id"] for s in data["stories"]],
            [len(s["scenarios"]) for s in data["stories"]],
            [r["id"] for r in data["requirements"]],
            [c["id"] for c in data["success_criteria"]],
            len(data["entities"]),
        )
    return (
        len(data.get("technical_context", [])),
        len(data.get("constitution_check", [])),
        len(data.get("risks", [])),
    )


# -- plan ------------------------------------------------------------------------------


def _require(store: ArtifactStore, kind: str, stage: str) -> Artifact:
    art = store.read(kind)
    if art.state == MISSING:
        before = {"spec": "specify", "plan": "plan"}[kind]
        raise InputError(
            f"{store.feature.name} has no {kind}.md yet",
            f"run 'specflow {before}' before 'specflow {stage}'",
        )
    return art


def plan(project: Project, feature: Feature, **opts: Unpack[Regeneration]) -> StageOutcome:
    """Write plan.md. A plan whose constitution gate fails without a justification row in its
    Complexity Tracking table is written all the same — the model's work is kept for a person
    to fix or justify — but `violations` lists the gates, the CLI exits 1, `check` fails and
    `status` shows it until it is resolved (docs/architecture.md)."""
    from specflow.domain.plan import Plan
    from specflow.formats.plan_md import parse_plan, render_plan
    from specflow.stages.check import constitution_problems

    out = _regenerate(
        project,
        feature,
        Stage("plan", "plan", "plan.md.j2", Plan, render_plan),
        inputs=lambda store: {"spec": _require(store, "spec", "plan").body.strip()},
        check=lambda p: _roundtrip_problem(p, lambda v: render_plan(v, project.root), parse_plan),
        **opts,
    )
    out.violations = [
        f"{p.path}:{p.line}: {p.message}" for p in constitution_problems(project, feature)
    ]
    return out


# -- tasks -----------------------------------------------------------------------------


def tasks(project: Project, feature: Feature, **opts: Unpack[Regeneration]) -> StageOutcome:
    from specflow.bugfix.tasks import bugfix_task_problems
    from specflow.domain.tasks import TaskList
    from specflow.engine.risk import with_inferred_risks
    from specflow.formats.spec_md import parse_spec
    from specflow.formats.tasks_md import render_tasks
    from specflow.stages.check import constitution_problems

    specs: list[Any] = []
    bodies: list[str] = []

    def inputs(store: ArtifactStore) -> dict[str, Any]:
        spec_art = _require(store, "spec", "tasks")
        plan_art = _require(store, "plan", "tasks")
        violated = constitution_problems(project, feature)
        if violated and not opts.get("force", False):
            p = violated[0]
            raise InputError(
                f"{p.path}:{p.line}: {p.message}",
                "justify it in the plan's Complexity Tracking table or change the plan "
                "before 'specflow tasks' (--force goes ahead anyway)",
            )
        specs.append(parse_spec(spec_art.body, str(spec_art.path)))
        bodies.append(spec_art.body)
        return {"spec": spec_art.body.strip(), "plan": plan_art.body.strip()}

    return _regenerate(
        project,
        feature,
        # a task the model gave no risk gets one inferred from its files, written explicitly
        Stage(
            "tasks",
            "tasks",
            "tasks.md.j2",
            TaskList,
            lambda tl, root: render_tasks(with_inferred_risks(tl), root),
        ),
        inputs=inputs,
        check=lambda tl: (
            _tasks_problems(tl, specs[0], project.root) + bugfix_task_problems(bodies[0], tl)
        ),
        **opts,
    )


def _tasks_problems(tasklist: Any, spec: Any, root: Path | None) -> list[str]:
    from specflow.domain.coverage import compute_coverage
    from specflow.domain.tasks import TaskGraph
    from specflow.formats.tasks_md import parse_tasks, render_tasks

    try:
        graph = TaskGraph(tasklist)
    except InputError as exc:
        return [exc.message]
    problems: list[str] = []
    known = set(spec.requirement_ids())
    for t in graph.tasks.values():
        for c in t.covers:
            if c not in known:
                problems.append(f"task {t.id} covers {c}, which the spec does not define")
    for r in compute_coverage(spec, graph.tasks.values()).uncovered:
        problems.append(f"requirement {r.id} is covered by no task")
    if not problems:
        problems += _roundtrip_problem(tasklist, lambda v: render_tasks(v, root), parse_tasks)
    return problems


__all__ = ["EDITED", "HANDWRITTEN", "StageOutcome", "plan", "respecify", "specify", "tasks"]
