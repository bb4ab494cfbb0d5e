"""OpenSpec projects written for these tests, with quirks seen in real ones (docs/importing.md)."""

from __future__ import annotations

import re

import pytest

from specflow.domain.tasks import TaskGraph
from specflow.formats import parse_artifact
from specflow.importers.openspec import import_openspec
from tests.importers.conftest import FIXTURES, checkboxes

OPENSPEC = FIXTURES / "openspec"
PROJECTS = sorted(p for p in OPENSPEC.iterdir() if p.is_dir())


def test_there_are_enough_samples() -> None:
    assert len(PROJECTS) >= 2


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_changes_and_capabilities_become_features(project) -> None:  # type: ignore[no-untyped-def]
    features, _ = import_openspec(project)
    root = project / "openspec"
    changes = sorted(p for p in (root / "changes").iterdir() if p.is_dir() and p.name != "archive")
    capabilities = sorted(p.parent for p in (root / "specs").glob("*/spec.md"))
    assert [f.source for f in features] == [
        *(f"openspec/changes/{p.name}" for p in changes),
        *(f"openspec/specs/{p.name}" for p in capabilities),
    ]
    for feature, folder in zip(features, [*changes, *capabilities]):
        spec = parse_artifact("spec", feature.text("spec.md"))
        deltas = (
            [folder / "spec.md"] if folder in capabilities else list(folder.glob("specs/*/spec.md"))
        )
        wanted = sum(
            len(re.findall(r"^#{3,} Requirement:", d.read_text(encoding="utf-8"), re.M))
            for d in deltas
        )
        assert len(spec.requirements) == wanted
        assert all("(OpenSpec " in r.text for r in spec.requirements)
        if not (folder / "tasks.md").is_file():
            assert feature.text("tasks.md") is None
            continue
        marks = checkboxes((folder / "tasks.md").read_text(encoding="utf-8"))
        tasks = parse_artifact("tasks", feature.text("tasks.md")).all_tasks()
        graph = TaskGraph(parse_artifact("tasks", feature.text("tasks.md")))
        assert [t.done for t in tasks] == [m in "xX" for m in marks]
        assert len(graph.order()) == len(marks) > 0
        if (folder / "design.md").is_file():
            assert parse_artifact("plan", feature.text("plan.md")).title == feature.title


def test_numbered_groups_keep_ids_order_and_run_in_sequence() -> None:
    features, notes = import_openspec(OPENSPEC / "canonical")
    assert notes == ["skipped 1 archived change(s) in openspec/changes/archive"]
    feature = next(f for f in features if f.slug == "data-foundation")
    tasklist = parse_artifact("tasks", feature.text("tasks.md"))
    assert [p.title for p in tasklist.phases][:2] == [
        "1. Dependencies & Environment Setup",
        "2. Core Types & Data Schema",
    ]
    numbers = list(feature.id_map)
    assert numbers[:4] == ["1.1", "1.2", "1.3", "2.1"]
    graph = TaskGraph(tasklist)
    ids = feature.id_map
    assert graph.deps[ids["1.2"]] == [ids["1.1"]]
    assert {ids["1.1"], ids["1.2"], ids["1.3"]} <= graph.ancestors(ids["2.1"])  # groups in order
    assert graph.tasks[ids["2.3"]].title == "Create `src/lib/types/index.ts` barrel export (2.3)"
    assert graph.tasks[ids["3.1"]].done and not graph.tasks[ids["3.2"]].done
    assert ".openspec.yaml" in feature.files


def test_proposal_delta_operations_and_scenarios_are_kept() -> None:
    features, _ = import_openspec(OPENSPEC / "headings-bold")
    feature = features[0]
    assert feature.title == "Add Document Signatures"
    spec = parse_artifact("spec", feature.text("spec.md"))
    assert "Hash Integrity Tracking" in spec.summary
    assert [r.text.rsplit("(", 1)[-1] for r in spec.requirements] == [
        "OpenSpec document-integrity, ADDED)",
        "OpenSpec document-integrity, ADDED)",
        "OpenSpec document-integrity, ADDED)",
        "OpenSpec document-integrity, MODIFIED)",
    ]
    text = feature.text("spec.md")
    assert "  - Scenario: Original Hash on Upload" in text
    assert "**WHEN** a document is uploaded to the system" in text
    sticky = next(f for f in features if f.slug == "add-sticky-header")
    assert [t.done for t in sticky.tasks] == [True, True, False]  # `**1. Title**` numbers
    assert list(sticky.id_map) == ["1", "2", "3"]
    # `### 1.1 …` headings over unnumbered checkboxes stay in the task list
    assert "### 1.1 Add DocumentHash Model" in feature.text("tasks.md")


def test_task_n_style_numbers() -> None:
    (feature,), _ = import_openspec(OPENSPEC / "task-n")
    assert list(feature.id_map) == [str(n) for n in range(1, 5)]
    assert all(t.done for t in feature.tasks)
