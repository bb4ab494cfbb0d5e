"""`specflow review FEATURE`: a finished integration branch against the whole spec.

The reviewer model (`[models].review`) reads the spec and the diff base..branch and says for
every functional requirement whether it is met, partly met or missing, with evidence (files
and lines). A requirement the model leaves out gets one repair round, then counts as missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from specflow.errors import InputError
from specflow.llm.base import Usage
from specflow.project import Project
from specflow.review.answers import BranchVerdict, RequirementCheck
from specflow.templating import render

STATUS_ORDER = ("missing", "partly_met", "met")


@dataclass
class BranchReview:
    feature: str
    branch: str
    base: str
    model: str
    verdict: BranchVerdict
    usage: Usage = field(default_factory=Usage)

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATUS_ORDER, 0)
        for r in self.verdict.requirements:
            out[r.status] += 1
        return out

    @property
    def missing(self) -> list[str]:
        return [r.id for r in self.verdict.requirements if r.status == "missing"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "branch": self.branch,
            "base": self.base,
            "model": self.model,
            "summary": self.verdict.summary,
            "counts": self.counts(),
            "requirements": [r.model_dump() for r in self.verdict.requirements],
            "usage": self.usage.to_dict(),
        }


def _base(git: Any, branch: str, base_ref: str | None, feature: str) -> str:
    from specflow.workspace.git import TRAILER_FEATURE

    tip = git.rev_parse(branch)
    if tip is None:
        raise InputError(f"no branch {branch}", f"run 'specflow implement {feature}' first")
    if base_ref:
        mb = git.run("merge-base", base_ref, branch, check=False).stdout.strip()
        if mb and mb != tip:
            return str(mb)
    # Already merged (or no base given): start before the feature's first task commit.
    shas = git.out(
        "log", "--format=%H", "--fixed-strings", f"--grep={TRAILER_FEATURE}: {feature}", branch
    ).split()
    if shas:
        parent = git.rev_parse(f"{shas[-1]}^")
        if parent:
            return str(parent)
    raise InputError(f"cannot tell where {branch} starts", "pass --base REF (e.g. --base main)")


def _problems(verdict: BranchVerdict, ids: list[str]) -> list[str]:
    seen = [r.id for r in verdict.requirements]
    out = [f"requirement {i} has no entry; give it a status" for i in ids if i not in seen]
    out += [f"{i} is not a requirement of this spec" for i in seen if i not in ids]
    return out


def review_branch(
    project: Project,
    feature_name: str | None,
    *,
    branch: str | None = None,
    base: str | None = None,
    model_override: str | None = None,
    max_cost: float | None = None,
) -> BranchReview:
    from specflow.artifacts import ArtifactStore
    from specflow.formats.spec_md import parse_spec
    from specflow.llm.opening import open_model
    from specflow.llm.structured import generate_structured
    from specflow.review.task import clip
    from specflow.workspace.git import Git
    from specflow.workspace.pool import integration_branch

    feature = project.resolve_feature(feature_name)
    spec_art = ArtifactStore(project, feature).read("spec")
    if not spec_art.exists:
        raise InputError(f"{feature.name} has no spec.md", "nothing to review against")
    spec = parse_spec(spec_art.body, str(spec_art.path))
    ids = spec.requirement_ids()
    if not ids:
        raise InputError(f"{spec_art.path}: no functional requirements (FR-###) to check")
    git = Git(project.root)
    branch = branch or integration_branch(feature.name)
    start = _base(git, branch, base or project.config.project.base_branch or "HEAD", feature.name)
    runs = feature.runs_dir.resolve().relative_to(git.toplevel().resolve()).as_posix()
    diff = git.out("diff", "--no-color", start, branch, "--", ".", f":(exclude){runs}")
    cfg = project.config.review
    model = open_model(project, "review", model_override)
    if max_cost is not None:
        from specflow.llm.budget import BudgetedModel

        model = BudgetedModel(model, max_cost, stage="review", previous=None)
    user = render(
        "prompts/review_branch.md.j2",
        project.root,
        feature=feature.name,
        branch=branch,
        base_short=start[:10],
        requirements=spec.requirements,
        spec=clip(spec_art.body.strip(), cfg.max_spec_chars, "spec"),
        diff=clip(diff, cfg.max_diff_chars),
    )
    system = render("prompts/review_system.md.j2", project.root)
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    result = generate_structured(model, messages, BranchVerdict, purpose="review/branch")
    usage, verdict = result.usage, result.value
    problems = _problems(verdict, ids)
    if problems:
        listed = "\n".join(f"- {p}" for p in problems[:20])
        repair = [
            *messages,
            {"role": "assistant", "content": result.raw},
            {"role": "user", "content": f"Fix these and answer the whole JSON again:\n{listed}"},
        ]
        result = generate_structured(model, repair, BranchVerdict, purpose="review/branch")
        usage, verdict = usage + result.usage, result.value
    by_id = {r.id: r for r in verdict.requirements if r.id in ids}
    verdict.requirements = [
        by_id.get(i)
        or RequirementCheck(id=i, status="missing", explanation="the reviewer gave no verdict")
        for i in ids
    ]
    return BranchReview(feature.name, branch, start, model.name, verdict, usage)


def format_table(review: BranchReview) -> list[str]:
    rows = [f"{review.feature}: {review.branch} reviewed against spec.md ({review.model})"]
    rows.append(f"{'requirement':12} {'status':11} evidence")
    for r in review.verdict.requirements:
        ev = ", ".join(f"{e.file}:{e.line}" if e.line else e.file for e in r.evidence[:4])
        rows.append(f"{r.id:12} {r.status:11} {ev or '-'}")
        if r.explanation:
            rows.append(f"{'':24} {r.explanation}")
    c = review.counts()
    rows.append(
        f"{c['met']} met, {c['partly_met']} partly met, {c['missing']} missing"
        f"  (${review.usage.cost_usd:.4f})"
    )
    return rows
