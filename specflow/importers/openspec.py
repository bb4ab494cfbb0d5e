"""OpenSpec: `openspec/changes/<change>/` and `openspec/specs/<capability>/spec.md` -> features.

- A change to a capability of `openspec/specs/` (or to one imported into the project before)
  becomes a change proposal `changes/<change>/` inside that capability's feature, with its
  deltas and base hashes (openspec_changes.py).
- A change to new capabilities (its part for them) becomes a feature: proposal.md is the
  spec's overview, every `### Requirement:` of its delta specs (`specs/<cap>/spec.md`, under
  `## ADDED|MODIFIED|REMOVED Requirements`) a requirement FR-### naming its capability and
  operation, with its scenarios kept under it;
  design.md is the plan; tasks.md keeps its groups (`## 1. Group` -> phases), its tasks in order
  with their numbers in the title ("(1.1)") and their done state. OpenSpec tasks run in order,
  which is specflow's reading of a phase without `[P]` markers: no `depends:` is written.
- A capability in `openspec/specs/` becomes a feature with a spec only.
- Archived changes (`changes/archive/`) are done and are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from specflow.domain.tasks import Task
from specflow.errors import InputError
from specflow.formats.tasks_md import infer_files
from specflow.fsutil import read_text_input
from specflow.importers.checklist import checklist_doc, read_checklist
from specflow.importers.markdown import (
    check_tasks,
    doc_head,
    join_doc,
    quote_lines,
    reindent,
    slugify,
    spec_doc,
    title_from_slug,
)
from specflow.importers.model import ImportedFeature

if TYPE_CHECKING:
    from specflow.importers.openspec_changes import Capability

HEADING_RE = re.compile(r"^ {0,3}(?P<hashes>#{1,6})[ \t]+(?P<text>.*?)[ \t#]*$")
DELTA_RE = re.compile(r"^(?P<op>ADDED|MODIFIED|REMOVED|RENAMED)\s+Requirements?\b", re.I)
REQUIREMENT_RE = re.compile(r"^Requirement:\s*(?P<name>.*)$", re.I)
SCENARIO_RE = re.compile(r"^Scenario:\s*(?P<name>.*)$", re.I)
TITLE_PREFIX_RE = re.compile(r"^(?:proposal|change|design|tasks?)\s*[:\-–—]\s*", re.I)
CHANGE_FILES = ("proposal.md", "tasks.md", "design.md")


def find_root(source: Path) -> Path | None:
    if (source / "openspec").is_dir():
        return source / "openspec"
    has_parts = (source / "changes").is_dir() or (source / "specs").is_dir()
    if has_parts and (source.name == "openspec" or (source / "project.md").is_file()):
        return source
    return None


def import_openspec(
    source: Path, known: dict[str, Capability] | None = None
) -> tuple[list[ImportedFeature], list[str]]:
    """Features, and notes about what was skipped. A change to capabilities of
    `openspec/specs/` — or to `known` ones, imported into the project earlier — becomes change
    proposals inside their features (openspec_changes; a known one is returned with
    `existing` set when it got any); a change that only adds new capabilities becomes a
    feature of its own."""
    known = dict(known or {})
    if (source / "proposal.md").is_file():  # one change folder
        return _place_change(source, source.name, known) + _touched(known), []
    root = find_root(source)
    if root is None:
        raise InputError(
            f"no OpenSpec folder in {source}",
            "point at a folder holding openspec/changes/ or openspec/specs/",
        )
    caps = {**known, **_capabilities(root / "specs", source)}
    features: list[ImportedFeature] = []
    notes: list[str] = []
    changes = root / "changes"
    for folder in sorted(p for p in changes.iterdir() if p.is_dir()) if changes.is_dir() else []:
        if folder.name == "archive":
            count = sum(1 for p in folder.iterdir() if p.is_dir())
            if count:
                notes.append(f"skipped {count} archived change(s) in {_rel(folder, source)}")
        elif any((folder / f).is_file() for f in CHANGE_FILES):
            features += _place_change(folder, _rel(folder, source), caps)
    features += [c.feature for c in caps.values() if not c.feature.existing]
    features += _touched(caps)
    if not features:
        raise InputError(f"no OpenSpec changes or capabilities in {_rel(root, source)}")
    return features, notes


def _touched(caps: dict[str, Capability]) -> list[ImportedFeature]:
    """The project's own features that got change proposals."""
    return [c.feature for c in caps.values() if c.feature.existing and c.feature.changes]


def _capabilities(specs: Path, source: Path) -> dict[str, Capability]:
    from specflow.importers.openspec_changes import capability

    out: dict[str, Capability] = {}
    folders = (
        sorted(p for p in specs.iterdir() if (p / "spec.md").is_file()) if specs.is_dir() else []
    )
    for folder in folders:
        feature = _capability(folder, _rel(folder, source))
        out[folder.name] = capability(folder.name, feature, feature.text("spec.md") or "")
    return out


def _place_change(folder: Path, source: str, caps: dict[str, Capability]) -> list[ImportedFeature]:
    """Change proposals in the capabilities the change names; a feature for the rest."""
    from specflow.importers.openspec_changes import add_change, unbased

    deltas = sorted((folder / "specs").glob("*/spec.md"))
    known = [d for d in deltas if d.parent.name in caps]
    new = [d for d in deltas if d.parent.name not in caps]
    for delta in known:
        add_change(folder, source, caps[delta.parent.name], delta, with_tasks=not new)
    if known and not new:
        return []
    feature = _change(folder, source, new)
    feature.warnings += unbased(new)
    return [feature]


# -- requirements ------------------------------------------------------------------------------


@dataclass
class OSRequirement:
    name: str
    op: str  # ADDED, MODIFIED, REMOVED; "" in a capability spec
    statement: list[str] = field(default_factory=list)
    rest: list[str] = field(default_factory=list)  # scenarios and anything after them


@dataclass
class OSSpec:
    title: str = ""
    purpose: list[str] = field(default_factory=list)
    requirements: list[OSRequirement] = field(default_factory=list)
    other: list[str] = field(default_factory=list)


def read_spec(text: str) -> OSSpec:
    out = OSSpec()
    op = ""
    section = ""
    current: OSRequirement | None = None
    fence = False
    for raw in text.splitlines():
        line = raw.expandtabs(4).rstrip()
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        heading = None if fence else HEADING_RE.match(line)
        if heading is not None:
            level, htext = len(heading["hashes"]), heading["text"].strip()
            req = REQUIREMENT_RE.match(htext)
            if req is not None and level >= 3:
                current = OSRequirement(req["name"].strip(), op)
                out.requirements.append(current)
                continue
            if level == 1 and not out.title:
                out.title = re.sub(r"\s+(?:spec(?:ification)?(?: delta)?)$", "", htext, flags=re.I)
                continue
            if level <= 2:
                current = None
                delta = DELTA_RE.match(htext)
                op = delta["op"].upper() if delta else ""
                section = "delta" if delta else htext.lower()
                if op == "RENAMED" or section not in ("delta", "requirements", "purpose"):
                    out.other.append("#" * max(level, 2) + " " + htext)
                continue
        if current is not None and op != "RENAMED":
            if current.rest or (heading is not None and SCENARIO_RE.match(heading["text"])):
                current.rest.append(line)
            else:
                current.statement.append(line)
        elif section == "purpose":
            out.purpose.append(line)
        elif (line.strip() and line.strip() != "---") or out.other:
            out.other.append(line)
    return out


def requirement_lines(spec: OSSpec, capability: str, start: int) -> list[str]:
    """`- **FR-001**: **Name**: statement (OpenSpec cap, ADDED)` items, scenarios nested."""
    lines: list[str] = []
    for n, req in enumerate(spec.requirements, start):
        lines += requirement_item(req, f"FR-{n:03d}", capability, req.op)
    return lines


def requirement_item(req: OSRequirement, rid: str, capability: str, op: str) -> list[str]:
    """One requirement as a spec.md item: `- **FR-001**: **Name**: statement (OpenSpec cap,
    OP)`, its scenarios nested under it; `op` "" for the capability's own text."""
    statement = " ".join(" ".join(req.statement).split())
    origin = f"OpenSpec {capability}" + (f", {op}" if op else "")
    prefix = "REMOVED: " if op == "REMOVED" else ""
    text = f"{prefix}**{req.name}**" + (f": {statement}" if statement else "")
    body: list[str] = []
    for line in (r for r in req.rest if r.strip() != "---"):
        m = HEADING_RE.match(line)
        sc = SCENARIO_RE.match(m["text"]) if m else None
        if sc is not None:
            body += ["", f"- Scenario: {sc['name'].strip()}", ""]
        else:
            body.append("  " + line if line.strip() else "")
    return [f"- **{rid}**: {text} ({origin})", *quote_lines(reindent(body, 2), tasks=False)]


# -- features ----------------------------------------------------------------------------------


def _change(folder: Path, source: str, deltas: list[Path] | None = None) -> ImportedFeature:
    texts = {f: read_text_input(folder / f) for f in CHANGE_FILES if (folder / f).is_file()}
    slug = slugify(folder.name)
    proposal_title, proposal = _split_title(texts.get("proposal.md", ""))
    title = TITLE_PREFIX_RE.sub("", proposal_title).strip() or title_from_slug(slug)
    feature = ImportedFeature(slug=slug, title=title, source=source)
    frs: list[str] = []
    other: list[str] = []
    count = 0
    if deltas is None:
        deltas = sorted((folder / "specs").glob("*/spec.md"))
    for delta in deltas:
        spec = read_spec(read_text_input(delta))
        cap = delta.parent.name
        frs += requirement_lines(spec, cap, count + 1)
        count += len(spec.requirements)
        if [line for line in spec.other if line.strip()]:
            other += [f"### {cap}", "", *spec.other, ""]
    overview = quote_lines(_demote(proposal), tasks=False)
    notes = quote_lines(_demote(other, floor=3), tasks=False)
    after = ["## Spec Delta Notes", "", *notes, ""] if other else []
    feature.add_text("spec.md", _spec(f"{source}/proposal.md", title, overview, frs, after))
    feature.requirements = count
    if "design.md" in texts:
        _, design = _split_title(texts["design.md"])
        feature.add_text(
            "plan.md",
            join_doc(
                [
                    *doc_head("openspec", f"{source}/design.md", f"Implementation Plan: {title}"),
                    "\n".join(design),
                ]
            ),
        )
    if "tasks.md" in texts:
        body, tasks, id_map = convert_tasks(texts["tasks.md"], title, f"{source}/tasks.md")
        check_tasks(tasks, body, f"{source}/tasks.md")
        feature.add_text("tasks.md", body)
        feature.tasks, feature.id_map = tasks, id_map
        if count:
            feature.warnings.append(
                f"{count} requirement(s) are covered by no task: OpenSpec tasks do not name "
                "them; add 'covers:' lines for 'specflow check'"
            )
    for extra in sorted(folder.rglob("*")):
        rel = extra.relative_to(folder).as_posix()
        if extra.is_file() and rel not in CHANGE_FILES and not rel.startswith("specs/"):
            feature.files[rel] = extra.read_bytes()
    return feature


def _capability(folder: Path, source: str) -> ImportedFeature:
    spec = read_spec(read_text_input(folder / "spec.md"))
    slug = slugify(folder.name)
    title = spec.title.strip() or title_from_slug(slug)
    feature = ImportedFeature(slug=slug, title=title, source=source)
    overview = quote_lines(reindent(spec.purpose, 0), headings=True, tasks=False)
    frs = requirement_lines(spec, folder.name, 1)
    kept = [line for line in spec.other if line.strip()]
    after = quote_lines(_demote(spec.other, floor=2), tasks=False) if kept else []
    feature.add_text("spec.md", _spec(f"{source}/spec.md", title, overview, frs, after))
    feature.requirements = len(spec.requirements)
    return feature


def _spec(source: str, title: str, overview: list[str], frs: list[str], after: list[str]) -> str:
    return spec_doc("openspec", source, title, ["## Overview", "", *overview, ""], frs, after)


def convert_tasks(text: str, title: str, source: str) -> tuple[str, list[Task], dict[str, str]]:
    checklist = read_checklist(text)
    tasks: dict[int, Task] = {}  # id(raw task) -> its task
    id_map: dict[str, str] = {}
    for i, raw in enumerate(checklist.tasks, 1):
        tid = f"T{i:03d}"
        task_title = f"{raw.title} ({raw.number})" if raw.number else raw.title
        tasks[id(raw)] = Task(
            id=tid, title=task_title, done=raw.done, files=infer_files(task_title)
        )
        id_map[raw.label] = tid
    body = checklist_doc("openspec", source, title, checklist, tasks)
    return body, list(tasks.values()), id_map


def _split_title(text: str) -> tuple[str, list[str]]:
    """(the H1's text, the lines after it); no H1: ("", all lines)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip():
            m = HEADING_RE.match(line.strip())
            if m and len(m["hashes"]) == 1:
                return m["text"].strip(), lines[i + 1 :]
            break
    return "", lines


def _demote(lines: list[str], floor: int = 3) -> list[str]:
    """Push headings down so the shallowest becomes level `floor` (they sit under a section)."""
    fence = False
    levels: list[int] = []
    for line in lines:
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        m = None if fence else HEADING_RE.match(line)
        if m:
            levels.append(len(m["hashes"]))
    shift = floor - min(levels) if levels else 0
    if shift <= 0:
        return list(lines)
    out: list[str] = []
    fence = False
    for line in lines:
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        m = None if fence else HEADING_RE.match(line)
        if m:
            level = min(6, len(m["hashes"]) + shift)
            line = "#" * level + " " + m["text"]
        out.append(line)
    return out


def _rel(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix() or path.name
    except ValueError:
        return path.as_posix()
