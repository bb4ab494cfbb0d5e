from __future__ import annotations

import pytest

from specflow.domain.plan import Plan
from specflow.domain.spec import Spec
from specflow.domain.tasks import TaskList
from specflow.errors import InputError
from specflow.formats import KINDS, parse_artifact, render_artifact


@pytest.mark.parametrize(
    ("kind", "model"),
    [("spec", Spec(title="A")), ("plan", Plan(title="B")), ("tasks", TaskList(title="C"))],
)
def test_dispatch_round_trip(kind: str, model: Spec | Plan | TaskList) -> None:
    assert kind in KINDS
    text = render_artifact(kind, model)
    assert parse_artifact(kind, text, f"{kind}.md") == model


def test_parse_skips_front_matter_and_keeps_file_lines() -> None:
    text = "---\nspecflow:\n  artifact: tasks\n---\n\n# Tasks: X\n\n## P\n\n- [ ] T001 a\n"
    tl = parse_artifact("tasks", text)
    assert isinstance(tl, TaskList)
    assert tl.all_tasks()[0].line == 10


def test_unknown_kind_and_wrong_model() -> None:
    with pytest.raises(InputError):
        parse_artifact("constitution", "# X\n")
    with pytest.raises(InputError):
        render_artifact("constitution", Spec(title="A"))
    with pytest.raises(TypeError):
        render_artifact("plan", Spec(title="A"))
