"""Which model a stage uses, opened with the project's settings and its call log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from specflow.errors import ModelConfigError
from specflow.project import Project

if TYPE_CHECKING:
    from specflow.llm.base import Model


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
    from specflow.llm.calls import CallLog
    from specflow.llm.registry import get_model

    name = resolve_model_name(project, stage, override)
    observer = CallLog(project.state_dir / "logs" / "calls.jsonl")
    return get_model(name, project.config.llm, observer)
