from __future__ import annotations

import pytest

from specflow.domain.plan import ContextItem, GateCheck, Plan, Risk
from specflow.errors import ParseError
from specflow.formats.plan_md import parse_plan, render_plan

SPEC_KIT = """\
# Implementation Plan: Atomic Rollback

**Branch**: `016-x` | **Date**: 2025-11-30 | **Spec**: [spec.md](spec.md)

## Summary

Stage files, then move them.

## Technical Context

**Language/Version**: TypeScript 5.3
**Primary Dependencies**: Bun,
  Zod
**Storage:** files

**Testing**: bun test

## Constitution Check

*GATE: Must pass before Phase 0 research.*

| Principle | Status | Notes |
|-----------|--------|-------|
| I. Upstream Fidelity | ✅ PASS | uses markers |
| X. Docs | N/A | internal |
| XI. TDD | ❌ Fail | later \\| maybe |
| XII. Odd | ⚠️ Partial | see notes |

## Project Structure

### Source Code

```text
src/
## not a heading
```

**Structure Decision**: single project.

## Complexity Tracking

| Violation | Why |
|---|---|
| none | - |
"""


def test_parse_spec_kit_plan() -> None:
    plan = parse_plan(SPEC_KIT)
    assert plan.title == "Atomic Rollback"
    assert plan.summary == "Stage files, then move them."
    assert plan.technical_context == [
        ContextItem(key="Language/Version", value="TypeScript 5.3"),
        ContextItem(key="Primary Dependencies", value="Bun, Zod"),
        ContextItem(key="Storage", value="files"),
        ContextItem(key="Testing", value="bun test"),
    ]
    assert plan.constitution_check == [
        GateCheck(gate="I. Upstream Fidelity", status="pass", note="uses markers", line=24),
        GateCheck(gate="X. Docs", status="n/a", note="internal", line=25),
        GateCheck(gate="XI. TDD", status="fail", note="later | maybe", line=26),
        GateCheck(gate="XII. Odd", status="fail", note="⚠️ Partial: see notes", line=27),
    ]
    assert [(j.violation, j.why_needed) for j in plan.complexity_tracking] == [("none", "-")]
    assert plan.structure.startswith("### Source Code\n\n```text\nsrc/\n## not a heading\n```")
    assert plan.structure.endswith("**Structure Decision**: single project.")


def test_checkbox_constitution_check_and_notes_and_risks() -> None:
    text = (
        "# Implementation Plan: X\n\n## Constitution Check\n\n"
        "- [x] Library-First — one package\n- [ ] Test-First - not yet\n- [-] CLI\n\n"
        "## Design Notes\n\n- Keep it small\n- Two\n  lines\n\n"
        "## Risks & Mitigations\n\n- Slow disk — cache\n- Unknown\n"
    )
    plan = parse_plan(text)
    assert plan.constitution_check == [
        GateCheck(gate="Library-First", status="pass", note="one package", line=5),
        GateCheck(gate="Test-First", status="fail", note="not yet", line=6),
        GateCheck(gate="CLI", status="n/a", note="", line=7),
    ]
    assert plan.design_notes == ["Keep it small", "Two lines"]
    assert plan.risks == [Risk(risk="Slow disk", mitigation="cache"), Risk(risk="Unknown")]


def test_no_title() -> None:
    with pytest.raises(ParseError) as err:
        parse_plan("## Summary\n\nx\n", "plan.md")
    assert err.value.line == 1


def test_render_then_parse() -> None:
    plan = Plan(
        title="Login",
        summary="Do it.",
        technical_context=[ContextItem(key="Language/Version", value="Python 3.11")],
        constitution_check=[
            GateCheck(gate="Simplicity", status="pass", note="a | b"),
            GateCheck(gate="Tests", status="fail"),
            GateCheck(gate="Docs", status="n/a", note="none"),
        ],
        structure="```text\nsrc/\n```\n\n**Structure Decision**: one package.",
        design_notes=["Small modules"],
        risks=[Risk(risk="Flaky tests", mitigation="retry"), Risk(risk="Scope")],
    )
    text = render_plan(plan)
    assert (
        "| Gate | Status | Notes |\n| --- | --- | --- |\n| Simplicity | PASS | a \\| b |\n" in text
    )
    assert "| Tests | FAIL |  |\n| Docs | N/A | none |\n" in text
    assert "- Flaky tests — retry\n- Scope\n" in text
    assert parse_plan(text) == plan
    assert parse_plan(render_plan(Plan(title="Empty"))) == Plan(title="Empty")
