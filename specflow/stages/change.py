"""Change proposals: `specs/<feature>/changes/NAME/` with proposal.md and deltas.md.

A change lives inside its feature's folder (feature discovery only looks at `specs/NNN-*`, so it
is never taken for a feature). Each MODIFIED / REMOVED / RENAMED requirement records the hash
(domain.identity) it had when the change was made; `check` fails when that base moved or when
two open changes touch one requirement, and `apply` refuses the same — before anything is
written. Applied changes move to `changes/archive/DATE-NAME/`. No model anywhere.
"""

from __future__ import annotations

import datetime as _dt
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from specflow.errors import InputError
from specflow.formats.change_md import ARCHIVE, CHANGES, DELTAS, PROPOSAL, Deltas, archived
from specflow.project import Feature, Project

if TYPE_CHECKING:
    from collections.abc import Iterable

    from specflow.domain.tasks import Task
    from specflow.stages.common import Generated

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


@dataclass
class Change:
    name: str
    path: Path
    deltas: Deltas


def changes_dir(feature: Feature) -> Path:
    return feature.path / CHANGES


def open_changes(feature: Feature) -> list[Change]:
    """The feature's changes not yet applied, by name."""
    root = changes_dir(feature)
    if not root.is_dir():
        return []
    return [
        read_change(p)
        for p in sorted(root.iterdir())
        if p.is_dir() and p.name != ARCHIVE and not p.name.startswith(".")
    ]


def read_change(path: Path) -> Change:
    from specflow.formats.change_md import parse_deltas
    from specflow.formats.frontmatter import split_front_matter

    file = path / DELTAS
    if not file.is_file():
        return Change(path.name, path, Deltas())
    meta, body = split_front_matter(file.read_text(encoding="utf-8"), str(file))
    base = (meta or {}).get("base") or {}
    if not isinstance(base, dict):
        base = {}
    deltas = parse_deltas(body, {str(k): str(v) for k, v in base.items()}, str(file))
    unmatched = (meta or {}).get("unmatched") or []
    deltas.unmatched = [str(u) for u in unmatched] if isinstance(unmatched, list) else []
    return Change(path.name, path, deltas)


def new_change(
    project: Project,
    feature: Feature,
    name: str,
    *,
    why: str = "",
    modify: list[str] | None = None,
    remove: list[str] | None = None,
    rename: dict[str, str] | None = None,
) -> Path:
    """Create changes/NAME/ with proposal.md and deltas.md (the requirements to modify, remove
    or rename pre-filled with their current text and base hashes)."""
    from specflow.formats.change_md import render_deltas, requirement_ranges
    from specflow.formats.frontmatter import join_front_matter
    from specflow.fsutil import atomic_write_text

    if not NAME_RE.match(name) or name == ARCHIVE:
        raise InputError(
            f"bad change name '{name}'", "use lowercase letters, digits and '-', e.g. add-export"
        )
    from specflow.stages.status import rel_path

    folder = changes_dir(feature) / name
    if folder.exists():
        raise InputError(f"{rel_path(project, folder)} already exists", "pick another name")
    body, current = spec_now(project, feature)
    lines = body.split("\n")
    ranges = requirement_ranges(lines)
    wanted = [*(modify or []), *(remove or []), *(rename or {})]
    for rid in wanted:
        if rid not in current or rid not in ranges:
            raise InputError(f"{rid} is not a requirement of {feature.name}", "check spec.md")
    text = {rid: "\n".join(lines[ranges[rid][0] : ranges[rid][1]]) for rid in wanted}
    base = {rid: current[rid] for rid in wanted}
    deltas = render_deltas(
        name,
        {r: text[r] for r in modify or []},
        {r: text[r] for r in remove or []},
        rename or {},
    )
    proposal = f"# Change: {name}\n\n## Why\n\n{why.strip() or '<why this change>'}\n"
    proposal += "\n## What changes\n\nSee deltas.md.\n"
    atomic_write_text(folder / PROPOSAL, proposal)
    atomic_write_text(folder / DELTAS, join_front_matter({"base": base}, deltas))
    return folder


def change_problems(feature: Feature, current: dict[str, str]) -> list[str]:
    """One line per problem of the feature's open changes: stale bases, missing bases and
    ids, and requirements touched by two open changes (naming both)."""
    out: list[str] = []
    by_id: dict[str, list[str]] = {}
    for ch in open_changes(feature):
        out += [f"change {ch.name}: {p}" for p in base_problems(ch.deltas, current)]
        for rid in ch.deltas.touched():
            by_id.setdefault(rid, []).append(ch.name)
    for rid, names in by_id.items():
        if len(names) > 1:
            out.append(f"{rid} is changed by {len(names)} open changes: {', '.join(names)}")
    return out


def base_problems(d: Deltas, current: dict[str, str]) -> list[str]:
    out = [
        f"{what} matches no requirement of spec.md (give it the id under its section in "
        "deltas.md and remove it from 'unmatched:', or drop it)"
        for what in d.unmatched
    ]
    for rid in d.based():
        if rid not in current:
            out.append(f"{rid} is not in spec.md any more")
        elif rid not in d.base:
            out.append(
                f"{rid} records no base hash (if the change was written against the spec as it "
                f"is now, add '{rid}: {current[rid]}' under 'base:' in deltas.md)"
            )
        elif d.base[rid] != current[rid]:
            out.append(
                f"{rid} changed since the change was made (base {d.base[rid]}, "
                f"spec now {current[rid]})"
            )
    renamed_to = set(d.renamed.values())
    for rid in [*d.added, *renamed_to]:
        if rid in current and rid not in d.removed and rid not in d.renamed:
            out.append(f"{rid} already exists in spec.md")
    return out


def apply_change(
    project: Project, feature: Feature, name: str, made_by: Generated | None = None
) -> tuple[Path, Path]:
    """Merge the change's deltas into spec.md (refusing on any base problem), then archive
    it. Returns (spec.md, the archived folder). `made_by`: the model call that wrote the
    deltas (`specify --update`), recorded in spec.md's front matter like any generation."""
    from specflow.artifacts import ArtifactStore
    from specflow.errors import StaleChange
    from specflow.formats.change_md import apply_deltas
    from specflow.fsutil import atomic_write_text

    folder = changes_dir(feature) / name
    if not NAME_RE.match(name) or not (folder / DELTAS).is_file():
        raise InputError(
            f"{feature.name} has no open change '{name}'", "see the folders in changes/"
        )
    ch = read_change(folder)
    body, current = spec_now(project, feature)
    problems = base_problems(ch.deltas, current)
    if problems:
        raise StaleChange(
            f"change {name} not applied: {problems[0]}",
            "fix deltas.md, or re-make the change against the current spec.md",
        )
    new_body = apply_deltas(body, ch.deltas)
    store = ArtifactStore(project, feature)
    art = store.read("spec")
    if art.provenance is not None:
        prov = art.provenance
        extra = {**prov.extra, "change": name}
        if made_by is None:
            store.write("spec", new_body, inputs=prov.inputs, template=prov.template, extra=extra)
        else:
            store.write(
                "spec",
                new_body,
                inputs=prov.inputs,
                template=made_by.template,
                templates=made_by.templates,
                model=made_by.model,
                usage=made_by.usage.to_dict(),
                extra=extra,
            )
    else:  # a hand-written spec stays hand-written, its front matter (if any) as it was
        whole = art.text or ""
        head = whole[: len(whole) - len(art.body)] if whole.endswith(art.body) else ""
        atomic_write_text(feature.artifact("spec"), head + new_body)
    day = _dt.date.today().isoformat()
    target = changes_dir(feature) / ARCHIVE / f"{day}-{name}"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(folder), str(target))
    return feature.artifact("spec"), target


def spec_now(project: Project, feature: Feature) -> tuple[str, dict[str, str]]:
    from specflow.artifacts import ArtifactStore, spec_requirement_hashes

    art = ArtifactStore(project, feature).read("spec")
    if not art.exists:
        raise InputError(f"{feature.name} has no spec.md", "run 'specflow specify' first")
    return art.body, spec_requirement_hashes(art.body)


# -- a change's tasks (`implement --change NAME`) ------------------------------------------


def applied_change(feature: Feature, name: str) -> Change:
    """The change as it was applied: the newest `changes/archive/*-NAME/`. An open or unknown
    change is an input error saying what to do."""
    if not NAME_RE.match(name) or name == ARCHIVE:
        raise InputError(f"bad change name '{name}'", "see the folders in changes/")
    found = archived(changes_dir(feature), name)
    if found:
        return read_change(found[-1])
    if (changes_dir(feature) / name / DELTAS).is_file():
        raise InputError(
            f"change {name} is not applied yet",
            f"run 'specflow change apply {name} {feature.short}', then 'specflow plan' "
            "and 'specflow tasks'",
        )
    raise InputError(f"{feature.name} has no change '{name}'", "see the folders in changes/")


def change_task_ids(change: Change, tasks: Iterable[Task]) -> list[str]:
    """The tasks that came from a change: those covering a requirement it added, modified,
    removed or renamed — by `covers:` or by naming the id in their text, the coverage rule
    of `check` (a task removing FR-002 names it: no task can cover it any more)."""
    from specflow.domain.coverage import task_links

    ids = set(change.deltas.touched())
    return [t.id for t in tasks if ids.intersection(rid for rid, _ in task_links(t))]
