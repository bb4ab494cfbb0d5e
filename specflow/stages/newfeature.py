"""Creating a feature folder with its first artifacts, all or nothing (quick, bugfix, describe)."""

from __future__ import annotations

import shutil
from typing import Any

from specflow.artifacts import ArtifactStore
from specflow.errors import InputError
from specflow.fsutil import atomic_write_text
from specflow.llm.base import Usage
from specflow.project import Feature, Project
from specflow.stages.common import Generated, usage_meta


def create_feature(
    project: Project,
    title: str,
    feature_text: str,
    bodies: dict[str, str],
    gen: Generated,
    extra: dict[str, Any],
) -> Feature:
    """`specs/NNN-slug/` with feature.md and `bodies` (kind -> Markdown) written in order, so
    each records the hashes of the ones before it. The whole call's usage goes on the first
    artifact. On any failure the folder is removed."""
    from specflow.stages.pipeline import slugify

    folder = project.specs_dir / f"{project.next_number():03d}-{slugify(title)}"
    if folder.exists():
        raise InputError(f"{folder} already exists", "remove it or rename the feature")
    feature = Feature(folder)
    try:
        atomic_write_text(folder / "feature.md", feature_text)
        store = ArtifactStore(project, feature)
        for i, (kind, body) in enumerate(bodies.items()):
            store.write(
                kind,
                body,
                template=gen.template,
                model=gen.model,
                usage=usage_meta(gen.usage if i == 0 else Usage()),
                extra=extra,
            )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return feature
