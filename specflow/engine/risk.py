"""Each task's risk (its `risk:`, or inferred from the files it names) and the gates the trust
policy puts before its merge (docs/trust.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from specflow.config import PolicySection
from specflow.domain.tasks import Risk, Task

_HIGH = re.compile(
    r"(^|/)(migrations?|alembic|db/migrate|auth|authn|authz|security|permissions?|crypto|"
    r"secrets?|api|openapi|\.github/workflows)(/|$)|(^|/)(openapi|swagger)[^/]*\.(ya?ml|json)$|"
    r"(^|/)schema\.(sql|graphql|prisma)$",
    re.I,
)
_HIGH_NAMES = re.compile(
    r"(^|[_.-])(auth\w*|login|password\w*|oauth\w*|permissions?|acl|rbac)([_.-]|$)", re.I
)
_LOW = re.compile(
    r"(^|/)(tests?|spec|__tests__|docs?|examples?)(/|$)|(^|/)test_[^/]*$|_test\.\w+$|"
    r"\.(md|rst|txt|adoc)$|(^|/)(README|CHANGELOG|LICENSE)[^/]*$",
    re.I,
)


def infer_risk(files: list[str]) -> Risk:
    """Risk from what a task touches: any high path -> high; only tests/docs -> low; else
    medium (also when it names no files)."""
    paths = [f.strip().strip("`").replace("\\", "/") for f in files if f.strip()]
    if not paths:
        return "medium"
    if any(_HIGH.search(p) or _HIGH_NAMES.search(Path(p).name) for p in paths):
        return "high"
    if all(_LOW.search(p) for p in paths):
        return "low"
    return "medium"


def task_risk(task: Task, policy: PolicySection) -> Risk:
    """The `risk:` sub-bullet; else inferred from its files (or medium, with inference off)."""
    if task.risk is not None:
        return task.risk
    return infer_risk(task.files) if policy.infer_risk else "medium"


def with_inferred_risks(tasklist: Any) -> Any:
    """A TaskList whose tasks without a risk get the inferred one (the tasks stage uses it)."""
    for phase in tasklist.phases:
        for task in phase.tasks:
            if task.risk is None:
                task.risk = infer_risk(task.files)
    return tasklist


@dataclass(frozen=True)
class Gates:
    risk: Risk
    review: bool
    approve: bool

    def describe(self) -> str:
        return "+".join(
            ["verify", *(["review"] if self.review else []), *(["approve"] * self.approve)]
        )


def gates_for(task: Task, policy: PolicySection) -> Gates:
    risk = task_risk(task, policy)
    wanted = policy.gates(risk)
    return Gates(risk, "review" in wanted, "approve" in wanted)
