"""`specify --bugfix`: a bug report in, a bugfix spec.md out (in a new feature folder)."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

from specflow.bugfix.model import BugfixSpec
from specflow.errors import InputError
from specflow.project import Project
from specflow.stages import pipeline
from specflow.stages.newfeature import ask_new, create_feature

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from specflow.stages.common import ModelChoice


def render_bugfix(bug: BugfixSpec, project_root: Any = None) -> str:
    from specflow.templating import render

    return render("artifacts/bugfix_spec.md.j2", project_root, bug=bug)


def problems(bug: Any) -> list[str]:
    from specflow.bugfix.spec import read_bugfix
    from specflow.formats.spec_md import parse_spec

    ids = [r.id for r in [*bug.expected, *bug.unchanged]]
    found = pipeline._duplicates("requirement", ids)
    if not bug.expected:
        found.append("`expected` needs at least one requirement: what the fix does")
    if not bug.unchanged:
        found.append("`unchanged` needs at least one requirement the fix must not change")
    try:
        argv = shlex.split(bug.reproduction.command)
    except ValueError as exc:
        argv = []
        found.append(f"reproduction.command cannot be parsed: {exc}")
    if not argv or any(c in bug.reproduction.command for c in ";|&$`<>"):
        found.append("reproduction.command must be one plain command, no shell syntax")
    if found:
        return found
    body = render_bugfix(bug)
    try:
        spec = parse_spec(body)
    except InputError as exc:
        return [f"the answer does not render to a valid spec: {exc.message}"]
    info = read_bugfix(body)
    if spec.requirement_ids() != ids or info is None or info.test_path != bug.reproduction.path:
        return ["some text breaks the Markdown structure; keep each field plain, one-line text"]
    return []


def specify_bugfix(
    project: Project,
    report: str,
    *,
    source: str = "description",
    **choice: Unpack[ModelChoice],
) -> pipeline.StageOutcome:
    gen = ask_new(
        project,
        report,
        source,
        template="bugfix.md.j2",
        output=BugfixSpec,
        check=problems,
        **choice,
    )
    bug: BugfixSpec = gen.value
    body = render_bugfix(bug, project.root)
    shaped = {"spec": "artifacts/bugfix_spec.md.j2"}
    feature = create_feature(project, f"fix {bug.title}", report, {"spec": body}, gen, {}, shaped)
    from specflow.artifacts import ArtifactStore

    art = ArtifactStore(project, feature).read("spec")
    return pipeline.StageOutcome(feature, art, gen.usage, gen.model)
