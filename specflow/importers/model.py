"""What an importer produces: features as files in memory, before anything touches the disk."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from specflow.domain.tasks import Task


@dataclass
class ImportedFeature:
    """One feature to create: its slug, and every file of its folder (relative path -> bytes)."""

    slug: str
    title: str
    source: str  # where it came from, relative to the import SOURCE
    files: dict[str, bytes] = field(default_factory=dict)
    # The tasks as the importer meant them; tasks.md must parse back into exactly these.
    tasks: list[Task] | None = None
    # Original id -> specflow task id ("1.2" -> "T004", "TM 3" -> "T007").
    id_map: dict[str, str] = field(default_factory=dict)
    requirements: int = 0
    converted: bool = True  # False: files copied as they are (Spec Kit)
    warnings: list[str] = field(default_factory=list)
    folder: str = ""  # specs/NNN-slug, set when numbers are allocated
    changes: list[str] = field(default_factory=list)  # change proposals under changes/
    existing: bool = False  # a feature of the project: only its new `changes/` are written

    def add_text(self, name: str, text: str) -> None:
        self.files[name] = text.encode("utf-8")

    def text(self, name: str) -> str | None:
        data = self.files.get(name)
        return data.decode("utf-8", errors="replace") if data is not None else None

    def to_dict(self) -> dict[str, Any]:
        tasks = self.tasks or []
        return {
            "folder": self.folder,
            "slug": self.slug,
            "title": self.title,
            "source": self.source,
            "files": sorted(self.files),
            "tasks": len(tasks),
            "done": sum(1 for t in tasks if t.done),
            "requirements": self.requirements,
            "id_map": dict(self.id_map),
            "warnings": list(self.warnings),
            "changes": list(self.changes),
        }


@dataclass
class ImportPlan:
    """Everything one `specflow import` would write."""

    format: str
    source: str
    features: list[ImportedFeature] = field(default_factory=list)
    constitution: bytes | None = None  # Spec Kit's constitution, for specs/constitution.md
    constitution_source: str | None = None
    constitution_written: bool = False
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False
    # features of the project that get new change proposals (OpenSpec changes)
    additions: list[ImportedFeature] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "source": self.source,
            "dry_run": self.dry_run,
            "features": [f.to_dict() for f in self.features],
            "constitution": (
                {"source": self.constitution_source, "written": self.constitution_written}
                if self.constitution_source
                else None
            ),
            "notes": list(self.notes),
            "additions": [f.to_dict() for f in self.additions],
        }
