"""`check` remembers a feature's findings by everything they come from: a second run reads
them back, and any change to what they depend on checks the feature again."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import specflow.stages.check as check_mod
from specflow.project import Feature, Project
from specflow.stages.check import check_project
from tests.conftest import run_cli
from tests.stages.demo_feature import demo_project

SPEC = (
    "# Feature Specification: Demo\n\n## Requirements\n\n"
    "- **FR-001**: The tool MUST add two numbers.\n"
    "- **FR-002**: The tool MUST subtract two numbers.\n"
)
TASKS = (
    "# Tasks: Demo\n\n## Phase 1: Setup\n\n- [ ] T001 Add\n  - covers: FR-001\n"
    "- [ ] T002 Sub\n  - covers: FR-002\n"
)


def _fresh(p: Project) -> Project:
    again = Project.discover(p.root)  # a new process would re-read the configuration
    assert again is not None
    return again


@pytest.fixture
def proj(project: Path) -> Project:
    return demo_project(project, SPEC, TASKS)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = check_mod.check_feature

    def counting(project: Project, feature: Feature, **kw: bool) -> list[check_mod.Problem]:
        seen.append(feature.name)
        return real(project, feature, **kw)

    monkeypatch.setattr(check_mod, "check_feature", counting)
    return seen


def _messages(p: Project, strict: bool = False) -> list[str]:
    problems, _ = check_project(_fresh(p), strict=strict)
    return sorted(f"{x.path}:{x.line}: {x.message} [{x.severity}]" for x in problems)


def test_a_second_check_reads_the_findings_back(proj: Project, counted: list[str]) -> None:
    tasks = proj.specs_dir / "001-demo" / "tasks.md"
    tasks.write_text(tasks.read_text().replace("  - covers: FR-002\n", ""))
    first = _messages(proj)
    assert any("FR-002" in m for m in first)
    assert counted == ["001-demo"]
    assert (proj.state_dir / "cache" / "check.json").is_file()
    assert _messages(proj) == first
    assert counted == ["001-demo"]  # not checked again
    # the CLI prints the same whether or not the findings were remembered
    warm = run_cli(["check"], proj.root)
    (proj.state_dir / "cache" / "check.json").unlink()
    cold = run_cli(["check"], proj.root)
    assert (warm.code, warm.stdout) == (cold.code, cold.stdout)


@pytest.mark.parametrize("change", ["tasks", "spec", "constitution", "config", "other-file"])
def test_any_input_changed_checks_the_feature_again(
    proj: Project, counted: list[str], change: str
) -> None:
    folder = proj.specs_dir / "001-demo"
    before = _messages(proj)
    assert before == []
    if change == "tasks":
        path = folder / "tasks.md"
        path.write_text(path.read_text().replace("  - covers: FR-002\n", ""))
    elif change == "spec":
        path = folder / "spec.md"
        path.write_text(path.read_text() + "- **FR-003**: The tool MUST divide.\n")
    elif change == "constitution":  # plan.md was made from the constitution: now stale
        (proj.specs_dir / "constitution.md").write_text("# Constitution\n\nNew rule.\n")
    elif change == "config":  # the effective configuration (here: lint left out of check)
        (proj.root / "specflow.toml").write_text(
            (proj.root / "specflow.toml").read_text() + '\n[lint]\ncheck = "off"\n'
        )
    else:  # any file of the folder counts, say a change proposal's
        (folder / "changes").mkdir()
        (folder / "changes" / "note.md").write_text("draft\n")
    _messages(proj)
    assert counted == ["001-demo", "001-demo"]
    if change in ("tasks", "spec", "constitution"):
        assert _messages(proj) != before


def test_strict_is_part_of_the_key(proj: Project, counted: list[str]) -> None:
    spec = proj.specs_dir / "001-demo" / "spec.md"
    spec.write_text(spec.read_text().replace("two numbers.", "[NEEDS CLARIFICATION: which?]", 1))
    assert not any("clarification" in m.lower() and "error" in m for m in _messages(proj))
    strict = _messages(proj, strict=True)
    assert any("error" in m for m in strict)
    assert len(counted) == 2


def test_identical_features_keep_their_own_paths(proj: Project) -> None:
    tasks = proj.specs_dir / "001-demo" / "tasks.md"
    tasks.write_text(tasks.read_text().replace("  - covers: FR-002\n", ""))
    shutil.copytree(proj.specs_dir / "001-demo", proj.specs_dir / "002-copy")
    found = _messages(proj)
    assert any(m.startswith("specs/001-demo/") for m in found)
    assert any(m.startswith("specs/002-copy/") for m in found)
    assert _messages(proj) == found


def test_drift_is_never_read_from_the_cache(proj: Project, counted: list[str]) -> None:
    check_project(_fresh(proj))
    check_project(_fresh(proj), drift=True)
    check_project(_fresh(proj), drift=True)
    assert counted == ["001-demo", "001-demo", "001-demo"]


def test_a_cache_file_from_elsewhere_is_never_trusted(
    proj: Project, counted: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check.json that arrives with the repository (say an agent committed one, emptied of
    findings) matches nothing on another machine: the gate checks for real."""
    import json

    from specflow.stages.summaries import machine_salt

    tasks = proj.specs_dir / "001-demo" / "tasks.md"
    tasks.write_text(tasks.read_text().replace("  - covers: FR-002\n", ""))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "machine-a"))
    machine_salt.cache_clear()
    found = _messages(proj)
    assert any("FR-002" in m for m in found)
    cache = proj.state_dir / "cache" / "check.json"
    data = json.loads(cache.read_text())
    data["entries"] = {k: [] for k in data["entries"]}  # every finding removed
    cache.write_text(json.dumps(data))
    assert _messages(proj) == []  # this machine's own cache is trusted (the user wrote it)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "machine-b"))
    machine_salt.cache_clear()
    try:
        assert _messages(proj) == found
    finally:
        machine_salt.cache_clear()
    assert counted == ["001-demo", "001-demo"]
    assert oct((tmp_path / "machine-b" / "specflow" / "cache-salt").stat().st_mode)[-3:] == "600"
