"""What every generation stage shares: choosing the model, building the prompt, calling it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from pydantic import BaseModel

from specflow.errors import ModelError
from specflow.llm.base import Usage
from specflow.llm.budget import BudgetedModel
from specflow.llm.opening import open_model
from specflow.project import Project
from specflow.templating import render, template_hashes, template_ref

if TYPE_CHECKING:
    from specflow.llm.base import Message, Model


@dataclass
class Generated:
    value: Any
    usage: Usage
    model: str
    template: str
    attempts: int
    templates: dict[str, str]  # every prompt template used, by hash (see template_hashes)


class ModelChoice(TypedDict, total=False):
    """Which model a stage asks (every model-backed stage takes these two keywords)."""

    model_override: str | None  # a model name instead of the configured one
    model: Model | None  # a model already open (a budgeted one, a test's); else opened here


def chosen_model(project: Project, stage: str, choice: ModelChoice) -> Model:
    model = choice.get("model")
    return model if model is not None else open_model(project, stage, choice.get("model_override"))


def build_messages(project: Project, stage: str, template: str, **context: Any) -> list[Message]:
    system = render("prompts/system.md.j2", project.root, stage=stage)
    user = render(f"prompts/{template}", project.root, **context)
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def generate(
    project: Project,
    *,
    stage: str,
    template: str,
    output: type[BaseModel],
    model: Model,
    context: dict[str, Any],
    check: Any = None,
    inputs: dict[str, str] | None = None,
) -> Generated:
    """Ask for `output` as JSON; `check(value) -> list[str]` adds semantic validation.

    Schema problems get one repair round inside generate_structured; semantic problems found
    by `check` get one more round here, with the problems listed. Nothing is returned that
    failed either. `inputs` (name -> text) say what the question is about, for recorders and
    replay models (`llm.base.asking_about`).
    """
    from specflow.llm.base import asking_about
    from specflow.llm.structured import generate_structured

    with asking_about(inputs or {}):
        messages = build_messages(project, stage, template, **context)
        result = generate_structured(model, messages, output, purpose=stage)
        usage = result.usage
        attempts = result.attempts
        problems = check(result.value) if check else []
        if problems:
            listed = "\n".join(f"- {p}" for p in problems[:20])
            repair = [
                *messages,
                {"role": "assistant", "content": result.raw},
                {
                    "role": "user",
                    "content": "Your answer has these problems; answer again with the whole "
                    f"corrected JSON object:\n{listed}",
                },
            ]
            result = generate_structured(model, repair, output, purpose=stage)
            usage = usage + result.usage
            attempts += result.attempts
            problems = check(result.value)
            if problems:
                raise ModelError(
                    f"{stage}: the model's answer is still invalid after repair: {problems[0]}",
                    "try a stronger model with --model",
                )
    return Generated(
        value=result.value,
        usage=usage,
        model=model.name,
        template=template_ref(f"prompts/{template}", project.root),
        attempts=attempts,
        templates=template_hashes(["prompts/system.md.j2", f"prompts/{template}"], project.root),
    )


def usage_meta(usage: Usage) -> dict[str, Any]:
    return usage.to_dict()


# -- --max-cost for the generation stages (specify, plan, tasks) --------------------------


def last_stage_cost(project: Any, feature: Any, kind: str) -> float | None:
    """What the last generation of artifact `kind` cost, from its front matter (None: unknown)."""
    from specflow.artifacts import ArtifactStore

    try:
        art = ArtifactStore(project, feature).read(kind)
    except Exception:
        return None
    if art.provenance is None or not art.provenance.usage:
        return None
    return float(art.provenance.usage.get("cost_usd", 0.0) or 0.0)


def budgeted_model(
    project: Any, feature: Any, stage: str, override: str | None, max_cost: float | None
) -> Any:
    """The stage's model under `--max-cost` (None without a limit: the stage opens its own)."""
    if max_cost is None:
        return None
    kind = {"specify": "spec", "plan": "plan", "tasks": "tasks"}[stage]
    previous = last_stage_cost(project, feature, kind) if feature is not None else None
    return BudgetedModel(
        open_model(project, stage, override), max_cost, stage=stage, previous=previous
    )
