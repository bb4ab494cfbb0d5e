"""The pure parts of issue 13: requirement coverage and constitution violations."""

from __future__ import annotations

from specflow.domain.constitution import justifies, violations
from specflow.domain.coverage import compute_coverage
from specflow.domain.plan import GateCheck, Justification, Plan
from specflow.domain.spec import Requirement, Spec, SuccessCriterion
from specflow.domain.tasks import Task

SPEC = Spec(
    title="X",
    requirements=[Requirement(id=f"FR-00{i}", text=f"r{i}") for i in (1, 2, 3)],
    success_criteria=[SuccessCriterion(id="SC-001", text="fast")],
)


def test_coverage_from_covers_and_from_text_says_which() -> None:
    tasks = [
        Task(id="T001", title="Do FR-002 and FR-001", covers=["FR-001"]),
        Task(id="T002", title="Meets SC-001, also FR-009", line=7),
    ]
    cov = compute_coverage(SPEC, tasks)
    links = {r.id: [(link.task, link.how) for link in r.links] for r in cov.requirements}
    assert links == {
        "FR-001": [("T001", "covers")],  # named in text too, counted once
        "FR-002": [("T001", "text")],
        "FR-003": [],
    }
    assert cov.declared and [r.id for r in cov.uncovered] == ["FR-003"]
    assert cov.source == "covers: and ids named in task text"
    assert [(u.task, u.requirement, u.how, u.line) for u in cov.unknown] == [
        ("T002", "FR-009", "text", 7)
    ]


def test_coverage_without_covers_is_not_declared() -> None:
    cov = compute_coverage(SPEC, [Task(id="T001", title="FR-001 FR-002 FR-003")])
    assert not cov.declared and not cov.uncovered
    assert cov.source.startswith("ids named in task text")
    # FR-0010 is not FR-001
    assert compute_coverage(SPEC, [Task(id="T001", title="FR-0010")]).uncovered


def test_violations_need_a_named_justification_with_a_reason() -> None:
    gates = [
        GateCheck(gate="I. Library-First", status="fail", note="two apps"),
        GateCheck(gate="Simplicity", status="fail"),
        GateCheck(gate="Tests first", status="pass"),
        GateCheck(gate="Observability", status="fail"),
    ]
    rows = [
        Justification(violation="Library-First (principle I)", why_needed="shared code"),
        Justification(violation="simplicity", why_needed=""),  # no reason: no justification
        Justification(violation="Observability stack", why_needed="ops asked"),
    ]
    plan = Plan(title="P", constitution_check=gates, complexity_tracking=rows)
    assert [g.gate for g in violations(plan)] == ["Simplicity"]
    assert not justifies(Justification(violation="Tests", why_needed="x"), gates[3])
