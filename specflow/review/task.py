"""One task's review: the reviewer model reads the diff, the task and the requirements it
covers, and answers with a Verdict (approve / request changes, with findings)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from specflow.domain.tasks import Task
from specflow.llm.base import Model, Usage
from specflow.review.answers import Verdict
from specflow.templating import render


@dataclass
class TaskReviewInput:
    task: Task
    feature: str
    risk: str
    diff: str
    spec_text: str | None = None
    attempt: int = 1
    previous: Verdict | None = None
    max_diff_chars: int = 60_000


@dataclass
class TaskReview:
    verdict: Verdict
    usage: Usage
    model: str


def clip(text: str, limit: int, what: str = "diff") -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… ({what} truncated: {len(text) - limit} more characters)"


def requirements_text(spec_text: str | None, ids: list[str]) -> str:
    from specflow.agents.brief import requirement_lines

    return "\n".join(requirement_lines(spec_text or "", ids))


def review_messages(inp: TaskReviewInput, project_root: Path | None) -> list[dict[str, str]]:
    system = render("prompts/review_system.md.j2", project_root)
    user = render(
        "prompts/review_task.md.j2",
        project_root,
        task=inp.task,
        feature=inp.feature,
        risk=inp.risk,
        verify=inp.task.verify,
        requirements=requirements_text(inp.spec_text, inp.task.covers),
        previous=format_findings(inp.previous) if inp.previous else "",
        attempt=inp.attempt,
        diff=clip(inp.diff, inp.max_diff_chars),
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def review_task(model: Model, inp: TaskReviewInput, project_root: Path | None) -> TaskReview:
    """Ask `model` for a Verdict (schema-validated, one repair round; ModelError otherwise)."""
    from specflow.llm.structured import generate_structured

    result = generate_structured(
        model, review_messages(inp, project_root), Verdict, purpose=f"review/{inp.task.id}"
    )
    verdict = result.value
    if verdict.decision == "request_changes" and not verdict.findings:
        # Nothing actionable: record it as a finding so the agent hears the summary.
        from specflow.review.answers import Finding

        verdict.findings.append(Finding(file="(general)", message=verdict.summary))
    return TaskReview(verdict, result.usage, model.name)


def format_findings(verdict: Verdict) -> str:
    lines = [verdict.summary.strip()]
    for f in verdict.findings:
        where = f"{f.file}:{f.line}" if f.line else f.file
        lines.append(f"- {where} [{f.severity}] {f.message.strip()}")
    return "\n".join(lines)


def review_feedback(verdict: Verdict, reviewer: str) -> str:
    """What the implementing agent reads on its next attempt."""
    return (
        f"A reviewer ({reviewer}) requested changes to your previous attempt. Address every "
        "finding below (the worktree holds your previous change), keep what was right, and "
        "make sure the task's checks still pass.\n\n" + format_findings(verdict) + "\n"
    )
