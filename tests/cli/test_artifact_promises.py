"""Issue 13 as a user meets it: real input diffs, an enforced constitution, template overrides,
requirement coverage end to end, and replay that refuses a recording made for other inputs.

The real CLI against a schema-aware model stub (a local OpenAI-compatible server answering
each stage with an object of that stage's schema) and real git repositories.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT, git, run_cli, snapshot
from tests.support.stage_stub import SchemaStub, m, stub_project
from tests.support.stub_llm import StubLLM

RECORDING = REPO_ROOT / "examples" / "unitconv" / "recording.jsonl"


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Any:
    with StubLLM() as server:
        for k, v in server.env().items():
            monkeypatch.setenv(k, v)
        yield SchemaStub(server)


@pytest.fixture
def proj(project: Path) -> Path:
    return stub_project(project)


def ok(res: Any) -> Any:
    assert res.code == 0, (res.stdout, res.stderr)
    return res


def feature_dir(proj: Path) -> Path:
    return next((proj / "specs").glob("001-*"))


NEW_FR = "- **FR-004**: System MUST keep a history of the last ten conversions."


def _three_requirement_spec(stub: SchemaStub) -> None:
    spec = stub.answers["specify"]
    spec["requirements"] = spec["requirements"][:3]


def _add_fr004(feature: Path) -> None:
    spec = feature / "spec.md"
    text = spec.read_text()
    anchor = "- **FR-003**"
    at = text.index(anchor)
    end = text.index("\n", at)
    spec.write_text(text[: end + 1] + NEW_FR + "\n" + text[end + 1 :])


# -- 1. the input diff ---------------------------------------------------------------------


def test_plan_after_a_hand_edit_gets_a_diff_with_the_new_requirement(proj: Path, stub: Any) -> None:
    _three_requirement_spec(stub)
    ok(run_cli(m("specify", "feature.md"), proj))
    ok(run_cli(m("plan"), proj))
    feature = feature_dir(proj)
    git(proj, "add", "-A")
    git(proj, "commit", "-qm", "specs")
    _add_fr004(feature)
    ok(run_cli(m("plan"), proj))
    prompt = stub.prompts("plan")[-1]
    diff = prompt.split("```diff", 1)[1].split("```", 1)[0]
    assert "--- a/spec.md" in diff and f"+{NEW_FR}" in diff
    assert "no diff" not in prompt


def test_diff_found_in_git_history_when_local_state_is_gone(proj: Path, stub: Any) -> None:
    """A fresh clone has no .specflow/: the committed version is found by its hash in git."""
    _three_requirement_spec(stub)
    ok(run_cli(m("specify", "feature.md"), proj))
    ok(run_cli(m("plan"), proj))
    git(proj, "add", "-A")
    git(proj, "commit", "-qm", "specs")
    shutil.rmtree(proj / ".specflow" / "inputs")
    feature = feature_dir(proj)
    _add_fr004(feature)
    git(proj, "commit", "-qam", "FR-004")
    # and then a checkout of another branch does not lose it either
    git(proj, "checkout", "-q", "-b", "other")
    ok(run_cli(m("plan"), proj))
    assert f"+{NEW_FR}" in stub.prompts("plan")[-1]


def test_prompt_says_plainly_when_no_diff_can_be_had(proj: Path, stub: Any) -> None:
    _three_requirement_spec(stub)
    ok(run_cli(m("specify", "feature.md"), proj))
    ok(run_cli(m("plan"), proj))  # never committed, and the kept copies are removed
    shutil.rmtree(proj / ".specflow" / "inputs")
    _add_fr004(feature_dir(proj))
    ok(run_cli(m("plan"), proj))
    prompt = stub.prompts("plan")[-1]
    assert "no diff for spec.md" in prompt and "kept nowhere" in prompt


# -- 2. the constitution -------------------------------------------------------------------


def _failing_gate(stub: SchemaStub) -> None:
    stub.answers["plan"]["constitution_check"][2] = {
        "gate": "No new dependency without a reason",
        "status": "fail",
        "note": "adds pint for unit tables",
    }


def test_plan_with_a_failing_gate_is_written_marked_and_fails_check(proj: Path, stub: Any) -> None:
    ok(run_cli(m("specify", "feature.md"), proj))
    _failing_gate(stub)
    res = run_cli(m("plan"), proj)
    assert res.code == 1
    assert "No new dependency without a reason" in res.stderr and "plan.md:" in res.stderr
    plan = feature_dir(proj) / "plan.md"
    assert plan.is_file()  # the model's work is kept for a person to fix
    line = next(i for i, ln in enumerate(plan.read_text().splitlines(), 1) if "| FAIL |" in ln)
    res = run_cli(["check"], proj)
    assert res.code == 1
    assert f"plan.md:{line}: constitution gate 'No new dependency without a reason'" in res.stdout
    status = run_cli(["status"], proj).stdout
    assert "violates the constitution" in status
    js = json.loads(run_cli(["status", "--json"], proj).stdout)
    assert js["features"][0]["artifacts"][1]["violations"]
    # tasks refuses to build on it
    res = run_cli(m("tasks"), proj)
    assert res.code == 2 and "Complexity Tracking" in res.stderr


def test_a_justified_failing_gate_passes(proj: Path, stub: Any) -> None:
    ok(run_cli(m("specify", "feature.md"), proj))
    _failing_gate(stub)
    stub.answers["plan"]["complexity_tracking"] = [
        {
            "violation": "No new dependency without a reason",
            "why_needed": "exact unit tables are maintained upstream",
            "simpler_alternative_rejected": "hand-written tables drift",
        }
    ]
    ok(run_cli(m("plan"), proj))
    assert "## Complexity Tracking" in (feature_dir(proj) / "plan.md").read_text()
    ok(run_cli(["check"], proj))


def test_hand_written_plan_with_a_failing_gate_fails_check(proj: Path, stub: Any) -> None:
    ok(run_cli(m("specify", "feature.md"), proj))
    plan = feature_dir(proj) / "plan.md"
    plan.write_text(
        "# Implementation Plan: X\n\n## Constitution Check\n\n"
        "| Principle | Status | Notes |\n|---|---|---|\n"
        "| I. Tests first | ✅ PASS | yes |\n| II. Simplicity | ❌ FAIL | three services |\n\n"
        "## Complexity Tracking\n\n| Violation | Why Needed | Simpler Alternative |\n|---|---|---|\n"
        "| Tests first | | |\n"
    )
    res = run_cli(["check", "--format", "json"], proj)
    assert res.code == 1
    found = [p for p in json.loads(res.stdout)["problems"] if p["code"] == "constitution"]
    assert [(p["line"], "II. Simplicity" in p["message"]) for p in found] == [(8, True)]


# -- 3. template overrides -----------------------------------------------------------------


def test_project_override_of_the_tasks_artifact_template(proj: Path, stub: Any) -> None:
    builtin = (REPO_ROOT / "templates" / "artifacts" / "tasks.md.j2").read_text()
    override = proj / ".specflow" / "templates" / "artifacts" / "tasks.md.j2"
    override.parent.mkdir(parents=True)
    override.write_text(
        builtin.replace(
            "# Tasks: {{ tasklist.title }}",
            "# Tasks: {{ tasklist.title }}\n\n> Team ACME task list",
        )
    )
    ok(run_cli(m("specify", "feature.md"), proj))
    ok(run_cli(m("plan"), proj))
    ok(run_cli(m("tasks"), proj))
    text = (feature_dir(proj) / "tasks.md").read_text()
    assert "> Team ACME task list" in text
    from specflow.formats.frontmatter import split_front_matter
    from specflow.fsutil import sha256_text

    meta, _ = split_front_matter(text)
    assert meta is not None
    templates = meta["specflow"]["templates"]
    assert templates["artifacts/tasks.md.j2"] == sha256_text(override.read_text())
    assert {"prompts/system.md.j2", "prompts/tasks.md.j2", "prompts/_context.md.j2"} <= set(
        templates
    )
    ok(run_cli(["check"], proj))


# -- 4. coverage ---------------------------------------------------------------------------

SPECKIT_SPEC = """\
# Feature Specification: Notes

## Requirements

### Functional Requirements

- **FR-001**: Users MUST be able to add a note.
- **FR-002**: Users MUST be able to delete a note.
- **FR-003**: System MUST keep notes across restarts.
"""

SPECKIT_TASKS = """\
# Tasks: Notes

## Phase 1: Core

- [ ] T001 Add a note per FR-001 in notes/add.py
- [ ] T002 Delete a note (FR-002) in notes/delete.py
"""


def _speckit_feature(root: Path, tasks: str = SPECKIT_TASKS) -> Path:
    feature = root / "specs" / "001-notes"
    feature.mkdir(parents=True)
    (feature / "spec.md").write_text(SPECKIT_SPEC)
    (feature / "tasks.md").write_text(tasks)
    return feature


def test_spec_kit_tasks_without_covers_get_uncovered_requirements_reported(project: Path) -> None:
    _speckit_feature(project)
    res = run_cli(["check"], project)
    assert res.code == 0, res.stdout  # a warning: coverage was read from the task text
    assert "specs/001-notes/spec.md:9: warning: FR-003 is covered by no task" in res.stdout
    assert "ids named in task text" in res.stdout
    res = run_cli(["check", "--strict", "--format", "json"], project)
    assert res.code == 1
    [p] = json.loads(res.stdout)["problems"]
    assert (p["code"], p["severity"]) == ("uncovered", "error")


def test_with_covers_an_uncovered_requirement_is_an_error(project: Path) -> None:
    _speckit_feature(project, SPECKIT_TASKS + "  - covers: FR-002\n")
    res = run_cli(["check"], project)
    assert res.code == 1 and "FR-003 is covered by no task" in res.stdout
    assert "warning:" not in res.stdout


AGENT = """\
import os, pathlib
task = os.environ["SPECFLOW_TASK_ID"]
pathlib.Path(f"{task}.txt").write_text(task + " done\\n")
"""


def test_coverage_lists_requirements_tasks_and_commits_after_implement(project: Path) -> None:
    _speckit_feature(project)
    git(project, "add", "-A")
    git(project, "commit", "-qm", "notes spec")
    agent = project.parent / "agent.py"
    agent.write_text(AGENT)
    res = run_cli(["implement", "1", "--agent", f"cmd:{sys.executable} {agent}"], project)
    assert res.code == 0, res.stderr
    res = ok(run_cli(["coverage", "--json"], project))
    [feat] = json.loads(res.stdout)["features"]
    assert feat["source"].startswith("ids named in task text")
    reqs = {r["id"]: r for r in feat["requirements"]}
    assert feat["uncovered"] == ["FR-003"]
    [t1] = reqs["FR-001"]["tasks"]
    assert (t1["id"], t1["state"], t1["how"]) == ("T001", "merged", "text")
    [commit] = t1["commits"]
    run_id = commit["run"]
    assert run_id and (project / ".specflow" / "runs" / run_id).is_dir()
    body = git(project, "log", "-1", "--format=%B", commit["sha"])
    assert "Specflow-Task: T001" in body and t1["runs"] == [run_id]
    text = ok(run_cli(["coverage", "1"], project)).stdout
    assert "FR-001" in text and "T001 merged" in text and commit["sha"][:10] in text
    assert "FR-003" in text and "(covered by no task)" in text


# -- 5. replay -----------------------------------------------------------------------------


def test_specify_with_a_recording_for_another_feature_writes_nothing(project: Path) -> None:
    (project / "todo.md").write_text("# Todo list\n\nA todo list with due dates.\n")
    before = snapshot(project)
    res = run_cli(["specify", "todo.md", "--model", f"replay:{RECORDING}"], project)
    assert res.code != 0
    assert "specify" in res.stderr and "feature.md line 1" in res.stderr
    assert "'# Todo list'" in res.stderr
    assert snapshot(project) == before


def test_replay_answers_by_stage_when_only_the_prompt_changed(project: Path) -> None:
    """The demo's case: a prompt template edited since recording, same inputs: answered."""
    prompts = project / ".specflow" / "templates" / "prompts"
    prompts.mkdir(parents=True)
    builtin = (REPO_ROOT / "templates" / "prompts" / "specify.md.j2").read_text()
    (prompts / "specify.md.j2").write_text("Be brief.\n\n" + builtin)
    shutil.copy(REPO_ROOT / "examples" / "unitconv" / "feature.md", project / "feature.md")
    ok(run_cli(["specify", "feature.md", "--model", f"replay:{RECORDING}"], project))
