"""Issue 16 as a user meets it: requirement identity, drift after `implement`, change proposals
with base hashes, and `specify --update`.

The real CLI, real git repositories, a real `cmd:` agent for `implement`, and a local model stub
that records every request — so "no model call" is checked, not assumed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from specflow.domain.identity import requirement_hash
from tests.conftest import git, run_cli

SPEC = """\
# Feature Specification: Notes

## Requirements

### Functional Requirements

- **FR-001**: Users MUST be able to add a note.
- **FR-002**: Users MUST be able to delete a note.
- **FR-003**: System MUST keep notes across restarts.
"""

TASKS = """\
# Tasks: Notes

## Phase 1: Core

- [ ] T001 Add a note per FR-001
- [ ] T002 Delete a note (FR-002)
- [ ] T003 Keep notes (FR-003)
"""

AGENT = """\
import os, pathlib
task = os.environ["SPECFLOW_TASK_ID"]
pathlib.Path(f"{task}.py").write_text(f"# {task}\\n")
"""


def ok(res: Any) -> Any:
    assert res.code == 0, (res.stdout, res.stderr)
    return res


def _feature(root: Path) -> Path:
    feature = root / "specs" / "001-notes"
    feature.mkdir(parents=True)
    (feature / "spec.md").write_text(SPEC)
    (feature / "tasks.md").write_text(TASKS)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "notes spec")
    return feature


@pytest.fixture
def implemented(project: Path) -> Path:
    """A feature implemented through `implement` with a cmd: agent, merged into main."""
    _feature(project)
    agent = project.parent / "agent.py"
    agent.write_text(AGENT)
    ok(run_cli(["implement", "1", "--agent", f"cmd:{sys.executable} {agent}"], project))
    if not (project / "T002.py").exists():  # the run's integration branch, merged by hand
        branch = git(project, "for-each-ref", "--format=%(refname:short)", "refs/heads/specflow")
        git(project, "merge", "-q", "--no-edit", branch.split()[0])
    git(project, "add", "-A")
    git(project, "commit", "-qm", "after implement", "--allow-empty")
    return project


def _drift(project: Path) -> dict[str, Any]:
    res = ok(run_cli(["drift", "1", "--json"], project))
    [feat] = json.loads(res.stdout)["features"]
    return {r["id"]: r for r in feat["requirements"]}


# -- 1. identity ----------------------------------------------------------------------------


def test_hash_ignores_wrapping_emphasis_and_order_but_not_meaning() -> None:
    a = requirement_hash("Users MUST be able to **add** a note.")
    assert a == requirement_hash("Users  MUST be able\n  to add a  note.")
    assert a == requirement_hash("Users *MUST* be able to `add` a note.")
    assert a != requirement_hash("Users MUST be able to add two notes.")


def test_specify_records_requirement_hashes_in_front_matter(project: Path, stub: Any) -> None:
    (project / "feature.md").write_text("# Unit converter\n\nConvert units.\n")
    ok(run_cli(["specify", "feature.md", "--model", "openai/stub"], project))
    spec = next((project / "specs").glob("001-*")) / "spec.md"
    from specflow.formats.frontmatter import split_front_matter

    meta, _ = split_front_matter(spec.read_text())
    assert meta is not None
    recorded = meta["specflow"]["requirements"]
    assert recorded and all(k.startswith(("FR-", "SC-")) for k in recorded)
    req = stub.answers["specify"]["requirements"][0]
    assert recorded[req["id"]] == requirement_hash(req["text"])


# -- 2. drift --------------------------------------------------------------------------------


def test_hand_commit_on_a_task_file_is_drift_under_that_requirement_only(
    implemented: Path, stub: Any
) -> None:
    before = _drift(implemented)
    assert {r["status"] for r in before.values()} == {"ok"}
    assert before["FR-002"]["files"] == ["T002.py"]
    (implemented / "T002.py").write_text("# changed by hand\n")
    git(implemented, "commit", "-qam", "quick fix in delete")
    reqs = _drift(implemented)
    assert reqs["FR-002"]["status"] == "code-moved"
    [later] = reqs["FR-002"]["later"]
    assert later["subject"] == "quick fix in delete" and later["files"] == ["T002.py"]
    assert reqs["FR-001"]["status"] == reqs["FR-003"]["status"] == "ok"
    text = ok(run_cli(["drift", "1"], implemented)).stdout
    assert "code moved" in text and "quick fix in delete" in text
    res = run_cli(["check", "--drift", "--format", "github"], implemented)
    assert res.code == 1
    [line] = [ln for ln in res.stdout.splitlines() if ln.startswith("::error")]
    assert "FR-002" in line and "spec.md,line=8" in line
    assert ok(run_cli(["check"], implemented))  # without --drift: not a check failure
    assert stub.server.requests == []  # drift and check ask no model


def test_spec_edit_after_merge_is_spec_ahead_and_rewrap_is_nothing(
    implemented: Path, stub: Any
) -> None:
    spec = implemented / "specs" / "001-notes" / "spec.md"
    text = spec.read_text()
    rewrapped = text.replace(
        "- **FR-001**: Users MUST be able to add a note.",
        "- **FR-001**: Users MUST be able\n  to *add* a note.",
    )
    spec.write_text(rewrapped)
    git(implemented, "commit", "-qam", "rewrap FR-001")
    assert {r["status"] for r in _drift(implemented).values()} == {"ok"}
    spec.write_text(rewrapped.replace("keep notes across restarts", "keep notes for a year"))
    git(implemented, "commit", "-qam", "FR-003: a year")
    reqs = _drift(implemented)
    assert reqs["FR-003"]["status"] == "spec-ahead"
    assert reqs["FR-001"]["status"] == reqs["FR-002"]["status"] == "ok"
    res = run_cli(["check", "--drift"], implemented)
    assert res.code == 1 and "FR-003 is spec-ahead-of-code" in res.stdout
    assert stub.server.requests == []


# -- 3. change proposals ---------------------------------------------------------------------


def _modify_fr001(project: Path, name: str, text: str) -> Path:
    ok(run_cli(["change", "new", name, "1", "--modify", "FR-001"], project))
    deltas = project / "specs" / "001-notes" / "changes" / name / "deltas.md"
    old = "- **FR-001**: Users MUST be able to add a note."
    assert old in deltas.read_text()
    deltas.write_text(deltas.read_text().replace(old, f"- **FR-001**: {text}"))
    return deltas


def test_two_changes_to_one_requirement_fail_check_and_the_second_apply_is_refused(
    project: Path, stub: Any
) -> None:
    feature = _feature(project)
    _modify_fr001(project, "titles", "Users MUST be able to add a note with a title.")
    _modify_fr001(project, "tags", "Users MUST be able to add a note with tags.")
    ok(run_cli(["status"], project))  # a change folder is not a feature
    res = run_cli(["check"], project)
    assert res.code == 1
    assert "FR-001 is changed by 2 open changes: tags, titles" in res.stdout
    before = (feature / "spec.md").read_text()
    ok(run_cli(["change", "apply", "titles", "1"], project))
    after = (feature / "spec.md").read_text()
    assert "- **FR-001**: Users MUST be able to add a note with a title." in after
    old_lines, new_lines = before.splitlines(), after.splitlines()
    assert [a for a, b in zip(old_lines, new_lines) if a != b] == [old_lines[6]]
    assert not (feature / "changes" / "titles").exists()
    assert list((feature / "changes" / "archive").glob("*-titles/deltas.md"))
    res = run_cli(["change", "apply", "tags", "1"], project)
    assert res.code == 1 and "FR-001 changed since the change was made" in res.stderr
    assert (feature / "spec.md").read_text() == after  # nothing half-written
    res = run_cli(["check"], project)
    assert res.code == 1 and "change tags: FR-001 changed since" in res.stdout
    assert stub.server.requests == []


def test_added_removed_renamed_keep_every_other_line(project: Path) -> None:
    feature = _feature(project)
    args = ["--remove", "FR-002", "--rename", "FR-003=FR-005"]
    ok(run_cli(["change", "new", "tidy", "1", *args], project))
    deltas = feature / "changes" / "tidy" / "deltas.md"
    text = deltas.read_text()
    text = text.replace(
        "## ADDED Requirements\n",
        "## ADDED Requirements\n\n- **FR-004**: Users MUST be able to search notes.\n",
    )
    deltas.write_text(text)
    ok(run_cli(["check"], project))
    ok(run_cli(["change", "apply", "tidy", "1"], project))
    spec = (feature / "spec.md").read_text()
    assert "FR-002" not in spec
    assert "- **FR-005**: System MUST keep notes across restarts." in spec
    assert spec.index("FR-004") > spec.index("FR-005")
    assert "- **FR-001**: Users MUST be able to add a note.\n" in spec


def test_bad_change_names_and_ids_are_input_errors(project: Path) -> None:
    feature = _feature(project)
    res = run_cli(["change", "new", "Bad Name", "1"], project)
    assert res.code == 2 and "bad change name" in res.stderr
    res = run_cli(["change", "new", "x", "1", "--modify", "FR-009"], project)
    assert res.code == 2 and "FR-009 is not a requirement" in res.stderr
    assert not (feature / "changes").exists()
    res = run_cli(["change", "apply", "nope", "1"], project)
    assert res.code == 2 and "no open change 'nope'" in res.stderr


# -- 4. specify --update ---------------------------------------------------------------------


def test_specify_update_changes_one_requirement_and_keeps_every_other_line(
    project: Path, stub: Any
) -> None:
    (project / "feature.md").write_text("# Unit converter\n\nConvert units.\n")
    ok(run_cli(["specify", "feature.md", "--model", "openai/stub"], project))
    spec = next((project / "specs").glob("001-*")) / "spec.md"
    from specflow.formats.frontmatter import split_front_matter

    _, before = split_front_matter(spec.read_text())
    target = stub.answers["specify"]["requirements"][1]["id"]
    new_text = "System MUST convert between metric and imperial units, both ways."
    stub.answers["specify"] = {
        "summary": "both ways",
        "modified": [{"id": target, "text": new_text}],
    }
    n = len(stub.server.requests)
    res = ok(
        run_cli(
            ["specify", "--update", "1", "convert both ways", "--model", "openai/stub"], project
        )
    )
    assert len(stub.server.requests) == n + 1  # one model call
    assert f"{target} modified" in res.stdout
    meta, after = split_front_matter(spec.read_text())
    assert meta is not None
    old_lines, new_lines = before.splitlines(), after.splitlines()
    assert len(old_lines) == len(new_lines)
    changed = [(a, b) for a, b in zip(old_lines, new_lines) if a != b]
    assert changed == [(changed[0][0], f"- **{target}**: {new_text}")]
    assert f"**{target}**" in changed[0][0]
    assert meta["specflow"]["requirements"][target] == requirement_hash(new_text)
    # the update's model call is recorded like any generation's (for `specflow cost`)
    assert meta["specflow"]["model"] == "openai/stub" and meta["specflow"]["usage"]
    prompt = stub.prompts("specify")[-1]
    assert "## Change request\n\nconvert both ways" in prompt and new_text not in prompt
    res = run_cli(["specify", "--update", "1", "--model", "openai/stub"], project)
    assert res.code == 2 and "--update needs the change request" in res.stderr
