"""The small feature the stage tests start from: `specs/001-demo` with its feature.md."""

from __future__ import annotations

from pathlib import Path

from specflow.artifacts import ArtifactStore
from specflow.project import Feature, Project


def demo_store(root: Path) -> ArtifactStore:
    """The store of `specs/001-demo` in the project at `root` (feature.md written)."""
    feature = root / "specs" / "001-demo"
    feature.mkdir(parents=True)
    (feature / "feature.md").write_text("# Demo\n\nA demo feature.\n")
    proj = Project.discover(root)
    assert proj is not None
    return ArtifactStore(proj, Feature(feature))


def demo_project(root: Path, spec: str, tasks: str) -> Project:
    """That feature with spec, plan and tasks written through the store (fresh artifacts)."""
    store = demo_store(root)
    store.write("spec", spec)
    store.write("plan", "# Implementation Plan: Demo\n\nPlan.\n")
    store.write("tasks", tasks)
    return store.project
