from __future__ import annotations

from pathlib import Path

import pytest

from specflow.artifacts import ArtifactStore
from specflow.errors import ArtifactConflict
from tests.conftest import run_cli
from tests.stages.demo_feature import demo_store


@pytest.fixture
def store(project: Path) -> ArtifactStore:
    return demo_store(project)


SPEC_V1 = "# Feature Specification: Demo\n\nA demo.\n"
SPEC_V2 = "# Feature Specification: Demo\n\nA better demo.\n"


def test_versions_history_and_states(store: ArtifactStore) -> None:
    assert store.read("spec").state == "missing"
    art = store.write("spec", SPEC_V1, model="m1", usage={"cost_usd": 0.01})
    assert (art.state, art.version) == ("fresh", 1)
    assert art.provenance and art.provenance.inputs == store.current_inputs("spec")
    art2 = store.write("spec", SPEC_V2, model="m2")
    assert art2.version == 2
    assert store.history("spec")[0].read_text() == art.text
    # the input changes: stale, naming the input
    (store.feature.path / "feature.md").write_text("# Demo\n\nChanged.\n")
    again = store.read("spec")
    assert again.state == "stale" and again.changed_inputs == ["feature.md"]
    # a person edits the body: edited wins over stale, and writing refuses without force
    path = store.feature.artifact("spec")
    path.write_text(path.read_text() + "\nMy note.\n")
    assert store.read("spec").state == "edited"
    with pytest.raises(ArtifactConflict):
        store.check_writable("spec", force=False)
    assert store.check_writable("spec", force=True).state == "edited"


def test_input_diff_uses_history(store: ArtifactStore) -> None:
    store.write("spec", SPEC_V1)
    store.write("plan", "# Implementation Plan: Demo\n\nPlan.\n")
    store.write("spec", SPEC_V2)
    plan = store.read("plan")
    assert plan.state == "stale" and plan.changed_inputs == ["spec.md"]
    diff = store.input_diff("plan", plan)
    assert "-A demo." in diff and "+A better demo." in diff


def test_handwritten_needs_force(store: ArtifactStore) -> None:
    store.feature.artifact("plan").write_text("# Implementation Plan: Demo\n\nBy hand.\n")
    assert store.read("plan").state == "hand-written"
    with pytest.raises(ArtifactConflict, match="written by hand"):
        store.check_writable("plan", force=False)


def test_clarify_lists_and_records(project: Path) -> None:
    feature = project / "specs" / "001-demo"
    feature.mkdir(parents=True)
    (feature / "spec.md").write_text(
        "# Feature Specification: Demo\n\n## Requirements\n\n### Functional Requirements\n\n"
        "- **FR-001**: System MUST log in users via [NEEDS CLARIFICATION: which auth method?]\n"
    )
    res = run_cli(["clarify", "1"], project)
    assert res.code == 0 and "Q1: which auth method?" in res.stdout
    res = run_cli(["clarify", "1", "--answer", "auth=email and password"], project)
    assert res.code == 0, res.stderr
    text = (feature / "spec.md").read_text()
    assert "via email and password" in text and "NEEDS CLARIFICATION" not in text
    assert "- Q: which auth method? → A: email and password" in text
    assert run_cli(["clarify", "1", "--answer", "Q9=x"], project).code == 2


def test_ticked_boxes_are_progress_not_edits(store: ArtifactStore) -> None:
    store.write("tasks", "# Tasks: Demo\n\n## Phase 1\n\n- [ ] T001 Do it in a.py\n")
    path = store.feature.artifact("tasks")
    path.write_text(path.read_text().replace("- [ ] T001", "- [x] T001"))
    assert store.read("tasks").state == "fresh"
    path.write_text(path.read_text().replace("Do it", "Do something else"))
    assert store.read("tasks").state == "edited"
