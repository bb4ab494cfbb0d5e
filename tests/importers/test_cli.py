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
    res = run_cli(["import", str(FIXTURES / "kiro" / "spaceweirdos")], project)
    assert res.code == 0, res.stderr
    assert "imported 2 feature(s) from kiro" in res.stdout
    assert (project / "specs" / "008-realtime-feedback-polish" / "tasks.md").is_file()
    assert (project / "specs" / "009-high-severity-duplication-fixes" / "plan.md").is_file()
    res = run_cli(["import", str(FIXTURES / "taskmaster" / "scrumpoker"), "--json"], project)
    assert res.code == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["format"] == "taskmaster"
    assert [f["folder"] for f in out["features"]] == ["specs/010-scrumpoker"]
    assert run_cli(["graph", "10", "--format", "json"], project).code == 0
    # nothing is left behind but the features
    assert not [p for p in (project / "specs").iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(
    ("sample", "fmt"),
    [
        ("kiro/bkhrease-consult", "kiro"),
        ("openspec/devnews", "openspec"),
        ("taskmaster/tajdin", "taskmaster"),
        ("speckit/scheduler", "speckit"),
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
    src = FIXTURES / "openspec" / "satu-data"
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
    res = run_cli(["import", str(FIXTURES / "openspec" / "devnews")], project)
    assert res.code != 0
    assert snapshot(project) == before
    assert sorted(p.name for p in (project / "specs").iterdir()) == ["constitution.md"]


def test_ambiguous_unknown_and_missing_sources(project: Path, tmp_path: Path) -> None:
    mixed = tmp_path / "mixed"
    shutil.copytree(FIXTURES / "kiro" / "bkhrease-consult", mixed)
    shutil.copytree(FIXTURES / "taskmaster" / "tajdin", mixed, dirs_exist_ok=True)
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
        ("kiro/kythira/.kiro/specs/state-machine-examples", "kiro", 1),
        ("kiro/kythira/.kiro", "kiro", 1),
        ("openspec/devnews/openspec", "openspec", 4),
        ("openspec/devnews/openspec/changes/feed-alignment", "openspec", 1),
        ("taskmaster/oraclepack/.taskmaster/tasks/tasks.json", "taskmaster", 3),
        ("taskmaster/oraclepack/.taskmaster", "taskmaster", 3),
        ("speckit/scheduler/specs/003-create-org", "speckit", 1),
    ],
)
def test_a_tool_folder_or_file_can_be_the_source(
    project: Path, sample: str, fmt: str, count: int
) -> None:
    res = run_cli(["import", str(FIXTURES / sample), "--dry-run", "--json"], project)
    assert res.code == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["format"] == fmt and len(out["features"]) == count
