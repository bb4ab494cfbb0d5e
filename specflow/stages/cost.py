"""`cost`: what was spent, per stage, task, model and agent — from the committed record only
(artifact front matter, `.history/`, and `specs/<feature>/runs/*.json`), so the numbers are the
same on every clone and in review. Run records still only on an integration branch (a run not
merged into the checkout yet) count too, read in one batch (workspace/branches.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from specflow.artifacts import KINDS, ArtifactStore, Provenance
from specflow.errors import ParseError
from specflow.llm.base import Usage
from specflow.project import Feature, Project

STAGE_OF = {"spec": "specify", "plan": "plan", "tasks": "tasks"}


@dataclass
class Line(Usage):
    """A row of the report: the usage of every record added to it (`calls`: how many)."""

    def add(self, usage: dict[str, Any]) -> None:
        self.prompt_tokens += int(usage.get("prompt_tokens", 0) or 0)
        self.completion_tokens += int(usage.get("completion_tokens", 0) or 0)
        self.cost_usd += float(usage.get("cost_usd", 0.0) or 0.0)
        self.cached_tokens += int(usage.get("cached_tokens", 0) or 0)
        self.calls += 1

    def to_dict(self) -> dict[str, Any]:
        """Every column, cached tokens too (0 when none were)."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cached_tokens": self.cached_tokens,
            "cost_usd": round(self.cost_usd, 6),
        }


@dataclass
class CostReport:
    features: list[str] = field(default_factory=list)
    by_stage: dict[str, Line] = field(default_factory=dict)
    by_task: dict[str, Line] = field(default_factory=dict)
    by_model: dict[str, Line] = field(default_factory=dict)
    by_agent: dict[str, Line] = field(default_factory=dict)
    by_run: dict[str, Line] = field(default_factory=dict)
    total: Line = field(default_factory=Line)
    unmerged: dict[str, list[str]] = field(default_factory=dict)  # branch -> its runs read

    def _add(self, table: dict[str, Line], key: str, usage: dict[str, Any]) -> None:
        table.setdefault(key, Line()).add(usage)

    def to_dict(self) -> dict[str, Any]:
        def table(t: dict[str, Line]) -> dict[str, Any]:
            return {k: v.to_dict() for k, v in sorted(t.items())}

        return {
            "features": self.features,
            "total": self.total.to_dict(),
            "by_stage": table(self.by_stage),
            "by_task": table(self.by_task),
            "by_model": table(self.by_model),
            "by_agent": table(self.by_agent),
            "by_run": table(self.by_run),
            "unmerged_runs": {b: sorted(r) for b, r in sorted(self.unmerged.items())},
        }


def _artifact_versions(store: ArtifactStore, kind: str) -> list[Provenance]:
    """Every generated version of an artifact: the current file and its .history/."""
    from specflow.formats.frontmatter import split_front_matter

    paths = [*store.history(kind), store.feature.artifact(kind)]
    found: list[Provenance] = []
    seen: set[tuple[int, str]] = set()
    for path in paths:
        if not path.is_file():
            continue
        try:
            meta, _ = split_front_matter(path.read_text(encoding="utf-8", errors="replace"))
            prov = Provenance.from_meta(meta or {}, path)
        except ParseError:
            continue
        # a clarify-only version repeats its parent's usage: count each generation once
        if prov is None or (prov.version, prov.created) in seen or prov.extra.get("clarified"):
            continue
        seen.add((prov.version, prov.created))
        found.append(prov)
    return found


def cost_report(project: Project, features: list[Feature]) -> CostReport:
    from specflow.workspace.branches import FeatureRef, read_branches

    rep = CostReport()
    refs = [
        FeatureRef(f.name, f.path, frozenset(p.name for p in f.runs_dir.glob("*.json")))
        for f in features
    ]
    branches = read_branches(project.root, refs, records=True)
    for feature in features:
        rep.features.append(feature.name)
        store = ArtifactStore(project, feature)
        for kind in KINDS:
            for prov in _artifact_versions(store, kind):
                if not prov.usage:
                    continue
                usage = prov.usage
                rep._add(rep.by_stage, STAGE_OF[kind], usage)
                rep._add(rep.by_model, prov.model or "?", usage)
                rep.total.add(usage)
        _add_opinions(rep, feature)
        for record_path in sorted(feature.runs_dir.glob("*.json")):
            try:
                record = json.loads(record_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            _add_run(rep, feature, record, record_path.stem)
        st = branches.get(feature.name)
        if st is not None and st.records and not st.in_checkout:
            for name, record in sorted(st.records.items()):
                _add_run(rep, feature, record, name.removesuffix(".json"))
            rep.unmerged[st.branch] = [n.removesuffix(".json") for n in st.records]
    return rep


def _add_opinions(rep: CostReport, feature: Feature) -> None:
    """`drift --explain` records (`specs/<feature>/drift/*.json`): stage `drift`."""
    from specflow.stages.drift import opinions_dir

    for path in sorted(opinions_dir(feature).glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        usage = record.get("usage") if isinstance(record, dict) else None
        if not isinstance(usage, dict) or not any(usage.values()):
            continue
        rep._add(rep.by_stage, "drift", usage)
        rep._add(rep.by_model, str(record.get("opinion_of") or "?"), usage)
        rep.total.add(usage)


def _add_run(rep: CostReport, feature: Feature, record: dict[str, Any], stem: str) -> None:
    agent = str(record.get("agent", "?"))
    model = str(record.get("model") or "?")
    run = str(record.get("run", stem))
    for tid, task in (record.get("tasks") or {}).items():
        usage = task.get("usage") or {}
        rep.by_run.setdefault(run, Line())
        if not any(usage.values()):
            continue
        # A task's usage includes its reviews (`review_usage`): the reviewer's share goes to
        # the review stage and the reviewer's model, the rest to implement and the agent.
        review = task.get("review_usage") or {}
        own = {k: float(v or 0) - float(review.get(k, 0) or 0) for k, v in usage.items()}
        if any(own.values()):
            rep._add(rep.by_stage, "implement", own)
            rep._add(rep.by_model, str(task.get("model") or model), own)
            rep._add(rep.by_agent, agent, own)
        if any(review.values()):
            rep._add(rep.by_stage, "review", review)
            rep._add(rep.by_model, str(task.get("review_model") or "?"), review)
        rep._add(rep.by_task, f"{feature.name}/{tid}", usage)
        rep._add(rep.by_run, run, usage)
        rep.total.add(usage)
