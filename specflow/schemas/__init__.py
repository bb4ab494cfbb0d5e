"""JSON Schemas of the artifacts, shipped as files so reading one needs no pydantic import.

They are generated from the domain models (`python -m specflow.schemas` rewrites them) and a
test checks the shipped files match the models.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from specflow.errors import InputError

HERE = Path(__file__).resolve().parent
NAMES = ("spec", "plan", "tasks")


def _model_for(name: str) -> Any:
    if name == "spec":
        from specflow.domain.spec import Spec

        return Spec
    if name == "plan":
        from specflow.domain.plan import Plan

        return Plan
    from specflow.domain.tasks import TaskList

    return TaskList


def generate(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = _model_for(name).model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://specflow.dev/schemas/{name}.json"
    return schema


def schema_text(name: str) -> str:
    if name not in NAMES:
        raise InputError(f"unknown schema '{name}'", f"choose one of: {', '.join(NAMES)}")
    return (HERE / f"{name}.json").read_text(encoding="utf-8")


def load(name: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(schema_text(name))
    return result


def write_all() -> None:
    for name in NAMES:
        (HERE / f"{name}.json").write_text(json.dumps(generate(name), indent=2) + "\n")


if __name__ == "__main__":
    write_all()
