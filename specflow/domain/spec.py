"""The feature specification: what to build and why, never how."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

CLARIFY_RE = re.compile(r"\[NEEDS CLARIFICATION:\s*(?P<q>[^\]]+?)\s*\]")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Scenario(_Model):
    """One acceptance scenario, Given/When/Then."""

    given: str
    when: str
    then: str


class UserStory(_Model):
    id: str = Field(pattern=r"^US\d+$", description="US1, US2, ...")
    title: str
    priority: str = Field(pattern=r"^P\d+$", description="P1 is the most important")
    description: str
    why: str = ""
    independent_test: str = ""
    scenarios: list[Scenario] = Field(default_factory=list)


class Requirement(_Model):
    id: str = Field(pattern=r"^FR-\d{3,}[a-z]?$")
    text: str


class SuccessCriterion(_Model):
    id: str = Field(pattern=r"^SC-\d{3,}[a-z]?$")
    text: str


class Entity(_Model):
    name: str
    description: str


class Clarification(_Model):
    question: str
    answer: str


class Spec(_Model):
    title: str
    summary: str = ""
    stories: list[UserStory] = Field(default_factory=list)
    edge_cases: list[str] = Field(default_factory=list)
    requirements: list[Requirement] = Field(default_factory=list)
    entities: list[Entity] = Field(default_factory=list)
    success_criteria: list[SuccessCriterion] = Field(default_factory=list)
    clarifications: list[Clarification] = Field(default_factory=list)

    def texts(self) -> list[str]:
        """Every free-text field, for scanning markers."""
        out = [self.title, self.summary, *self.edge_cases]
        for s in self.stories:
            out += [s.title, s.description, s.why, s.independent_test]
            for sc in s.scenarios:
                out += [sc.given, sc.when, sc.then]
        out += [r.text for r in self.requirements]
        out += [e.description for e in self.entities]
        out += [c.text for c in self.success_criteria]
        return out

    def open_questions(self) -> list[str]:
        """`[NEEDS CLARIFICATION: ...]` questions, in document order, without duplicates."""
        seen: list[str] = []
        for text in self.texts():
            for m in CLARIFY_RE.finditer(text):
                q = m.group("q").strip()
                if q not in seen:
                    seen.append(q)
        return seen

    def requirement_ids(self) -> list[str]:
        return [r.id for r in self.requirements]
