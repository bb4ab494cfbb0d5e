"""Spec Kit projects (written for these tests, docs/importing.md): copied file for file, and
usable in place."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import run_cli, snapshot
from tests.importers.conftest import FIXTURES

SPECKIT = FIXTURES / "speckit"


def test_features_and_constitution_are_copied_byte_for_byte(project: Path) -> None:
    source = SPECKIT / "with-extras"
    res = run_cli(["import", str(source), "--json"], project)
    assert res.code == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["format"] == "speckit"
    (feature,) = out["features"]
    assert feature["folder"] == "specs/001-team-space"
    assert feature["tasks"] == 12 and feature["done"] == 12
    assert feature["requirements"] >= 10  # suffixed ids (FR-002b) read too
    origin = source / "specs" / "003-team-space"
    copied = project / "specs" / "001-team-space"
    want = {p.relative_to(origin): p.read_bytes() for p in origin.rglob("*") if p.is_file()}
    got = {p.relative_to(copied): p.read_bytes() for p in copied.rglob("*") if p.is_file()}
    assert got == want and len(want) >= 8  # research.md, data-model.md, contracts/, checklists/
    constitution = (project / "specs" / "constitution.md").read_bytes()
    assert constitution == (source / ".specify" / "memory" / "constitution.md").read_bytes()
    assert out["constitution"] == {"source": ".specify/memory/constitution.md", "written": True}


def test_an_existing_constitution_is_kept(project: Path) -> None:
    (project / "specs" / "constitution.md").write_text("# Ours\n")
    res = run_cli(["import", str(SPECKIT / "in-place")], project)
    assert res.code == 0, res.stderr
    assert (project / "specs" / "constitution.md").read_text() == "# Ours\n"
    assert "specs/001-task-crud" in res.stdout and "37 tasks" in res.stdout


def test_a_speckit_folder_works_in_place_unconverted(project: Path) -> None:
    origin = SPECKIT / "in-place" / "specs" / "002-task-crud"
    shutil.copytree(origin, project / "specs" / "002-task-crud")
    status = run_cli(["status", "2", "--json"], project)
    assert status.code == 0, status.stderr
    (feat,) = json.loads(status.stdout)["features"]
    assert feat["tasks_total"] == 37 and feat["error"] is None
    assert {a["state"] for a in feat["artifacts"]} == {"hand-written"}
    graph = run_cli(["graph", "2", "--format", "json"], project)
    assert graph.code == 0, graph.stderr
    assert len(json.loads(graph.stdout)["tasks"]) == 37
    check = run_cli(["check", "--format", "json"], project)
    problems = json.loads(check.stdout)["problems"] if check.stdout.strip() else []
    # Spec Kit task lists name no requirements: the only problems are coverage ones.
    assert {p["code"] for p in problems if p["severity"] == "error"} <= {"uncovered"}


def test_features_already_in_the_project_are_not_imported_again(project: Path) -> None:
    shutil.copytree(SPECKIT / "with-extras" / "specs", project / "specs", dirs_exist_ok=True)
    before = snapshot(project)
    res = run_cli(["import", ".", "--format", "speckit"], project)
    assert res.code == 2 and "already in this project" in res.stderr
    assert snapshot(project) == before
