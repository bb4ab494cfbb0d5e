"""GitHub Spec Kit: `specs/NNN-slug/` folders are copied as they are, every file kept.

specflow reads Spec Kit's Markdown in place, so nothing is converted: a feature gets the next
free number and keeps its slug, `.specify/memory/constitution.md` becomes
`specs/constitution.md` when the project has none (or only the one `specflow init` wrote).
What specflow cannot read in a copied file is reported as a warning, not an error: the
files are the user's and stay as they are.
"""

from __future__ import annotations

import re
from pathlib import Path

from specflow.errors import InputError, SpecflowError
from specflow.importers.markdown import slugify, title_from_slug
from specflow.importers.model import ImportedFeature

FOLDER_RE = re.compile(r"^(?P<num>\d+)-(?P<slug>.+)$")
ARTIFACTS = ("spec.md", "plan.md", "tasks.md")
CONSTITUTIONS = (".specify/memory/constitution.md", "memory/constitution.md")
TITLE_RE = re.compile(
    r"^#\s+(?:feature\s+)?spec(?:ification)?\s*[:\-–—]\s*(?P<t>.+?)\s*$", re.I | re.M
)


def is_feature(folder: Path) -> bool:
    return (
        folder.is_dir()
        and FOLDER_RE.match(folder.name) is not None
        and any((folder / a).is_file() for a in ARTIFACTS)
    )


def find_features(source: Path) -> list[Path]:
    if is_feature(source):
        return [source]
    for base in (source / "specs", source):
        if base.is_dir():
            found = [p for p in base.iterdir() if is_feature(p)]
            if found:
                return sorted(found, key=lambda p: (int(FOLDER_RE.match(p.name)["num"]), p.name))  # type: ignore[index]
    return []


def find_constitution(source: Path) -> Path | None:
    for rel in CONSTITUTIONS:
        if (source / rel).is_file():
            return source / rel
    return None


def import_speckit(source: Path, own_specs: Path | None = None) -> list[ImportedFeature]:
    folders = find_features(source)
    if own_specs is not None and folders and folders[0].parent.resolve() == own_specs.resolve():
        raise InputError(
            "these Spec Kit features are already in this project's specs/ folder",
            "they work in place: run 'specflow status' or 'specflow check'",
        )
    if not folders:
        raise InputError(
            f"no Spec Kit features in {source}",
            "point at a folder holding specs/NNN-name/ with spec.md, plan.md or tasks.md",
        )
    return [_feature(folder, source) for folder in folders]


def _feature(folder: Path, source: Path) -> ImportedFeature:
    m = FOLDER_RE.match(folder.name)
    slug = slugify(m["slug"] if m else folder.name)
    spec_text = _read(folder / "spec.md")
    found = TITLE_RE.search(spec_text or "")
    title = found["t"] if found else title_from_slug(slug)
    try:
        rel = folder.resolve().relative_to(source.resolve()).as_posix() or folder.name
    except ValueError:
        rel = folder.name
    feature = ImportedFeature(slug=slug, title=title, source=rel or folder.name, converted=False)
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            feature.files[path.relative_to(folder).as_posix()] = path.read_bytes()
    feature.warnings += _problems(feature)
    return feature


def _problems(feature: ImportedFeature) -> list[str]:
    """What specflow cannot read in the copied artifacts (and the task counts it can)."""
    from specflow.domain.tasks import TaskGraph
    from specflow.formats import parse_artifact

    out: list[str] = []
    for name in ARTIFACTS:
        text = feature.text(name)
        if text is None:
            continue
        kind = name.removesuffix(".md")
        try:
            parsed = parse_artifact(kind, text, name)
            if kind == "tasks":
                graph = TaskGraph(parsed, path=name)  # type: ignore[arg-type]
                feature.tasks = list(graph.tasks.values())
                feature.id_map = {t: t for t in graph.tasks}
            if kind == "spec":
                feature.requirements = len(parsed.requirements)  # type: ignore[union-attr]
        except SpecflowError as exc:
            out.append(f"{exc.message} (copied as it is; fix it for 'specflow check')")
    return out


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
