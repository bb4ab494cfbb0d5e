"""Starting a project's constitution from a library's `constitution.md`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from specflow.errors import ArtifactConflict, InputError
from specflow.fsutil import atomic_write_text
from specflow.library.core import checkout

if TYPE_CHECKING:
    from specflow.project import Project

MARK = "<!-- specflow library:"


def use_constitution(project: Project, name: str, *, force: bool = False) -> Path:
    """Copy the library's constitution.md to specs/constitution.md, with a first line naming
    the library version (an HTML comment: invisible when rendered, and plan prompts keep it)."""
    entry = project.config.libraries.get(name)
    root = checkout(project, name)
    source = root / "constitution.md"
    if entry is None or not source.is_file():
        raise InputError(f"library '{name}' has no constitution.md")
    target = project.constitution_path
    if target.is_file() and not force and not _is_default_or_from_library(target):
        raise ArtifactConflict(
            f"{target.relative_to(project.root)} already has your own principles",
            "rerun with --force to replace it (commit it first to keep a copy)",
        )
    header = f"{MARK} {name} {entry.source} {entry.commit} constitution.md -->\n"
    atomic_write_text(target, header + source.read_text(encoding="utf-8"))
    return target


def _is_default_or_from_library(path: Path) -> bool:
    from specflow.resources import builtin_templates_dir

    text = path.read_text(encoding="utf-8", errors="replace")
    if text.startswith(MARK):
        return True
    default = builtin_templates_dir() / "init" / "constitution.md"
    return default.is_file() and default.read_text(encoding="utf-8").strip() == text.strip()
