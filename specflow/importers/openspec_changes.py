"""OpenSpec changes to existing capabilities -> specflow change proposals.

A change in `openspec/changes/<name>/` whose delta spec `specs/<cap>/spec.md` names a capability
of `openspec/specs/` becomes `changes/<name>/` inside the feature that capability is imported
as (stages/change.py reads it): `proposal.md` (the change's proposal), `design.md` and any other
file as they are, `tasks.md` (its task list converted, for reading: after `specflow change
apply` the feature's `specflow tasks` makes the tasks it runs), and `deltas.md`:

- ADDED requirements get the next free FR ids of the capability (counted across all imported
  changes, so two changes never add the same id);
- MODIFIED and REMOVED ones are matched by their `### Requirement:` name (case and spacing
  ignored, as OpenSpec's own archive matches them) to the FR id the capability's import gave
  that requirement, and record its hash in the imported spec.md as their base;
- RENAMED (`- FROM: ### Requirement: Old` / `- TO: ### Requirement: New`) keeps the old id:
  a rename changes the text, so it is a MODIFIED requirement with the new name (and the new
  text when the change also MODIFIES the new name).

A name that matches no requirement is not guessed: it is kept in a `## Not matched` section
and listed under `unmatched:` in the front matter, the import warns, and `specflow check` and
`change apply` refuse the change until someone gives it an id or drops it.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from specflow.formats.change_md import CHANGES, DELTAS, PROPOSAL, Deltas
from specflow.fsutil import read_text_input
from specflow.importers.markdown import front_matter, slugify
from specflow.importers.model import ImportedFeature
from specflow.importers.openspec import (
    CHANGE_FILES,
    OSSpec,
    convert_tasks,
    read_spec,
    requirement_item,
)

if TYPE_CHECKING:
    from specflow.project import Project

_RENAME_RE = re.compile(
    r"^\s*(?:[-*+]\s+)?\**(?P<side>FROM|TO)\**\s*:\s*`?(?:#+\s*)?(?:Requirement:\s*)?"
    r"(?P<name>.*?)`?\s*$",
    re.I,
)
_RENAMED_HEADING = re.compile(r"^#{1,2}\s+RENAMED\s+Requirements?\b", re.I)
_OTHER_HEADING = re.compile(r"^#{1,2}\s")


_ITEM_NAME = re.compile(r"^\s*- \*\*(?P<id>FR-\d+)\*\*: (?:REMOVED: )?\*\*(?P<name>.+?)\*\*")


@dataclass
class Capability:
    """A capability's feature — imported now, or earlier (`existing`) — as its changes are
    matched against it: requirement names, ids, item lines and hashes from its spec.md."""

    name: str
    feature: ImportedFeature
    requirements: dict[str, tuple[str, str]]  # name key -> (FR id, the name as spelled)
    items: dict[str, str]  # FR id -> its item's lines in spec.md
    hashes: dict[str, str]  # FR id -> its hash in spec.md
    next_id: int


def name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def capability(name: str, feature: ImportedFeature, spec_text: str) -> Capability:
    """Read the capability's requirements from its spec.md (`- **FR-001**: **Name**: …`)."""
    from specflow.artifacts import spec_requirement_hashes
    from specflow.formats.change_md import requirement_ranges
    from specflow.formats.frontmatter import split_front_matter

    _, body = split_front_matter(spec_text)
    lines = body.split("\n")
    reqs: dict[str, tuple[str, str]] = {}
    items: dict[str, str] = {}
    for rid, (start, end) in requirement_ranges(lines).items():
        items[rid] = "\n".join(lines[start:end])
        m = _ITEM_NAME.match(lines[start])
        if m is not None:
            reqs.setdefault(name_key(m["name"]), (rid, m["name"]))
    numbers = [int(rid[3:]) for rid in items if rid.startswith("FR-") and rid[3:].isdigit()]
    return Capability(
        name, feature, reqs, items, spec_requirement_hashes(body), max(numbers, default=0) + 1
    )


def read_renames(text: str) -> list[tuple[str, str]]:
    """(old name, new name) of each FROM/TO pair under `## RENAMED Requirements`."""
    out: list[tuple[str, str]] = []
    inside, old = False, None
    for line in text.splitlines():
        if _RENAMED_HEADING.match(line):
            inside = True
        elif _OTHER_HEADING.match(line):
            inside = False
        m = _RENAME_RE.match(line) if inside else None
        if m is None:
            continue
        if m["side"].upper() == "FROM":
            old = m["name"].strip()
        elif old is not None:
            out.append((old, m["name"].strip()))
            old = None
    return out


@dataclass
class ChangeDeltas:
    deltas: Deltas
    unmatched: list[tuple[str, list[str]]]  # ("MODIFIED 'Name'", the item as OpenSpec said)


def match_deltas(cap: Capability, spec: OSSpec, renames: list[tuple[str, str]]) -> ChangeDeltas:
    """The delta spec's requirements as FR items of the capability's feature."""
    out = ChangeDeltas(Deltas(), [])
    d = out.deltas
    modified = {name_key(r.name): r for r in spec.requirements if r.op == "MODIFIED"}
    for old, new in renames:
        hit = cap.requirements.get(name_key(old))
        if hit is None:
            out.unmatched.append((f"RENAMED '{old}' -> '{new}'", []))
            continue
        rid, spelled = hit
        now = modified.pop(name_key(new), None)
        if now is not None:
            d.modified[rid] = "\n".join(requirement_item(now, rid, cap.name, ""))
        else:  # the requirement as it stands, under its new name
            d.modified[rid] = cap.items[rid].replace(f"**{spelled}**", f"**{new}**", 1)
    for req in spec.requirements:
        if req.op == "ADDED":
            rid = f"FR-{cap.next_id:03d}"
            cap.next_id += 1
            d.added[rid] = "\n".join(requirement_item(req, rid, cap.name, ""))
            continue
        if req.op == "MODIFIED" and name_key(req.name) not in modified:
            continue  # the MODIFIED text of a renamed requirement, placed above
        hit = cap.requirements.get(name_key(req.name))
        item = requirement_item(req, "FR-000", cap.name, req.op)
        if hit is None:
            first = "- " + item[0].split(": ", 1)[1]  # no id: it has none
            out.unmatched.append((f"{req.op} '{req.name}'", [first, *item[1:]]))
            continue
        rid, name = hit  # the capability's spelling: a name is the key
        target = d.modified if req.op == "MODIFIED" else d.removed
        op = "" if req.op == "MODIFIED" else "REMOVED"
        target[rid] = "\n".join(
            requirement_item(dataclasses.replace(req, name=name), rid, cap.name, op)
        )
    d.modified = dict(sorted(d.modified.items()))
    return out


def add_change(
    folder: Path, source: str, cap: Capability, delta: Path, *, with_tasks: bool
) -> None:
    """Write `changes/<name>/` for one delta spec of the change into the capability's
    feature (in memory)."""
    from specflow.formats.change_md import render_deltas
    from specflow.formats.frontmatter import join_front_matter

    name = slugify(folder.name, "change")
    text = read_text_input(delta)
    cd = match_deltas(cap, read_spec(text), read_renames(text))
    d = cd.deltas
    meta: dict[str, object] = {
        "base": {rid: cap.hashes[rid] for rid in sorted(d.based()) if rid in cap.hashes},
        "imported": {"from": "openspec", "source": f"{source}/specs/{cap.name}/spec.md"},
    }
    body = render_deltas(name, d.modified, d.removed, d.renamed, d.added)
    if cd.unmatched:
        meta["unmatched"] = [what for what, _ in cd.unmatched]
        body += _not_matched(cd.unmatched)
        cap.feature.warnings.append(
            f"change {name}: {', '.join(what for what, _ in cd.unmatched)} matches no "
            f"requirement of {cap.name}; kept aside in changes/{name}/deltas.md, and "
            "'specflow check' fails until it gets an id or is dropped"
        )
    prefix = f"{CHANGES}/{name}/"
    cap.feature.add_text(prefix + DELTAS, join_front_matter(meta, body))
    _copy_change_files(folder, source, cap.feature, prefix, with_tasks=with_tasks)
    cap.feature.changes.append(name)


def _not_matched(unmatched: list[tuple[str, list[str]]]) -> str:
    out = ["", "## Not matched (from OpenSpec)", ""]
    for what, item in unmatched:
        out += [f"<!-- {what}: no requirement of spec.md has this name -->", *item, ""]
    return "\n".join(out)


def _copy_change_files(
    folder: Path, source: str, feature: ImportedFeature, prefix: str, *, with_tasks: bool
) -> None:
    proposal = folder / "proposal.md"
    text = read_text_input(proposal) if proposal.is_file() else f"# Change: {folder.name}\n"
    feature.add_text(prefix + PROPOSAL, front_matter("openspec", f"{source}/proposal.md") + text)
    tasks = folder / "tasks.md"
    if with_tasks and tasks.is_file():
        body, _, _ = convert_tasks(read_text_input(tasks), folder.name, f"{source}/tasks.md")
        feature.add_text(prefix + "tasks.md", body)
    for extra in sorted(folder.rglob("*")):
        rel = extra.relative_to(folder).as_posix()
        keep = rel == "design.md" or rel not in CHANGE_FILES
        if extra.is_file() and keep and not rel.startswith("specs/"):
            feature.files[prefix + rel] = extra.read_bytes()


def unbased(deltas: list[Path]) -> list[str]:
    """Warnings for MODIFIED / REMOVED requirements of capabilities the import has no spec
    of: they stay requirements of the change's own feature, with no base to check."""
    out: list[str] = []
    for delta in deltas:
        spec = read_spec(read_text_input(delta))
        names = [f"'{r.name}'" for r in spec.requirements if r.op in ("MODIFIED", "REMOVED")]
        if names:
            out.append(
                f"{', '.join(names)} change capability {delta.parent.name}, which has no "
                "openspec/specs/ folder here: no base hash is recorded for them"
            )
    return out


_CAP_SOURCE = re.compile(r"(?:^|/)openspec/specs/(?P<cap>[^/]+)/spec\.md$")


def project_capabilities(project: Project) -> dict[str, Capability]:
    """The project's features imported from OpenSpec capabilities (their spec.md front matter
    says `imported: {from: openspec, source: …/openspec/specs/<cap>/spec.md}`), by capability
    name: a change imported later is matched against their spec.md as it is now."""
    from specflow.errors import SpecflowError
    from specflow.formats.frontmatter import split_front_matter

    out: dict[str, Capability] = {}
    for feature in project.features():
        path = feature.artifact("spec")
        try:
            text = path.read_text(encoding="utf-8") if path.is_file() else ""
            meta, _ = split_front_matter(text, str(path))
        except (OSError, UnicodeDecodeError, SpecflowError):
            continue
        imported = (meta or {}).get("imported")
        if not isinstance(imported, dict) or imported.get("from") != "openspec":
            continue
        m = _CAP_SOURCE.search(str(imported.get("source", "")))
        if m is None:
            continue
        folder = project.rel(feature.path)
        held = ImportedFeature(
            slug=feature.name, title=feature.name, source=folder, folder=folder, existing=True
        )
        out.setdefault(m["cap"], capability(m["cap"], held, text))
    return out
