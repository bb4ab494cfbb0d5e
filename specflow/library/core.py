"""Shared spec libraries: add (pin), update (re-pin), list, and read a pinned version.

A library is a git repository or a folder laid out as::

    constitution.md                 # optional: project principles to start from
    features/<name>/feature.md      # a reusable feature description
    features/<name>/spec.md         # optional: a ready spec, used as the starting spec.md
    templates/prompts/*.md.j2 …     # optional: overrides of specflow's built-in templates
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specflow.errors import InputError
from specflow.library import source as src
from specflow.library.tomledit import remove_library as _remove_table
from specflow.library.tomledit import set_library

if TYPE_CHECKING:
    from specflow.config import LibrarySection
    from specflow.project import Project

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


@dataclass
class LibraryInfo:
    name: str
    source: str
    commit: str
    kind: str  # "git" or "folder"
    ref: str | None
    path: Path | None  # the cached copy of the pinned version, None if not fetched yet

    def features(self) -> list[str]:
        folder = self.path / "features" if self.path else None
        if folder is None or not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if (p / "feature.md").is_file())

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "commit": self.commit,
            "kind": self.kind,
            "ref": self.ref,
            "path": str(self.path) if self.path else None,
            "features": self.features(),
            "constitution": bool(self.path and (self.path / "constitution.md").is_file()),
            "templates": bool(self.path and (self.path / "templates").is_dir()),
        }


@dataclass
class LibraryFeature:
    """A feature taken from a library: its text, an optional ready spec, and where it came from."""

    library: str
    source: str
    commit: str
    path: str  # inside the library, e.g. "features/login"
    feature_text: str
    spec_body: str | None

    def provenance(self) -> dict[str, str]:
        """What artifacts record as `library:` in their front matter."""
        return {
            "name": self.library,
            "source": self.source,
            "commit": self.commit,
            "path": self.path,
        }


def libdir(project: Project, name: str) -> Path:
    return project.state_dir / "libraries" / name


def _kind(pin: str) -> str:
    return "folder" if pin.startswith(src.HASH_PREFIX) else "git"


def library_entry(project: Project, name: str) -> LibrarySection:
    libs = project.config.libraries
    if name not in libs:
        known = ", ".join(sorted(libs)) or "none yet"
        raise InputError(
            f"no library named '{name}' (known: {known})",
            "add one with 'specflow library add NAME SOURCE'",
        )
    return libs[name]


def _pin(project: Project, name: str, source: str, ref: str | None) -> tuple[str, Path]:
    """Fetch the source and return (pin, cached copy) for `ref` (default: its HEAD)."""
    folder = libdir(project, name)
    if src.is_git_source(source, project.root):
        mirror = src.mirror(folder, source, project.root)
        commit = src.resolve_commit(mirror, ref)
        return commit, src.unpack_commit(mirror, commit, folder / commit)
    if ref:
        raise InputError(f"{source} is a plain folder, not a git repository", "drop --ref")
    local = src.resolve_source(source, project.root)
    assert local is not None
    dest, digest = src.copy_folder(local, folder, None)
    return digest, dest


def _save(project: Project, name: str, section: dict[str, Any]) -> None:
    from specflow.config import LibrarySection

    set_library(project.root, name, section)
    project.config.libraries[name] = LibrarySection(**section)


def add_library(project: Project, name: str, source: str, ref: str | None = None) -> LibraryInfo:
    if not NAME_RE.match(name):
        raise InputError(
            f"'{name}' is not a valid library name", "use letters, digits, '-' and '_'"
        )
    if name in project.config.libraries:
        raise InputError(
            f"library '{name}' already exists",
            f"'specflow library update {name}' re-pins it; 'specflow library remove {name}' drops it",
        )
    local = src.resolve_source(source, project.root)
    stored = source
    if local is not None and not Path(source).expanduser().is_absolute():
        stored = Path(source).as_posix()  # relative to the project root, portable across clones
    pin, path = _pin(project, name, stored, ref)
    _save(project, name, {"source": stored, "commit": pin, "ref": ref})
    return LibraryInfo(name, stored, pin, _kind(pin), ref, path)


def update_library(
    project: Project, name: str, ref: str | None = None
) -> tuple[str | None, LibraryInfo]:
    """Re-pin to the newest commit of `ref` (default: the recorded ref, else HEAD)."""
    entry = library_entry(project, name)
    use_ref = ref or entry.ref
    pin, path = _pin(project, name, entry.source, use_ref)
    section: dict[str, Any] = {"source": entry.source, "commit": pin, "ref": use_ref}
    if not entry.templates:
        section["templates"] = False
    _save(project, name, section)
    return entry.commit, LibraryInfo(name, entry.source, pin, _kind(pin), use_ref, path)


def remove_library(project: Project, name: str) -> None:
    import shutil

    library_entry(project, name)
    _remove_table(project.root, name)
    project.config.libraries.pop(name, None)
    shutil.rmtree(libdir(project, name), ignore_errors=True)


def checkout(project: Project, name: str) -> Path:
    """The cached copy of the pinned version, fetching it if this clone has none yet."""
    entry = library_entry(project, name)
    if not entry.commit:
        raise InputError(f"library '{name}' is not pinned", f"run 'specflow library update {name}'")
    folder = libdir(project, name)
    dest = folder / src.cache_name(entry.commit)
    if dest.is_dir():
        return dest
    if _kind(entry.commit) == "folder":
        local = src.resolve_source(entry.source, project.root)
        assert local is not None
        return src.copy_folder(local, folder, entry.commit)[0]
    mirror = src.mirror(folder, entry.source, project.root, fetch=False)
    if not src.has_commit(mirror, entry.commit):
        src.mirror(folder, entry.source, project.root, fetch=True)
        if not src.has_commit(mirror, entry.commit):
            raise src.LibraryError(
                f"library '{name}': commit {entry.commit[:12]} is not in {entry.source}",
                f"run 'specflow library update {name}' to pin one that exists",
            )
    return src.unpack_commit(mirror, entry.commit, dest)


def list_libraries(project: Project) -> list[LibraryInfo]:
    """Every configured library; the cached copy is reported only if it exists (no fetching)."""
    out = []
    for name, entry in sorted(project.config.libraries.items()):
        pin = entry.commit or ""
        cached = libdir(project, name) / src.cache_name(pin) if pin else None
        path = cached if cached is not None and cached.is_dir() else None
        out.append(LibraryInfo(name, entry.source, pin, _kind(pin), entry.ref, path))
    return out


def template_dirs(project: Project) -> list[Path]:
    """The `templates/` folders of the project's libraries, in specflow.toml order (the first
    wins), for the template loader to search after `.specflow/templates/`."""
    out = []
    for name, entry in project.config.libraries.items():
        if entry.templates and entry.commit:
            folder = checkout(project, name) / "templates"
            if folder.is_dir():
                out.append(folder)
    return out
