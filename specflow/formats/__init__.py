"""Markdown artifacts: parse into the domain models (markdown-it-py), render back (jinja2).

`parse_artifact(kind, body, path)` / `render_artifact(kind, model)` dispatch on the artifact
kind: "spec", "plan" or "tasks". Bodies may carry YAML front matter; parsers skip it, and
line numbers in errors count from the top of the text given.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal, Union, overload

from specflow.errors import InputError

if TYPE_CHECKING:
    from specflow.domain.plan import Plan
    from specflow.domain.spec import Spec
    from specflow.domain.tasks import TaskList

    Artifact = Union[Spec, Plan, TaskList]

Kind = Literal["spec", "plan", "tasks"]
KINDS: tuple[str, ...] = ("spec", "plan", "tasks")


@overload
def parse_artifact(kind: Literal["spec"], body: str, path: str | None = None) -> Spec: ...
@overload
def parse_artifact(kind: Literal["plan"], body: str, path: str | None = None) -> Plan: ...
@overload
def parse_artifact(kind: Literal["tasks"], body: str, path: str | None = None) -> TaskList: ...
@overload
def parse_artifact(kind: str, body: str, path: str | None = None) -> Artifact: ...
def parse_artifact(kind: str, body: str, path: str | None = None) -> Artifact:
    """Parse an artifact body (front matter allowed) into its domain model."""
    if kind == "spec":
        from specflow.formats.spec_md import parse_spec

        return parse_spec(body, path)
    if kind == "plan":
        from specflow.formats.plan_md import parse_plan

        return parse_plan(body, path)
    if kind == "tasks":
        from specflow.formats.tasks_md import parse_tasks

        return parse_tasks(body, path)
    raise InputError(f"unknown artifact kind '{kind}'", f"choose one of: {', '.join(KINDS)}")


def render_artifact(kind: str, model: Artifact, project_root: Path | None = None) -> str:
    """Render a model as Markdown (no front matter) with `templates/artifacts/<kind>.md.j2`."""
    from specflow.domain.plan import Plan
    from specflow.domain.spec import Spec
    from specflow.domain.tasks import TaskList

    if kind == "spec" and isinstance(model, Spec):
        from specflow.formats.spec_md import render_spec

        return render_spec(model, project_root)
    if kind == "plan" and isinstance(model, Plan):
        from specflow.formats.plan_md import render_plan

        return render_plan(model, project_root)
    if kind == "tasks" and isinstance(model, TaskList):
        from specflow.formats.tasks_md import render_tasks

        return render_tasks(model, project_root)
    if kind not in KINDS:
        raise InputError(f"unknown artifact kind '{kind}'", f"choose one of: {', '.join(KINDS)}")
    raise TypeError(f"cannot render a {type(model).__name__} as {kind}")


__all__ = ["KINDS", "Kind", "parse_artifact", "render_artifact"]
