"""`specify --quick`: spec, plan and tasks for a small change in one model call.

The same artifacts as the three stages, checked the same way (unique ids, Markdown that reads
back, an acyclic graph covering every requirement), written with the same provenance — so
`status`, `check` and `implement` cannot tell a quick change from a ceremonious one, except
that the whole call's usage is recorded on spec.md and the others say they came with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from specflow.domain.plan import Plan
from specflow.domain.spec import Spec
from specflow.domain.tasks import TaskList
from specflow.llm.base import Usage
from specflow.project import Feature, Project
from specflow.stages import pipeline
from specflow.stages.newfeature import ask_new, create_feature

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from specflow.stages.common import ModelChoice

QUICK = {"generated_with": "specify --quick"}


class QuickChange(BaseModel):
    """The answer of the one call: all three artifacts."""

    model_config = ConfigDict(extra="forbid")

    spec: Spec
    plan: Plan
    tasks: TaskList


def problems(change: Any) -> list[str]:
    from specflow.formats.plan_md import parse_plan, render_plan

    found = [f"spec: {p}" for p in pipeline._spec_problems(change.spec, None)]
    found += [
        f"plan: {p}" for p in pipeline._roundtrip_problem(change.plan, render_plan, parse_plan)
    ]
    found += [f"tasks: {p}" for p in pipeline._tasks_problems(change.tasks, change.spec, None)]
    return found


def quick(
    project: Project,
    text: str,
    *,
    source: str = "description",
    **choice: Unpack[ModelChoice],
) -> tuple[Feature, Usage, str]:
    """Create `specs/NNN-slug/` with feature.md, spec.md, plan.md and tasks.md."""
    from specflow.engine.risk import with_inferred_risks
    from specflow.formats.plan_md import render_plan
    from specflow.formats.spec_md import render_spec
    from specflow.formats.tasks_md import render_tasks

    gen = ask_new(
        project,
        text,
        source,
        template="quick.md.j2",
        output=QuickChange,
        check=problems,
        **choice,
    )
    change: QuickChange = gen.value
    bodies = {
        "spec": render_spec(change.spec),
        "plan": render_plan(change.plan),
        "tasks": render_tasks(with_inferred_risks(change.tasks)),
    }
    shaped = {kind: f"artifacts/{kind}.md.j2" for kind in bodies}
    feature = create_feature(project, change.spec.title, text, bodies, gen, QUICK, shaped)
    return feature, gen.usage, gen.model
