"""`specflow check` as a CI gate: GitHub annotations, JSON, JUnit XML, exit codes."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import git, run_cli

SPEC = """# Feature Specification: Login

Let users log in.

## Requirements

### Functional Requirements

- **FR-001**: System MUST let users log in with email and password.
- **FR-002**: System MUST lock an account after five failed attempts.
"""
PLAN = "# Implementation Plan: Login\n\n## Summary\n\nA login endpoint and a lockout counter.\n"
TASKS = """# Tasks: Login

## Phase 1: Core

- [ ] T001 Create the user model in src/models/user.py
  - files: src/models/user.py
  - covers: FR-001
- [ ] T002 [US1] Add the login endpoint in src/api/login.py
  - depends: T001
  - covers: FR-001
- [ ] T003 [US1] Lock accounts in src/api/lock.py
  - depends: T002
  - covers: FR-002
"""
CYCLIC = TASKS.replace("  - depends: T001\n", "  - depends: T003\n")
UNCOVERED = TASKS.replace("  - covers: FR-002\n", "")


def make_feature(root: Path, tasks: str = TASKS, name: str = "001-login") -> Path:
    """A feature whose artifacts carry real provenance (written by the store, no model)."""
    from specflow.artifacts import ArtifactStore
    from specflow.project import Feature, Project

    project = Project.discover(root)
    assert project is not None
    feature = Feature(project.specs_dir / name)
    feature.path.mkdir(parents=True)
    (feature.path / "feature.md").write_text("Users log in with email and password.\n")
    store = ArtifactStore(project, feature)
    store.write("spec", SPEC)
    store.write("plan", PLAN)
    store.write("tasks", tasks)
    return feature.path


def line_of(path: Path, needle: str) -> int:
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in {path}")


def annotations(stdout: str) -> list[dict[str, str]]:
    out = []
    for line in stdout.splitlines():
        m = re.match(r"^::error (?P<props>[^:]*)::(?P<msg>.*)$", line)
        if m:
            props = dict(p.split("=", 1) for p in m.group("props").split(","))
            out.append({**props, "message": m.group("msg")})
    return out


def test_clean_project_passes_in_every_format(project: Path, tmp_path: Path) -> None:
    make_feature(project)
    res = run_cli(["check", "--format", "github"], project)
    assert res.code == 0, res.stdout + res.stderr
    assert "::error" not in res.stdout and "ok: 1 feature(s)" in res.stdout
    res = run_cli(["check", "--format", "json"], project)
    assert res.code == 0
    assert json.loads(res.stdout) == {"ok": True, "features": 1, "problems": []}
    report = tmp_path / "out" / "junit.xml"
    assert run_cli(["check", "--report", str(report)], project).code == 0
    suite = ET.parse(report).getroot()
    assert suite.tag == "testsuite" and suite.get("failures") == "0"


def test_cyclic_tasks_annotated_on_the_task_line(project: Path) -> None:
    feature = make_feature(project, CYCLIC)
    res = run_cli(["check", "--format", "github"], project)
    assert res.code == 1
    [ann] = annotations(res.stdout)
    assert ann["file"] == "specs/001-login/tasks.md"
    assert int(ann["line"]) == line_of(feature / "tasks.md", "T002 [US1]")
    assert "dependency cycle: T002 -> T003 -> T002" in ann["message"]
    assert res.stdout.rstrip().endswith("1 problem(s) in 1 feature(s)")


def test_uncovered_requirement_annotated_on_the_spec_line(project: Path) -> None:
    feature = make_feature(project, UNCOVERED)
    res = run_cli(["check", "--format", "github"], project)
    assert res.code == 1
    [ann] = annotations(res.stdout)
    assert ann["file"] == "specs/001-login/spec.md"
    assert int(ann["line"]) == line_of(feature / "spec.md", "**FR-002**")
    assert "FR-002 is covered by no task" in ann["message"]
    assert ann["title"] == "specflow uncovered"


def test_stale_artifact_is_a_problem(project: Path) -> None:
    feature = make_feature(project)
    (feature / "spec.md").write_text(
        (feature / "spec.md").read_text().replace("five failed", "three failed")
    )
    res = run_cli(["check", "--format", "github"], project)
    assert res.code == 1
    files = {(a["file"], a["line"]) for a in annotations(res.stdout)}
    # spec.md is now "edited" (not a problem); plan and tasks depend on it and are stale
    assert files == {("specs/001-login/plan.md", "1"), ("specs/001-login/tasks.md", "1")}
    assert "plan.md is stale: spec.md changed" in res.stdout


def test_json_and_junit_reports_list_every_problem(project: Path, tmp_path: Path) -> None:
    make_feature(project, UNCOVERED)
    make_feature(project, CYCLIC, name="002-again")
    report = tmp_path / "specflow-junit.xml"
    res = run_cli(["check", "--format", "json", "--report", str(report)], project)
    assert res.code == 1
    data = json.loads(res.stdout)
    assert data["ok"] is False and data["features"] == 2
    assert sorted(p["code"] for p in data["problems"]) == ["graph", "uncovered"]
    assert {"path", "line", "message", "code", "severity"} <= set(data["problems"][0])
    suite = ET.parse(report).getroot()
    assert suite.get("failures") == "2" and suite.get("tests") == "2"
    cases = suite.findall("testcase")
    assert len(cases) == 2
    failures = [c.find("failure") for c in cases]
    assert all(f is not None and f.get("message") for f in failures)
    assert any("specs/002-again/tasks.md" in (c.get("name") or "") for c in cases)


def test_messages_and_paths_are_escaped(project: Path) -> None:
    from specflow.cli.checkout import render_problems
    from specflow.stages.check import Problem

    text = render_problems(
        [Problem("specs/a,b:c.md", 3, "50% done\nsecond line", "parse")], 1, "github"
    )
    first = text.splitlines()[0]
    assert first == (
        "::error file=specs/a%2Cb%3Ac.md,line=3,title=specflow parse::50%25 done%0Asecond line"
    )


def test_annotations_are_relative_to_the_repository_root(git_repo: Path) -> None:
    sub = git_repo / "services" / "api"
    sub.mkdir(parents=True)
    assert run_cli(["init"], sub).code == 0
    git(git_repo, "add", "-A")
    make_feature(sub, CYCLIC)
    res = run_cli(["check", "--format", "github"], sub)
    assert res.code == 1
    [ann] = annotations(res.stdout)
    assert ann["file"] == "services/api/specs/001-login/tasks.md"


@pytest.mark.parametrize("fmt", ["xml", "GITHUB"])
def test_unknown_format_is_bad_usage(project: Path, fmt: str) -> None:
    res = run_cli(["check", "--format", fmt], project)
    assert res.code == 2 and "unknown format" in res.stderr


def test_ci_examples_are_well_formed() -> None:
    import yaml

    from tests.conftest import REPO_ROOT

    workflow = yaml.safe_load((REPO_ROOT / "examples/ci/specflow-check.yml").read_text())
    steps = workflow["jobs"]["specflow-check"]["steps"]
    runs = [s.get("run", "") for s in steps]
    assert "pip install specflow-sdd" in runs
    assert "specflow check --format github --report specflow-junit.xml" in runs
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("actions/checkout@") for u in uses)
    assert any(u.startswith("actions/setup-python@") for u in uses)
    assert any(u.startswith("actions/upload-artifact@") for u in uses)
    [hook] = yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "specflow-check" and hook["entry"] == "specflow check"
    assert hook["pass_filenames"] is False
    config = yaml.safe_load((REPO_ROOT / "examples/ci/pre-commit-config.yaml").read_text())
    assert config["repos"][0]["hooks"][0]["id"] == hook["id"]


def test_warnings_are_annotated_as_warnings_and_do_not_fail(tmp_path: Path) -> None:
    from specflow.cli.checkout import render_problems, write_junit
    from specflow.stages.check import Problem

    problems = [
        Problem("specs/001-x/spec.md", 9, "FR-003 is covered by no task", "uncovered", "warning")
    ]
    text = render_problems(problems, 1, "github")
    assert text.splitlines()[0].startswith("::warning file=specs/001-x/spec.md,line=9,")
    assert text.splitlines()[-1] == "ok: 1 feature(s) checked, no problems, 1 warning(s)"
    plain = render_problems(problems, 1, "text")
    assert plain.splitlines()[0] == "specs/001-x/spec.md:9: warning: FR-003 is covered by no task"
    import json

    assert json.loads(render_problems(problems, 1, "json"))["ok"] is True
    write_junit(problems, 1, str(tmp_path / "j.xml"))
    assert 'failures="0"' in (tmp_path / "j.xml").read_text()
