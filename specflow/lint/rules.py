"""The catalogue of lint rules: id, default severity, what it finds and how to fix it.

One place for the rule table: the checks, the SARIF `rules` array, `specflow lint --rules` and
docs/lint.md all read it.
"""

from __future__ import annotations

from dataclasses import dataclass

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    summary: str  # what the rule finds
    hint: str  # one line: how to fix a finding


RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule(
            "requirement-shape",
            "warning",
            "a requirement in no recognised shape: EARS (WHEN/IF/WHILE/WHERE … THE SYSTEM SHALL …, "
            "ubiquitous THE SYSTEM SHALL …) or Spec Kit's 'System MUST …'",
            "write it as '<actor> SHALL/MUST <response>', e.g. 'WHEN <trigger>, THE SYSTEM "
            "SHALL <response>'",
        ),
        Rule(
            "vague-term",
            "warning",
            "a vague or unmeasurable word in a requirement, success criterion or scenario",
            "replace it with a number, a threshold or the concrete behaviour",
        ),
        Rule(
            "no-observable-outcome",
            "warning",
            "a requirement whose response cannot be observed (handle, manage, consider, try to …)",
            "say what a user or a test can observe: what is shown, returned, stored or refused",
        ),
        Rule(
            "passive-voice",
            "info",
            "a passive requirement that names no actor ('data MUST be validated')",
            "name who acts: 'THE SYSTEM SHALL validate …' or add 'by <actor>'",
        ),
        Rule(
            "unmeasurable-criterion",
            "warning",
            "a success criterion with no number or threshold",
            "add the measure and the target, e.g. 'in under 2 seconds for 95% of requests'",
        ),
        Rule(
            "incomplete-scenario",
            "warning",
            "an acceptance scenario missing its Given, When or Then part",
            "write all three parts: **Given** <state>, **When** <action>, **Then** <outcome>",
        ),
        Rule(
            "duplicate-requirement",
            "warning",
            "a requirement that repeats an earlier one",
            "delete one of them, or say what makes them different",
        ),
        Rule(
            "conflicting-requirements",
            "error",
            "two requirements with the same subject and opposite modals (MUST / MUST NOT)",
            "decide which one holds, or add the condition that tells them apart",
        ),
        Rule(
            "open-clarification",
            "warning",
            "a [NEEDS CLARIFICATION] marker still open",
            "answer it with 'specflow clarify --answer Q1=…' or edit the spec",
        ),
        Rule(
            "technology-in-spec",
            "warning",
            "a requirement or success criterion naming a technology (the plan's business)",
            "say what the user needs; choose the technology in plan.md",
        ),
    )
}


def rule(rule_id: str) -> Rule:
    return RULES[rule_id]
