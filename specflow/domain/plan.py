"""The implementation plan: how the spec will be built."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


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


class Risk(_Model):
    risk: str
    mitigation: str = ""


class Plan(_Model):
    title: str
    summary: str = ""
    technical_context: list[ContextItem] = Field(default_factory=list)
    constitution_check: list[GateCheck] = Field(default_factory=list)
    structure: str = Field(default="", description="structure decision; may hold a code block")
    design_notes: list[str] = Field(default_factory=list)
    risks: list[Risk] = Field(default_factory=list)
