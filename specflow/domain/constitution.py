"""The constitution, enforced: a plan's failing gates that nobody justified.

Spec Kit's convention: the plan's Constitution Check lists each principle as a gate (pass, fail,
n/a); a gate that fails is accepted only with a row naming it in the plan's Complexity Tracking
table (`| Violation | Why Needed | Simpler Alternative Rejected Because |`). A failing gate
without such a row is a violation. Pure: no I/O, the same answer for generated and hand-written
plans.
"""

from __future__ import annotations

import re

from specflow.domain.plan import GateCheck, Justification, Plan

_NUMBERING = re.compile(r"^(?:[ivxlc]+|\d+)[.)]\s+", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> list[str]:
    plain = _NUMBERING.sub("", text.replace("*", "").replace("`", "").strip())
    return _WORD.findall(plain.lower())


def justifies(row: Justification, gate: GateCheck) -> bool:
    """The row names the gate (either's words contain the other's) and gives a reason."""
    if not row.why_needed.strip():
        return False
    g, v = " ".join(_words(gate.gate)), " ".join(_words(row.violation))
    if not g or not v:
        return False
    return f" {g} " in f" {v} " or f" {v} " in f" {g} "


def violations(plan: Plan) -> list[GateCheck]:
    """Failing gates without a justification row, in document order."""
    return [
        gate
        for gate in plan.constitution_check
        if gate.status == "fail" and not any(justifies(r, gate) for r in plan.complexity_tracking)
    ]


def describe(gate: GateCheck) -> str:
    """One line for people: the principle, and the plan's own note when it has one."""
    note = f" ({gate.note})" if gate.note else ""
    return f"constitution gate '{gate.gate}' fails without a justification{note}"
