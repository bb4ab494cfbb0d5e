"""What every generation stage shares: choosing the model, building the prompt, calling it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from specflow.errors import ModelConfigError, ModelError
from specflow.llm.base import Usage
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


def resolve_model_name(project: Project, stage: str, override: str | None) -> str:
    name = project.config.model_for(stage, override)
    if not name:
        raise ModelConfigError(
            f"no model configured for the {stage} stage",
            "set SPECFLOW_MODEL to any litellm model name (e.g. openai/gpt-4o-mini), "
            "pass --model, or set [models] in specflow.toml",
        )
    return name


def open_model(project: Project, stage: str, override: str | None) -> Model:
    from specflow.llm.registry import CallLog, get_model

    name = resolve_model_name(project, stage, override)
    observer = CallLog(project.state_dir / "logs" / "calls.jsonl")
    return get_model(name, project.config.llm, observer)


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
