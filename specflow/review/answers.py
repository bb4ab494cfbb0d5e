"""The reviewer's structured answers (validated with jsonschema + pydantic)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Finding(_Model):
    file: str = Field(description="repository path the finding is about")
    line: int | None = Field(default=None, description="line in the new version, when known")
    severity: Literal["info", "minor", "major", "critical"] = "major"
    message: str = Field(description="what is wrong and what to do instead")


class Verdict(_Model):
    """A task review: approve the diff, or request changes with findings."""

    decision: Literal["approve", "request_changes"]
    summary: str = Field(description="one or two sentences")
    findings: list[Finding] = Field(default_factory=list)


class Evidence(_Model):
    file: str
    line: int | None = None
    note: str = ""


class RequirementCheck(_Model):
    id: str = Field(description="the requirement id, e.g. FR-001")
    status: Literal["met", "partly_met", "missing"]
    explanation: str = ""
    evidence: list[Evidence] = Field(default_factory=list)


class BranchVerdict(_Model):
    """A branch review: every functional requirement of the spec, met or not, with evidence."""

    summary: str
    requirements: list[RequirementCheck] = Field(default_factory=list)
