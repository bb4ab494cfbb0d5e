"""What the model answers for `specify --bugfix`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from specflow.domain.spec import Requirement, SuccessCriterion


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReproductionTest(_Model):
    path: str = Field(description="repository path of the test file the fix task adds")
    command: str = Field(description="the command that runs just this test, no shell syntax")


class BugfixSpec(_Model):
    title: str = Field(description="short name of the bug, e.g. 'Totals ignore refunds'")
    summary: str = ""
    current: list[str] = Field(description="what happens today, as observed facts")
    steps: list[str] = Field(default_factory=list, description="steps to reproduce")
    expected: list[Requirement] = Field(description="the fixed behaviour, FR-001 …")
    unchanged: list[Requirement] = Field(
        description="behaviour the fix must not change; ids continue after `expected`"
    )
    reproduction: ReproductionTest
    success_criteria: list[SuccessCriterion] = Field(default_factory=list)
