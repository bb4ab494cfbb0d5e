"""A new feature from a description: one model call, then the folder with its first artifacts,
all or nothing (specify, specify --quick, specify --bugfix, describe)."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from specflow.artifacts import ArtifactStore
from specflow.errors import InputError
from specflow.fsutil import atomic_write_text
from specflow.llm.base import Usage
from specflow.project import Feature, Project
from specflow.stages.common import Generated, ModelChoice, chosen_model, generate, usage_meta

if TYPE_CHECKING:
    from typing_extensions import Unpack


def ask_new(
    project: Project,
    text: str,
    source: str,
    *,
    template: str,
    output: type[BaseModel],
    check: Any,
    **choice: Unpack[ModelChoice],
) -> Generated:
    """The specify-stage call for a new feature: the description checked, the model opened
    (unless given), the prompt built with the repository context, the answer validated."""
    from specflow.stages.pipeline import _context, validate_feature_text

    validate_feature_text(text, source)
    llm = chosen_model(project, "specify", choice)
    ctx = _context(project, None, "spec")
    ctx["feature"] = text.strip()
    return generate(
        project,
        stage="specify",
        template=template,
        output=output,
        model=llm,
        context=ctx,
        check=check,
        inputs={"feature.md": text},
    )


def create_feature(
    project: Project,
    title: str,
    feature_text: str,
    bodies: dict[str, str],
    gen: Any,
    extra: dict[str, Any],
    shaped_by: dict[str, str] | None = None,
) -> Feature:
    """`specs/NNN-slug/` with feature.md and `bodies` (kind -> Markdown) written in order, so
    each records the hashes of the ones before it. The whole call's usage goes on the first
    artifact (`gen`: a generation result, or anything with its template, model and usage).
    `shaped_by` (kind -> artifact template) records the templates that rendered each body
    next to the prompts. On any failure the folder is removed."""
    from specflow.stages.pipeline import slugify
    from specflow.templating import template_hashes

    folder = project.specs_dir / f"{project.next_number():03d}-{slugify(title)}"
    if folder.exists():
        raise InputError(f"{folder} already exists", "remove it or rename the feature")
    feature = Feature(folder)
    try:
        atomic_write_text(folder / "feature.md", feature_text)
        store = ArtifactStore(project, feature)
        for i, (kind, body) in enumerate(bodies.items()):
            rendered = (shaped_by or {}).get(kind)
            store.write(
                kind,
                body,
                template=gen.template,
                templates={
                    **getattr(gen, "templates", {}),
                    **(template_hashes([rendered], project.root) if rendered else {}),
                },
                model=gen.model or None,
                usage=usage_meta(gen.usage if i == 0 else Usage()),
                extra=extra,
            )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return feature
