"""`specflow specify --update FEATURE "request" | --from FILE`: a minimal edit of spec.md.

One model call answers in the change-proposal shape (modified / added / removed requirements);
the code writes it as a change (`changes/update-…/`) and applies it with `stages.change`, so
every requirement the answer does not name keeps its lines byte-for-byte by construction.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from specflow.domain.spec import Requirement
from specflow.errors import InputError
from specflow.formats.change_md import Deltas
from specflow.project import Feature, Project

if TYPE_CHECKING:
    from pathlib import Path

    from typing_extensions import Unpack

    from specflow.stages.common import Generated, ModelChoice


class SpecUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    summary: str
    modified: list[Requirement] = Field(default_factory=list)
    added: list[Requirement] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)


def update_problems(update: SpecUpdate, current: dict[str, str]) -> list[str]:
    out = [f"modified {r.id} is not in the spec" for r in update.modified if r.id not in current]
    out += [f"removed {rid} is not in the spec" for rid in update.removed if rid not in current]
    out += [f"added {r.id} already exists" for r in update.added if r.id in current]
    if not (update.modified or update.added or update.removed):
        out.append("the answer changes no requirement")
    return out


def update_spec(
    project: Project,
    feature: Feature,
    request: str,
    **choice: Unpack[ModelChoice],
) -> tuple[Path, SpecUpdate, Generated]:
    """Ask once, then apply the answer as a change. Returns (the archived change, the answer,
    the generation)."""
    from specflow.formats.change_md import render_deltas
    from specflow.formats.frontmatter import join_front_matter
    from specflow.fsutil import atomic_write_text
    from specflow.stages.change import DELTAS, PROPOSAL, apply_change, changes_dir, spec_now
    from specflow.stages.common import chosen_model, generate

    if not request.strip():
        raise InputError("the change request is empty", "say what should change")
    body, current = spec_now(project, feature)
    llm = chosen_model(project, "specify", choice)
    gen = generate(
        project,
        stage="specify",
        template="specify_update.md.j2",
        output=SpecUpdate,
        model=llm,
        context={
            "spec": body.strip(),
            "request": request.strip(),
            "drift": _drift(project, feature),
        },
        check=lambda u: update_problems(u, current),
        inputs={"spec.md": body, "request": request},
    )
    update: SpecUpdate = gen.value
    item = {r.id: f"- **{r.id}**: {r.text.strip()}" for r in [*update.modified, *update.added]}
    d = Deltas(
        added={r.id: item[r.id] for r in update.added},
        modified={r.id: item[r.id] for r in update.modified},
        removed={rid: f"- **{rid}**" for rid in update.removed},
    )
    base = {rid: current[rid] for rid in d.based()}
    name = "update-" + _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    folder = changes_dir(feature) / name
    atomic_write_text(folder / PROPOSAL, f"# Change: {name}\n\n## Why\n\n{request.strip()}\n")
    atomic_write_text(
        folder / DELTAS,
        join_front_matter({"base": base}, render_deltas(name, d.modified, d.removed, {}, d.added)),
    )
    _, archived = apply_change(project, feature, name, made_by=gen)
    return archived, update, gen


def _drift(project: Project, feature: Feature) -> str:
    """The drifted requirements in a few lines, or '' (no git, nothing implemented yet)."""
    from specflow.errors import SpecflowError
    from specflow.stages.drift import drift_messages, feature_drift

    try:
        return "\n".join(f"- {msg}" for _, msg in drift_messages(feature_drift(project, feature)))
    except SpecflowError:
        return ""
