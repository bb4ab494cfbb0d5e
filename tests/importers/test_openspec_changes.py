"""OpenSpec changes to existing capabilities import as specflow change proposals (issue 16).

The fixture `openspec-changes/notes-app` is written for these tests: two capabilities, a change
that adds, modifies (under another spelling of the name) and renames; one that modifies the same
requirement, removes one and modifies a name that does not exist; and one that adds a new
capability while modifying an existing one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from specflow.domain.identity import requirement_hash
from specflow.formats.frontmatter import split_front_matter
from specflow.formats.spec_md import parse_spec
from specflow.formats.tasks_md import parse_tasks
from specflow.importers.model import ImportedFeature
from specflow.importers.openspec import import_openspec
from specflow.importers.openspec_changes import read_renames
from tests.cli.test_change_tasks_drift import sf
from tests.conftest import git
from tests.importers.conftest import FIXTURES

APP = FIXTURES / "openspec-changes" / "notes-app"


def _features() -> dict[str, ImportedFeature]:
    features, _ = import_openspec(APP)
    return {f.slug: f for f in features}


def _text(feature: ImportedFeature, name: str) -> str:
    text = feature.text(name)
    assert text is not None, name
    return text


def _hashes(spec_text: str) -> dict[str, str]:
    _, body = split_front_matter(spec_text)
    spec = parse_spec(body)
    return {r.id: requirement_hash(r.text) for r in spec.requirements}


def test_changes_to_known_capabilities_become_change_folders_with_base_hashes() -> None:
    feats = _features()
    assert sorted(feats) == ["add-export", "notes", "sharing"]  # no feature per change
    notes = feats["notes"]
    assert notes.changes == ["note-titles", "trim-notes"]
    hashes = _hashes(_text(notes, "spec.md"))
    meta, body = split_front_matter(_text(notes, "changes/note-titles/deltas.md"))
    assert meta is not None
    assert meta["base"] == {"FR-001": hashes["FR-001"], "FR-003": hashes["FR-003"]}
    assert "unmatched" not in meta
    # MODIFIED "add note" matched "Add note" (FR-001) and keeps the capability's spelling
    assert (
        "- **FR-001**: **Add note**: The service SHALL store a note the user sends, with an "
        in body
    )
    assert "  - Scenario: Titled note" in body
    # RENAMED keeps the id: a MODIFIED requirement with the new name and the old text
    assert "- **FR-003**: **Persist notes**: The service SHALL keep notes across restarts." in body
    assert "- **FR-004**: **Note titles**:" in body  # ADDED: the next free id
    files = notes.files
    assert {"changes/note-titles/proposal.md", "changes/note-titles/design.md"} <= set(files)
    tasks = parse_tasks(_text(notes, "changes/note-titles/tasks.md"))
    assert next(t.title for t in tasks.all_tasks()).startswith("Add a title column")


def test_an_unmatched_name_is_kept_aside_and_warned_about() -> None:
    notes = _features()["notes"]
    meta, body = split_front_matter(_text(notes, "changes/trim-notes/deltas.md"))
    assert meta is not None
    assert meta["unmatched"] == ["MODIFIED 'Archive note'"]
    assert set(meta["base"]) == {"FR-001", "FR-002"}
    head, _, aside = body.partition("## Not matched (from OpenSpec)")
    assert "- **FR-002**: REMOVED: **Delete note**" in head
    assert "- **Archive note**: The service SHALL archive a note" in aside
    [warning] = notes.warnings
    assert "change trim-notes: MODIFIED 'Archive note' matches no requirement of notes" in warning


def test_a_change_adding_a_capability_stays_a_feature_and_changes_the_known_one() -> None:
    feats = _features()
    export = feats["add-export"]
    spec = parse_spec(_text(export, "spec.md"))
    assert [r.text.split("**")[1] for r in spec.requirements] == ["Markdown export"]
    assert export.tasks
    sharing = feats["sharing"]
    assert sharing.changes == ["add-export"]
    assert "changes/add-export/tasks.md" not in sharing.files
    _, body = split_front_matter(_text(sharing, "changes/add-export/deltas.md"))
    assert (
        "- **FR-001**: **Share link**: The service SHALL make a read-only link for a note, " in body
    )


def test_renames_are_read_in_their_usual_spellings() -> None:
    text = "\n".join(
        [
            "## RENAMED Requirements",
            "- FROM: `### Requirement: Old one`",
            "- TO: `### Requirement: New one`",
            "- **FROM**: Second",
            "- **TO**: Second, renamed",
            "## ADDED Requirements",
            "- FROM: `### Requirement: not a rename`",
        ]
    )
    assert read_renames(text) == [("Old one", "New one"), ("Second", "Second, renamed")]


def test_imported_changes_are_checked_and_applied_by_the_installed_cli(git_repo: Path) -> None:
    assert sf(git_repo, "init").returncode == 0
    res = sf(git_repo, "import", str(APP))
    assert res.returncode == 0, res.stderr
    assert "change note-titles: specs/002-notes/changes/note-titles/" in res.stdout
    assert "warning: change trim-notes: MODIFIED 'Archive note'" in res.stdout
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "import")
    res = sf(git_repo, "check")
    assert res.returncode == 1
    assert "FR-001 is changed by 2 open changes: note-titles, trim-notes" in res.stdout
    assert "change trim-notes: MODIFIED 'Archive note' matches no requirement" in res.stdout
    spec = git_repo / "specs" / "002-notes" / "spec.md"
    before = spec.read_text()
    res = sf(git_repo, "change", "apply", "trim-notes", "2")
    assert res.returncode == 1 and "'Archive note' matches no requirement" in res.stderr
    assert spec.read_text() == before
    res = sf(git_repo, "change", "apply", "note-titles", "2")
    assert res.returncode == 0, res.stderr
    after = spec.read_text()
    assert after.startswith("---\nimported:\n")  # the import's front matter stays
    kept = [ln for ln in before.splitlines() if "FR-002" in ln or "note 3" in ln]
    assert kept and all(ln in after.splitlines() for ln in kept)
    assert "**Persist notes**" in after and "**FR-004**" in after
    res = sf(git_repo, "check")
    assert res.returncode == 1  # trim-notes was made against the old FR-001
    assert "change trim-notes: FR-001 changed since the change was made" in res.stdout
    # someone gives 'Archive note' an id: the check then asks for its base, naming the hash
    deltas = git_repo / "specs" / "002-notes" / "changes" / "trim-notes" / "deltas.md"
    text = deltas.read_text().replace("unmatched:\n- MODIFIED 'Archive note'\n", "")
    text = text.replace(
        "## MODIFIED Requirements\n", "## MODIFIED Requirements\n\n- **FR-003**: x\n"
    )
    deltas.write_text(text)
    res = sf(git_repo, "check")
    fr3 = _hashes(spec.read_text())["FR-003"]
    assert (
        f"FR-003 records no base hash (if the change was written against the spec as it is now, add 'FR-003: {fr3}' under 'base:' in deltas.md)"
        in res.stdout
    )
    assert "Archive note" not in res.stdout


LATER = {
    "proposal.md": "# Change: Soft delete\n\n## Why\nDeleted notes should be recoverable.\n",
    "specs/notes/spec.md": """\
# notes Spec Delta

## MODIFIED Requirements

### Requirement: Delete note
The service SHALL move a deleted note to the bin for 30 days.

## RENAMED Requirements

- FROM: `### Requirement: Add note`
- TO: `### Requirement: Create note`
""",
}


def test_a_later_change_lands_in_the_feature_imported_before(
    git_repo: Path, tmp_path: Path
) -> None:
    assert sf(git_repo, "init").returncode == 0
    assert sf(git_repo, "import", str(APP)).returncode == 0
    notes = git_repo / "specs" / "002-notes"
    for name in ("note-titles", "trim-notes"):  # both applied or dropped meanwhile
        shutil.rmtree(notes / "changes" / name)
    spec = notes / "spec.md"
    spec.write_text(spec.read_text().replace("across restarts", "across restarts and updates"))
    later = tmp_path / "soft-delete"
    for rel, text in LATER.items():
        (later / rel).parent.mkdir(parents=True, exist_ok=True)
        (later / rel).write_text(text)
    res = sf(git_repo, "import", str(later))
    assert res.returncode == 0, res.stderr
    assert "specs/002-notes/changes/soft-delete/  (a change to this existing feature)" in res.stdout
    assert sorted(p.name for p in (git_repo / "specs").iterdir() if p.is_dir()) == [
        "001-add-export",
        "002-notes",
        "003-sharing",
    ]  # no new feature
    meta, body = split_front_matter((notes / "changes" / "soft-delete" / "deltas.md").read_text())
    assert meta is not None
    now = _hashes(spec.read_text())
    assert meta["base"] == {"FR-001": now["FR-001"], "FR-002": now["FR-002"]}
    assert "- **FR-001**: **Create note**: The service SHALL store a note the user sends." in body
    assert "  - Scenario: Plain note" in body  # a rename keeps the requirement as it stands
    res = sf(git_repo, "change", "apply", "soft-delete", "2")
    assert res.returncode == 0, res.stderr
    assert "move a deleted note to the bin" in spec.read_text()
    res = sf(git_repo, "import", str(later))  # once only: nothing half-written
    assert res.returncode == 2 and "nothing was written" in res.stderr
    assert not (notes / "changes" / "soft-delete").exists()
