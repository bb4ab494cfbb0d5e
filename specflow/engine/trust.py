"""Wiring for `specflow implement`: the trust policy's gates, the budget and model routing,
built from the config and the command line (docs/trust.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from specflow.config import Config
from specflow.domain.tasks import TaskGraph
from specflow.engine.budget import Budget
from specflow.engine.gates import Gatekeeper, GateSettings
from specflow.engine.risk import gates_for
from specflow.engine.routing import Implementer, ModelRouter, ReviewerChoice
from specflow.runs.events import EventLog
from specflow.runs.state import RunPaths, TaskRecord
from specflow.workspace.git import Git


@dataclass
class TrustPlan:
    """What was decided before the run starts (config problems surface before any work)."""

    reviewer: str | None
    max_cost: float | None
    router: ModelRouter
    gates_by_task: dict[str, str]
    review: ReviewerChoice | None = None  # how the reviewer was chosen (vendor check)
    implementer: Implementer | None = None

    @property
    def gated(self) -> dict[str, str]:
        return {t: g for t, g in self.gates_by_task.items() if g != "verify"}


def plan_trust(
    config: Config,
    graph: TaskGraph,
    selected: list[str],
    model: str | None,
    max_cost: float | None,
    *,
    check: bool = True,
    implementer: Implementer | None = None,
) -> TrustPlan:
    """`check`: refuse (ConfigError) a policy that needs a reviewer when none is configured.
    `implementer`: who writes the code, so that the reviewer is of another vendor if possible."""
    tasks = [graph.tasks[t] for t in selected]
    choice = Gatekeeper.reviewer_for(config, tasks, implementer) if check else None
    reviewer = choice.model if choice else (None if check else config.model_for("review"))
    limit = max_cost if max_cost is not None else config.budget.max_cost_usd
    return TrustPlan(
        reviewer=reviewer,
        max_cost=limit,
        router=ModelRouter.from_config(config, model),
        gates_by_task={t.id: gates_for(t, config.policy).describe() for t in tasks},
        review=choice,
        implementer=implementer,
    )


@dataclass
class TrustControls:
    gates: Gatekeeper | None
    budget: Budget | None
    router: ModelRouter


def attach_trust(
    plan: TrustPlan,
    *,
    config: Config,
    feature: str,
    spec_text: str | None,
    project_root: Path,
    git: Git,
    events: EventLog,
    paths: RunPaths,
    records: dict[str, TaskRecord],
    implementer: str | None,
) -> TrustControls:
    needs_gate = any(g != "verify" for g in plan.gates_by_task.values())
    prefix = f"refs/specflow/awaiting/{feature}/"
    awaiting = bool(git.run("for-each-ref", "--count=1", prefix, check=False).stdout.strip())
    gates = None
    if needs_gate or awaiting:
        gates = Gatekeeper(
            config,
            GateSettings(
                feature=feature,
                spec_text=spec_text,
                reviewer=plan.reviewer,
                # the agent as named to people (a cmd: program is not the model it is handed)
                implementer=plan.implementer.label if plan.implementer else implementer,
                review_retries=config.implement.review_retries,
                max_diff_chars=config.review.max_diff_chars,
                project_root=project_root,
            ),
            git,
            events,
            paths,
        )
    warning = plan.review.warning(plan.implementer) if plan.review and plan.implementer else None
    if warning:
        events.emit("warning", message=warning)
    if plan.gated:
        same = plan.review.same_vendor if plan.review else None
        events.emit("policy", gates=plan.gated, reviewer=plan.reviewer, same_vendor=same)
    budget = None
    if plan.max_cost is not None:
        budget = Budget(plan.max_cost, per_task=config.implement.max_cost_usd)
        budget.attach(events)
    return TrustControls(gates, budget, plan.router)
