"""A spec with each lint rule's violation planted exactly once, and where."""

from __future__ import annotations

# (rule, a snippet unique to the planted line)
PLANTED = [
    ("incomplete-scenario", "adds an empty name"),
    ("vague-term", "sync every edit fast"),
    ("no-observable-outcome", "handle offline edits"),
    ("requirement-shape", "Members can rename"),
    ("duplicate-requirement", "FR-006"),
    ("conflicting-requirements", "FR-007"),
    ("technology-in-spec", "PostgreSQL"),
    ("open-clarification", "NEEDS CLARIFICATION"),
    ("passive-voice", "Removed items MUST be archived"),
    ("unmeasurable-criterion", "Members like the shared list"),
]

SPEC = """\
---
specflow:
  artifact: spec
  version: 1
---
# Feature Specification: Shared shopping lists

**Feature Branch**: `007-shared-lists`
**Created**: 2026-12-01

Households keep one shopping list that every member edits, online or not.

## User Scenarios & Testing *(mandatory)*

### User Story 1 - Add an item (Priority: P1)

A member adds an item to the household list, and the others see it.

**Why this priority**: Without adding items there is no list.

**Independent Test**: Add an item on one phone and see it on another.

**Acceptance Scenarios**:

1. **Given** a household list, **When** a member adds "milk", **Then** every member sees "milk" within 5 seconds
2. **Given** a household list, **When** a member adds an empty name

<!-- Template note: keep scenarios short. A fast path is fine here. -->

### Edge Cases

- What happens when two members add the same item at once?
- A member with no network keeps editing; the edits are sent when the phone is back online.

## Requirements *(mandatory)*

### Functional Requirements

- **FR-001**: System MUST show the list to every member of the household.
- **FR-002**: System MUST sync every edit fast to the other members.
- **FR-003**: System MUST handle offline edits.
- **FR-004**: Members can rename the list.
- **FR-005**: System MUST keep removed items for 30 days.
- **FR-006**: System MUST keep removed items for 30 days.
- **FR-007**: System MUST NOT show the list to every member of the household.
- **FR-008**: System MUST store each list in PostgreSQL.
- **FR-009**: System MUST notify members of changes by [NEEDS CLARIFICATION: push, e-mail or both?]
- **FR-010**: Removed items MUST be archived.
- **FR-011**: WHEN a member adds an item, THE SYSTEM SHALL show it to every member within 5 seconds.
- **FR-012**: IF the phone is offline, THEN THE SYSTEM SHALL queue the edit and send it when online.
- **FR-013**: WHILE the list is being edited by two members, THE SYSTEM SHALL show both names.
- **FR-014**: THE SYSTEM SHALL reject item names longer than 200 characters.

```text
- **FR-099**: System MUST be fast (inside a code block: not a requirement)
```

### Key Entities

- **Household**: the members who share one list; a quick way to group people.
- **Item**: a name, a quantity, who added it.

## Success Criteria *(mandatory)*

### Measurable Outcomes

- **SC-001**: 95% of edits reach every member within 5 seconds.
- **SC-002**: Members like the shared list.
- **SC-003**: No edit made offline is lost.
"""


def planted_lines() -> dict[str, int]:
    """rule -> the 1-based line its violation was planted on."""
    lines = SPEC.splitlines()
    out = {}
    for rule, snippet in PLANTED:
        hits = [i + 1 for i, line in enumerate(lines) if snippet in line]
        assert len(hits) == 1, (rule, snippet, hits)
        out[rule] = hits[0]
    return out
