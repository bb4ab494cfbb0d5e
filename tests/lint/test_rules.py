"""Every rule fires exactly where its violation was planted, and nowhere else."""

from __future__ import annotations

import pytest

from specflow.lint.checks import Finding, lint_text
from specflow.lint.rules import RULES
from specflow.lint.run import settings_for
from tests.lint.planted import SPEC, planted_lines


def lint(text: str) -> list[Finding]:
    return lint_text(text, "spec.md", settings_for(None))


def test_each_rule_fires_once_where_planted() -> None:
    found = {(f.rule, f.line) for f in lint(SPEC)}
    expected = {(rule, line) for rule, line in planted_lines().items()}
    assert found == expected
    assert {r for r, _ in expected} == set(RULES)  # every rule is planted


def test_findings_point_at_the_word() -> None:
    lines = SPEC.splitlines()
    for f in lint(SPEC):
        if f.end_column is not None:
            word = lines[f.line - 1][f.column - 1 : f.end_column - 1]
            assert word in ("fast", "PostgreSQL") or word.startswith("[NEEDS CLARIFICATION")
        assert f.hint == RULES[f.rule].hint and f.severity == RULES[f.rule].severity


@pytest.mark.parametrize(
    "line",
    [
        "THE SYSTEM SHALL reject names longer than 200 characters.",
        "WHEN a member adds an item THEN the system SHALL show it to every member",
        "WHEN a member adds an item, THE SYSTEM SHALL show it to every member.",
        "IF the phone is offline, THEN THE SYSTEM SHALL queue the edit.",
        "WHILE offline, the app SHALL show a banner saying so.",
        "WHERE sharing is enabled, THE SYSTEM SHALL list the members.",
        "System MUST show the list to every member.",
        "Users MUST be able to delete their account.",
        "The system SHOULD NOT send more than one e-mail a day.",
    ],
)
def test_recognised_shapes_are_clean(line: str) -> None:
    doc = f"# Feature Specification: X\n\n## Requirements\n\n- {line}\n"
    assert lint(doc) == []


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("WHEN a member opens the list", "WHEN clause has no SHALL/MUST"),
        ("The app will show the list.", "says 'will'"),
        ("A list per household.", "has no SHALL or MUST"),
        ("MUST show the list.", "names no actor"),
    ],
)
def test_shapes_not_recognised(line: str, says: str) -> None:
    doc = f"# X\n\n## Requirements\n\n- {line}\n"
    (f,) = lint(doc)
    assert f.rule == "requirement-shape" and says in f.message and f.line == 5


def test_kiro_requirements_document() -> None:
    doc = """# Requirements Document

## Introduction

Shared lists for households.

## Requirements

### Requirement 1

**User Story:** As a member, I want to add items, so that everyone sees them.

#### Acceptance Criteria

1. WHEN a member adds an item THEN the system SHALL show it to every member within 5 seconds
2. IF the name is empty THEN the system SHALL refuse the item and say why
3. WHEN a member removes an item THEN the system SHALL handle it
4. WHEN a member renames an item
"""
    found = [(f.line, f.rule) for f in lint(doc)]
    assert found == [(17, "no-observable-outcome"), (18, "requirement-shape")]


def test_openspec_requirements_and_scenarios() -> None:
    doc = """## ADDED Requirements

### Requirement: Item history
The system SHALL keep removed items for 30 days.

#### Scenario: Restore an item
- **WHEN** a member restores a removed item
- **THEN** the item is back on the list

#### Scenario: Expired item
- **WHEN** an item was removed 31 days ago
"""
    found = [(f.line, f.rule, f.message) for f in lint(doc)]
    assert found == [(10, "incomplete-scenario", "scenario has no Then part")]


def test_prose_code_and_comments_are_not_read() -> None:
    doc = """# X

The old system was slow and not user-friendly; we want it fast.

<!-- FR-001: System MUST be fast [NEEDS CLARIFICATION: template example] -->

```
- **FR-002**: System MUST use Redis [NEEDS CLARIFICATION: x]
```

- **FR-003**: System MUST print the `--fast` flag's help when asked.
"""
    assert lint(doc) == []


def test_vague_words_match_whole_words_only() -> None:
    doc = """# X

## Requirements

- **FR-001**: System MUST show breakfast items and high-quality-score tags first.
- **FR-002**: System MUST respond quickly, etc.
"""
    found = [(f.line, f.column, f.message.split("'")[1]) for f in lint(doc)]
    assert found == [(6, 35, "quickly"), (6, 44, "etc.")]


def test_case_sensitive_technology_names() -> None:
    doc = """# X

## Requirements

- **FR-001**: System MUST let members go back and react to changes.
- **FR-002**: System MUST offer a Go client library.
"""
    assert [(f.line, f.rule) for f in lint(doc)] == [(6, "technology-in-spec")]


def test_conflict_needs_the_same_condition() -> None:
    doc = """# X

## Requirements

- WHEN the list is shared, THE SYSTEM SHALL show the owner's name.
- WHEN the list is private, THE SYSTEM SHALL NOT show the owner's name.
- WHEN the list is shared, THE SYSTEM SHALL NOT show the owner's name.
"""
    found = [(f.line, f.rule) for f in lint(doc)]
    assert found == [(7, "conflicting-requirements")]


def test_any_markdown_is_read_without_error() -> None:
    for doc in [
        "",
        "no heading at all",
        "# only\n",
        "- **FR-1**\n",
        "## Requirements\n-\n",
        "\x0c",
    ]:
        assert isinstance(lint(doc), list)


def test_real_spec_habits() -> None:
    """Habits seen in real specs that are not violations."""
    doc = """# Feature Specification: Wallets

## User Scenarios & Testing

**Acceptance Scenarios**:

1. **Given** a wallet, **When** `GET /wallets/{id}`, **Then** `200 OK`
2. **Given** a new account, **When** it registers, **Then**:
   - a wallet is created
   - a welcome e-mail is sent

## Requirements

- **FR-001**: Tables MAY cut cell content after 40 characters with an ellipsis.
- **FR-002**: System MUST return `401` with code `ACCOUNT_LOCKED` if the account is `LOCKED`.
- **FR-003**: System MUST return `401` with code `ACCOUNT_CLOSED` if the account is `CLOSED`.
- **FR-004**: El sistema DEBE rechazar importes negativos.

## Review & Acceptance Checklist

### Requirement Completeness

- [x] No [NEEDS CLARIFICATION] markers remain
- [ ] Requirements are testable and unambiguous
"""
    assert lint(doc) == []


def test_non_latin_specs_get_only_language_neutral_rules() -> None:
    doc = """# 要件

## Requirements

1. タスクが作成されたとき、システムはタスクに一意のIDを割り当てること
2. タスクは `PostgreSQL` ではなく [NEEDS CLARIFICATION: 保存先は?] に保存すること
"""
    assert [(f.line, f.rule) for f in lint(doc)] == [(6, "open-clarification")]


def test_quantified_vague_words_and_zero_error_criteria() -> None:
    doc = """# X

## Requirements

- **FR-001**: System MUST cut titles to a reasonable length (50 characters at most).
- **FR-002**: System MUST sign tokens with a secure key (`RS256`).
- **FR-003**: System MUST answer fast (see the table below).

## Success Criteria

- **SC-001**: The app starts without errors on a fresh checkout.
"""
    assert [(f.line, f.rule) for f in lint(doc)] == [(7, "vague-term")]


def test_openspec_scenario_titles_are_not_scenario_text() -> None:
    doc = """### Requirement: Validation
The system SHALL include the hash in the validation response.

#### Scenario: Enhanced and fast validation
- **WHEN** a valid code is checked
- **THEN** the response lists the hash quickly
"""
    assert [(f.line, f.rule) for f in lint(doc)] == [(6, "vague-term")]


def test_translated_thresholds_and_counts() -> None:
    doc = """# X

## Success Criteria

- **SC-001**: Todos os casos automatizados com senha incorreta não criam sessão.
- **SC-002**: Cada respuesta omite la contraseña.
- **SC-003**: A search completes in a single round trip.
- **SC-004**: To bootstrap this, an administrator creates the first account.
"""
    assert [(f.line, f.rule) for f in lint(doc)] == [(8, "unmeasurable-criterion")]


def test_bold_words_and_scenario_headings_in_prose() -> None:
    doc = """# Quickstart

### Scenario A — Admin adds a photo
1. With a bearer token, call the add operation.
2. **Expected**: returns the car with a photo.

### Scenario 1: Family household

- Copy the **Client ID** and **Client Secret**
- **US2** and **US3** depend on **Foundational**, **not** on US1
- Availability = no overlap **and** not overdue
"""
    assert lint(doc) == []
