"""`specflow import` end to end: detection, numbering, dry runs, refusals, atomicity."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import run_cli, snapshot
from tests.importers.conftest import FIXTURES


def test_formats_are_detected_and_features_numbered_after_existing_ones(project: Path) -> None:
    (project / "specs" / "007-existing").mkdir()
    (project / "specs" / "007-existing" / "spec.md").write_text("# Feature Specification: X\n")
    res = run_cli(["import", str(FIXTURES / "kiro" / "flat-optional")], project)
    assert res.code == 0, res.stderr
    assert "imported 2 feature(s) from kiro" in res.stdout
    assert (project / "specs" / "008-sync-polish" / "tasks.md").is_file()
    assert (project / "specs" / "009-duplicate-cleanup" / "plan.md").is_file()
    res = run_cli(["import", str(FIXTURES / "taskmaster" / "legacy"), "--json"], project)
    assert res.code == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["format"] == "taskmaster"
    assert [f["folder"] for f in out["features"]] == ["specs/010-legacy"]
    assert run_cli(["graph", "10", "--format", "json"], project).code == 0
    # nothing is left behind but the features
    assert not [p for p in (project / "specs").iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(
    ("sample", "fmt"),
    [
        ("kiro/nested-all-done", "kiro"),
        ("openspec/canonical", "openspec"),
        ("taskmaster/tagged-string-ids", "taskmaster"),
        ("speckit/with-extras", "speckit"),
    ],
)
def test_dry_run_writes_nothing(project: Path, sample: str, fmt: str) -> None:
    before = snapshot(project)
    res = run_cli(["import", str(FIXTURES / sample), "--dry-run", "--json"], project)
    assert res.code == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["format"] == fmt and out["dry_run"] and out["features"]
    assert snapshot(project) == before


def test_a_name_clash_refuses_and_writes_nothing(project: Path) -> None:
    src = FIXTURES / "openspec" / "headings-bold"
    assert run_cli(["import", str(src)], project).code == 0
    before = snapshot(project)
    res = run_cli(["import", str(src)], project)
    assert res.code == 2 and "exist already" in res.stderr
    assert snapshot(project) == before


def test_a_failure_while_placing_features_leaves_nothing(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(project)
    calls = {"n": 0}
    real = os.rename

    def flaky(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        real(a, b)

    monkeypatch.setattr(os, "rename", flaky)
    res = run_cli(["import", str(FIXTURES / "openspec" / "canonical")], project)
    assert res.code != 0
    assert snapshot(project) == before
    assert sorted(p.name for p in (project / "specs").iterdir()) == ["constitution.md"]


def test_ambiguous_unknown_and_missing_sources(project: Path, tmp_path: Path) -> None:
    mixed = tmp_path / "mixed"
    shutil.copytree(FIXTURES / "kiro" / "nested-all-done", mixed)
    shutil.copytree(FIXTURES / "taskmaster" / "tagged-string-ids", mixed, dirs_exist_ok=True)
    res = run_cli(["import", str(mixed)], project)
    assert res.code == 2 and "several formats: kiro, taskmaster" in res.stderr
    res = run_cli(["import", str(mixed), "--format", "kiro"], project)
    assert res.code == 0, res.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    res = run_cli(["import", str(empty)], project)
    assert res.code == 2 and "found no" in res.stderr
    res = run_cli(["import", str(tmp_path / "nope")], project)
    assert res.code == 2 and "no such file" in res.stderr
    res = run_cli(["import", str(empty), "--format", "jira"], project)
    assert res.code == 2 and "unknown format" in res.stderr


@pytest.mark.parametrize(
    ("sample", "fmt", "count"),
    [
        ("kiro/waves/.kiro/specs/lock-examples", "kiro", 1),
        ("kiro/waves/.kiro", "kiro", 1),
        ("openspec/canonical/openspec", "openspec", 4),
        ("openspec/canonical/openspec/changes/feed-tuning", "openspec", 1),
        ("taskmaster/several-tags/.taskmaster/tasks/tasks.json", "taskmaster", 3),
        ("taskmaster/several-tags/.taskmaster", "taskmaster", 3),
        ("speckit/with-extras/specs/003-team-space", "speckit", 1),
    ],
)
def test_a_tool_folder_or_file_can_be_the_source(
    project: Path, sample: str, fmt: str, count: int
) -> None:
    res = run_cli(["import", str(FIXTURES / sample), "--dry-run", "--json"], project)
    assert res.code == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["format"] == fmt and len(out["features"]) == count


def test_a_look_alike_tasks_json_is_refused_not_imported(project: Path) -> None:
    before = snapshot(project)
    for source in (
        FIXTURES / "not-taskmaster",
        FIXTURES / "not-taskmaster" / "tasks" / "tasks.json",
    ):
        res = run_cli(["import", str(source)], project)
        assert res.code == 2, res.stdout
        assert "not a Task Master file: unexpected keys milestones, version" in res.stderr
        assert "every task with an id, a title and a status" in res.stderr
    res = run_cli(["import", str(FIXTURES / "not-taskmaster"), "--format", "taskmaster"], project)
    assert res.code == 2 and "not a Task Master file" in res.stderr
    assert snapshot(project) == before
