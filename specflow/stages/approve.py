"""`specflow approve`: record a person's approval of work the trust policy holds back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from specflow.agents.cmd import pid_alive
from specflow.errors import InputError
from specflow.project import Project


@dataclass
class ApproveResult:
    feature: str
    approved: list[dict[str, Any]] = field(default_factory=list)
    running: str | None = None  # the live run that will merge them, if any

    def to_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "approved": self.approved, "running": self.running}


def approve_tasks(project: Project, feature_name: str | None, tasks: list[str]) -> ApproveResult:
    from specflow.engine.approvals import awaiting_approval, record_approval
    from specflow.runs.state import FeatureLock
    from specflow.workspace.git import Git

    if not tasks:
        raise InputError("name the task(s) to approve", "specflow approve T012 [FEATURE]")
    feature = project.resolve_feature(feature_name)
    waiting = awaiting_approval(project.state_dir, feature.name)
    ids = [t.strip().upper() for t in tasks]
    unknown = [t for t in ids if t not in waiting]
    if unknown:
        listed = ", ".join(waiting) if waiting else "none"
        raise InputError(
            f"{', '.join(unknown)} is not awaiting approval in {feature.name}",
            f"tasks awaiting approval: {listed}",
        )
    result = ApproveResult(feature.name)
    git = Git(project.root)
    for tid in ids:
        commit = waiting[tid]
        stat = git.run("show", "--stat", "--format=", commit, check=False).stdout.strip()
        summary = stat.splitlines()[-1].strip() if stat else "(commit not found)"
        entry = record_approval(project.state_dir, feature.name, tid, commit)
        result.approved.append({**entry, "stat": summary})
    holder = FeatureLock(project.state_dir, feature.name).holder()
    if holder is not None and pid_alive(holder[0]):
        result.running = holder[1]
    return result

    return True
