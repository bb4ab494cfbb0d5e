from __future__ import annotations

import pytest

from specflow.domain.spec import (
    Clarification,
    Entity,
    Requirement,
    Scenario,
    Spec,
    SuccessCriterion,
    UserStory,
)
from specflow.errors import ParseError
from specflow.formats.spec_md import parse_spec, render_spec

SPEC_KIT = """\
# Feature Specification: Organization Creation

**Feature Branch**: `003-create-org`
**Created**: 2026-03-02
**Status**: Draft
**Input**: User description: "create orgs"

## Clarifications

### Session 2026-03-02

- Q: How is an org identified in the URL? → A: By slug.
- Q: Rate limit? -> A: Ten per user.

## User Scenarios & Testing *(mandatory)*

<!--
  IMPORTANT: template instructions
-->

### User Story 1 - Create Organization (Priority: P1)

An authenticated user creates an organization.
It spans two lines.

Second paragraph with [NEEDS CLARIFICATION: which plan tier?].

**Why this priority**: Everything else needs an org.

**Independent Test**: Submit the form and check the org exists.

**Acceptance Scenarios**:

1. **Given** a user with no org, **When** they submit a valid name, **Then** the org is created
2. **Given** a taken slug, **When** they submit, **Then** an error is shown

---

### User Story 2 – Workspace (Priority: P2)

Scoped data.

### Edge Cases

- What happens when the name is empty?
- What happens on a
  double submit?

## Requirements *(mandatory)*

### Functional Requirements

- **FR-001**: System MUST allow creating an organization.
- **FR-002**: System MUST require a name.

### Key Entities *(include if feature involves data)*

- **Organization**: The top-level tenant.
- **Membership**: User to org.

## Success Criteria *(mandatory)*

### Measurable Outcomes

- **SC-001**: Creation takes under 90 seconds.

## Assumptions

- **FR-999** is not parsed from here? It is: requirements are read anywhere.
"""


def test_parse_spec_kit_layout() -> None:
    spec = parse_spec(SPEC_KIT.replace("- **FR-999** is", "- FR-999 is"))
    assert spec.title == "Organization Creation"
    assert spec.summary == ""  # metadata lines are not a summary
    assert [s.id for s in spec.stories] == ["US1", "US2"]
    s1, s2 = spec.stories
    assert (s1.title, s1.priority) == ("Create Organization", "P1")
    assert s1.description == (
        "An authenticated user creates an organization.\nIt spans two lines.\n\n"
        "Second paragraph with [NEEDS CLARIFICATION: which plan tier?]."
    )
    assert s1.why == "Everything else needs an org."
    assert s1.independent_test == "Submit the form and check the org exists."
    assert s1.scenarios == [
        Scenario(
            given="a user with no org", when="they submit a valid name", then="the org is created"
        ),
        Scenario(given="a taken slug", when="they submit", then="an error is shown"),
    ]
    assert (s2.title, s2.priority, s2.description, s2.scenarios) == (
        "Workspace",
        "P2",
        "Scoped data.",
        [],
    )
    assert spec.edge_cases == [
        "What happens when the name is empty?",
        "What happens on a double submit?",
    ]
    assert spec.requirement_ids() == ["FR-001", "FR-002"]
    assert spec.entities == [
        Entity(name="Organization", description="The top-level tenant."),
        Entity(name="Membership", description="User to org."),
    ]
    assert spec.success_criteria == [
        SuccessCriterion(id="SC-001", text="Creation takes under 90 seconds.")
    ]
    assert spec.clarifications == [
        Clarification(question="How is an org identified in the URL?", answer="By slug."),
        Clarification(question="Rate limit?", answer="Ten per user."),
    ]
    assert spec.open_questions() == ["which plan tier?"]


def test_summary_from_text_under_title_and_overview() -> None:
    text = (
        '# Feature Specification: X\n\n**Created**: today\n**Input**: User description: "a\n'
        'long input"\n**Note**: kept\n\nShort pitch.\n\n## Overview\n\nMore.\n'
    )
    assert parse_spec(text).summary == "**Note**: kept\n\nShort pitch.\n\nMore."


def test_title_without_prefix_and_front_matter() -> None:
    spec = parse_spec("---\na: 1\n---\n\n# Login\n\nPitch.\n")
    assert (spec.title, spec.summary) == ("Login", "Pitch.")


def test_missing_sections_are_empty() -> None:
    spec = parse_spec("# Feature Specification: Bare\n")
    assert spec == Spec(title="Bare")


def test_no_title_is_an_error() -> None:
    with pytest.raises(ParseError) as err:
        parse_spec("\nsome text\n\n## Requirements\n", "spec.md")
    assert err.value.line == 2
    assert "title" in err.value.message


def test_duplicate_requirement_id() -> None:
    text = "# Feature Specification: X\n\n- **FR-001**: a\n- **FR-002**: b\n- **FR-001**: c\n"
    with pytest.raises(ParseError) as err:
        parse_spec(text, "spec.md")
    assert err.value.line == 5
    assert "FR-001" in err.value.message and "line 3" in err.value.message


def test_malformed_requirement_id() -> None:
    text = "# Feature Specification: X\n\n## Requirements\n\n- **FR-02**: a\n"
    with pytest.raises(ParseError) as err:
        parse_spec(text)
    assert err.value.line == 5
    assert "FR-02" in err.value.message


def test_suffixed_requirement_id_is_accepted() -> None:
    # Spec Kit specs in the wild insert requirements as FR-002b.
    text = "# Feature Specification: X\n\n## Requirements\n\n- **FR-002b**: a\n"
    assert parse_spec(text).requirement_ids() == ["FR-002b"]


def test_duplicate_story_number() -> None:
    text = (
        "# Spec: X\n\n### User Story 1 - A (Priority: P1)\n\n### User Story 1 - B (Priority: P2)\n"
    )
    with pytest.raises(ParseError) as err:
        parse_spec(text)
    assert err.value.line == 5


def test_story_heading_variants() -> None:
    text = (
        "# Spec: X\n\n### User Story 3: Search (P2)\n\nFind things.\n\n"
        "### User Story 4 - Sort\n\n**Why this priority:** nice\n"
    )
    s3, s4 = parse_spec(text).stories
    assert (s3.id, s3.title, s3.priority) == ("US3", "Search", "P2")
    assert (s4.id, s4.title, s4.priority, s4.why) == ("US4", "Sort", "P4", "nice")


def test_render_then_parse() -> None:
    spec = Spec(
        title="Login",
        summary="Users log in.\n\nWith email.",
        stories=[
            UserStory(
                id="US1",
                title="Log in",
                priority="P1",
                description="A user logs in.",
                why="Core.",
                independent_test="Log in once.",
                scenarios=[Scenario(given="an account", when="I log in", then="I see home")],
            ),
            UserStory(id="US2", title="Log out", priority="P2", description=""),
        ],
        edge_cases=["Wrong password?"],
        requirements=[Requirement(id="FR-001", text="System MUST log users in.")],
        entities=[Entity(name="User", description="")],
        success_criteria=[SuccessCriterion(id="SC-001", text="Fast.")],
        clarifications=[Clarification(question="SSO?", answer="No.")],
    )
    text = render_spec(spec)
    assert text.startswith("# Feature Specification: Login\n\nUsers log in.\n\nWith email.\n\n")
    assert "### User Story 1 - Log in (Priority: P1)\n" in text
    assert "1. **Given** an account, **When** I log in, **Then** I see home\n" in text
    assert "- **FR-001**: System MUST log users in.\n" in text
    assert "- Q: SSO? → A: No.\n" in text
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert parse_spec(text) == spec
