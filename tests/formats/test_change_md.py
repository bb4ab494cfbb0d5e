"""Delta files: requirement items as line ranges, loose lists included (issue 16)."""

from __future__ import annotations

from specflow.formats.change_md import Deltas, apply_deltas, requirement_ranges

SPEC = """\
## Requirements

- **FR-001**: **Add note**: The service SHALL store a note.
  - Scenario: Plain note

    - **WHEN** the user sends "milk"
    - **THEN** the list holds "milk"
- **FR-002**: Users MUST be able
  to delete a note.

- **FR-003**: System MUST keep notes.

  An indented paragraph of FR-003.

A paragraph after the list.
"""


def test_items_span_blank_lines_only_into_deeper_indented_lines() -> None:
    lines = SPEC.split("\n")
    ranges = requirement_ranges(lines)
    assert ranges == {"FR-001": (2, 7), "FR-002": (7, 9), "FR-003": (10, 13)}
    assert lines[ranges["FR-003"][1] - 1] == "  An indented paragraph of FR-003."


def test_modifying_an_item_replaces_its_scenarios_and_keeps_every_other_line() -> None:
    new = "- **FR-001**: **Add note**: The service SHALL store a titled note.\n  - Scenario: Titled"
    out = apply_deltas(SPEC, Deltas(modified={"FR-001": new}, removed={"FR-003": ""}))
    assert "milk" not in out and "  - Scenario: Titled" in out
    assert "FR-003" not in out and "indented paragraph" not in out
    kept = [ln for ln in SPEC.split("\n") if "FR-002" in ln or "delete a note" in ln]
    assert all(ln in out.split("\n") for ln in kept)
    assert out.endswith("\nA paragraph after the list.\n")
