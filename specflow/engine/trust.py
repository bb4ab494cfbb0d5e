"""Wiring for `specflow implement`: the trust policy's gates, the budget and model routing,
built from the config and the command line (docs/trust.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from specflow.config import Config
from specflow.domain.tasks import TaskGraph
from specflow.engine.budget import Budget
from specflow.engine.gates import Gatekeeper, GateSettings
from specflow.engine.policy import ModelRouter, gates_for
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
) -> TrustPlan:
    """`check`: refuse (ConfigError) a policy that needs a reviewer when none is configured."""
    tasks = [graph.tasks[t] for t in selected]
    reviewer = Gatekeeper.reviewer_for(config, tasks) if check else config.model_for("review")
    limit = max_cost if max_cost is not None else config.budget.max_cost_usd
    return TrustPlan(
        reviewer=reviewer,
        max_cost=limit,
        router=ModelRouter.from_config(config, model),
        gates_by_task={t.id: gates_for(t, config.policy).describe() for t in tasks},
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
    from specflow.engine.policy import vendor_of

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
                implementer=implementer,
                review_retries=config.implement.review_retries,
                max_diff_chars=config.review.max_diff_chars,
                project_root=project_root,
            ),
            git,
            events,
            paths,
        )
    if plan.reviewer and implementer and vendor_of(plan.reviewer) == vendor_of(implementer):
        events.emit(
            "warning",
            message=f"reviewer {plan.reviewer} and implementer {implementer} are from the same "
            f"vendor ({vendor_of(implementer)}); a different vendor catches more "
            "(set [models].review)",
        )
    if plan.gated:
        events.emit("policy", gates=plan.gated, reviewer=plan.reviewer)
    budget = None
    if plan.max_cost is not None:
        budget = Budget(plan.max_cost, per_task=config.implement.max_cost_usd)
        budget.attach(events)
    return TrustControls(gates, budget, plan.router)
