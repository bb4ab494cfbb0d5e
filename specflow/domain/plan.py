"""The implementation plan: how the spec will be built."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ContextItem(_Model):
    """One line of the technical context, e.g. `Language/Version: Python 3.11`."""

    key: str
    value: str


class GateCheck(_Model):
    """One constitution principle checked against the plan."""

    gate: str
    status: Literal["pass", "fail", "n/a"] = "pass"
    note: str = ""
    # Where the gate was read from (1-based, in the body). Not part of the document, so not
    # part of equality either: a re-rendered plan holds the same gates on other lines.
    line: SkipJsonSchema[int | None] = Field(default=None, exclude=True)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GateCheck):
            return NotImplemented
        return (self.gate, self.status, self.note) == (other.gate, other.status, other.note)

    __hash__ = None  # type: ignore[assignment]  # mutable, like every pydantic model


class Justification(_Model):
    """A row of the Complexity Tracking table (Spec Kit): why a failing gate is accepted."""

    violation: str = Field(description="the constitution gate/principle this row justifies")
    why_needed: str
    simpler_alternative_rejected: str = ""


class Risk(_Model):
    risk: str
    mitigation: str = ""


class Plan(_Model):
    title: str
    summary: str = ""
    technical_context: list[ContextItem] = Field(default_factory=list)
    constitution_check: list[GateCheck] = Field(default_factory=list)
    complexity_tracking: list[Justification] = Field(
        default_factory=list,
        description="one row per failing constitution gate that is accepted, and why",
    )
    structure: str = Field(default="", description="structure decision; may hold a code block")
    design_notes: list[str] = Field(default_factory=list)
    risks: list[Risk] = Field(default_factory=list)
