"""`specflow drift --explain`: a model's opinion on each drift finding.

`drift` finds, without a model, the commits that changed a requirement's files after its tasks
and the requirements whose text changed after them. Those are facts about git; whether such a
change really contradicts the requirement is a judgement. With `--explain` one structured call
per feature (the review stage's model, `[models].review`) judges every finding as
`contradicts`, `consistent` or `unclear`, with a reason; the output labels it a model's opinion
and it never changes `drift`'s or `check --drift`'s result. Every call goes to the call log
(`.specflow/logs/calls.jsonl`, purpose `drift/explain`); the opinion, its model and its
usage are kept in `specs/<feature>/drift/<time>.json`, which `specflow cost` counts under the
stage `drift` (as it counts artifacts' front matter and run records), and `--max-cost` limits
it as in the other stages. This module is imported only with `--explain`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from specflow.llm.base import Usage

if TYPE_CHECKING:
    from specflow.llm.base import Model
    from specflow.project import Feature, Project
    from specflow.stages.drift import FeatureDrift

MAX_DIFF_CHARS = 12_000  # per finding
NOTE = "a model's opinion, not a check: drift's findings above are what git shows"


class Judgement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    finding: int = Field(description="the finding's number, from 1")
    verdict: Literal["contradicts", "consistent", "unclear"]
    reason: str


class Opinion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    judgements: list[Judgement]


@dataclass
class Finding:
    id: str
    kind: str  # code-moved | spec-ahead
    text: str
    old_text: str = ""
    commit: str = ""
    subject: str = ""
    diff: str = ""
    verdict: str = "unclear"
    reason: str = "the model gave no verdict"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "commit": self.commit,
            "verdict": self.verdict,
            "reason": self.reason,
        }


@dataclass
class Explained:
    feature: str
    model: str
    findings: list[Finding]
    usage: Usage = field(default_factory=Usage)
    record: str = ""  # where the opinion and its cost are kept (relative to the project)

    def to_dict(self) -> dict[str, Any]:
        return {
            "opinion_of": self.model,
            "note": NOTE,
            "usage": self.usage.to_dict(),
            "findings": [f.to_dict() for f in self.findings],
            "record": self.record,
        }


def last_opinion_cost(feature: Feature) -> float | None:
    """What the feature's newest kept opinion cost (None: none kept, or unreadable), so
    `--max-cost` refuses before asking when the last one already cost more."""
    import json

    from specflow.stages.drift import opinions_dir

    records = sorted(opinions_dir(feature).glob("*.json"), key=lambda p: p.stat().st_mtime)
    try:
        usage = json.loads(records[-1].read_text(encoding="utf-8"))["usage"] if records else None
        return float(usage["cost_usd"]) if usage else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def keep_opinion(project: Project, feature: Feature, ex: Explained) -> None:
    """Write the opinion's record (model, usage, verdicts, time) and note where in `ex`."""
    import json

    from specflow.artifacts import now_iso
    from specflow.fsutil import atomic_write_text
    from specflow.stages.drift import opinions_dir
    from specflow.stages.status import rel_path

    created = now_iso()
    stem = opinions_dir(feature) / created.replace(":", "").replace("-", "")
    path, n = stem.with_suffix(".json"), 1
    while path.exists():  # two opinions in one second
        n += 1
        path = stem.with_name(f"{stem.name}-{n}.json")
    ex.record = rel_path(project, path)
    record = {"kind": "drift-opinion", "feature": feature.name, "created": created, **ex.to_dict()}
    atomic_write_text(path, json.dumps(record, indent=2, sort_keys=True) + "\n")


def drift_findings(project: Project, feature: Feature, fd: FeatureDrift) -> list[Finding]:
    """Each drift finding with what a judge needs: the requirement's text then and now, and
    the later commit's diff on the requirement's files (clipped)."""
    from specflow.review.task import clip
    from specflow.workspace.git import Git

    git = Git(project.root)
    out: list[Finding] = []
    for r in fd.drifted:
        if r.spec_ahead:
            old = _text_at(git, r.commits[0], fd.spec_path, r.id) if r.commits else ""
            out.append(Finding(r.id, "spec-ahead", r.text, old_text=old))
        for c in r.later:
            diff = git.out("show", "--no-color", "--format=", c.sha, "--", *c.files)
            out.append(
                Finding(
                    r.id,
                    "code-moved",
                    r.text,
                    commit=c.sha[:10],
                    subject=c.subject,
                    diff=clip(diff.strip("\n"), MAX_DIFF_CHARS),
                )
            )
    return out


def _text_at(git: Any, sha: str, spec_rel: str, rid: str) -> str:
    """Requirement `rid`'s text in spec.md as committed at `sha` ('' when unknown)."""
    from specflow.errors import SpecflowError
    from specflow.formats.frontmatter import split_front_matter
    from specflow.formats.spec_md import parse_spec
    from specflow.workspace.git import GitError

    try:
        _, body = split_front_matter(git.out("show", f"{sha}:{spec_rel}"))
        spec = parse_spec(body)
    except (GitError, SpecflowError):
        return ""
    items: list[Any] = [*spec.requirements, *spec.success_criteria]
    return next((x.text for x in items if x.id == rid), "")


def explain_drift(
    project: Project,
    feature: Feature,
    fd: FeatureDrift,
    *,
    model_override: str | None = None,
    max_cost: float | None = None,
    model: Model | None = None,
) -> Explained | None:
    """Ask the model once about every finding of the feature; None when there is none."""
    from specflow.llm.opening import open_model
    from specflow.llm.structured import generate_structured
    from specflow.templating import render

    findings = drift_findings(project, feature, fd)
    if not findings:
        return None
    llm: Any = model if model is not None else open_model(project, "review", model_override)
    if max_cost is not None:
        from specflow.llm.budget import BudgetedModel

        previous = last_opinion_cost(feature)
        llm = BudgetedModel(llm, max_cost, stage="drift --explain", previous=previous)
    user = render(
        "prompts/drift_explain.md.j2", project.root, feature=feature.name, findings=findings
    )
    system = render("prompts/drift_system.md.j2", project.root)
    messages: Any = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    result = generate_structured(llm, messages, Opinion, purpose="drift/explain")
    for j in result.value.judgements:
        if 1 <= j.finding <= len(findings):
            findings[j.finding - 1].verdict, findings[j.finding - 1].reason = j.verdict, j.reason
    ex = Explained(feature.name, llm.name, findings, result.usage)
    keep_opinion(project, feature, ex)
    return ex


def render_opinion(ex: Explained) -> str:
    from specflow.llm.budget import money

    lines = [f"model's opinion ({ex.model}) — {NOTE}:"]
    for f in ex.findings:
        where = f"{f.id} {f.commit}" if f.commit else f"{f.id} (spec text changed)"
        lines.append(f"  {where}: {f.verdict} — {f.reason}")
    u = ex.usage
    lines.append(
        f"  ({u.prompt_tokens + u.completion_tokens} tokens, {money(u.cost_usd)}; "
        f"kept in {ex.record})"
    )
    return "\n".join(lines)
