"""`specify --quick`: one model call, the same three artifacts, accepted by check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli, snapshot
from tests.support.schema_stub import by_schema
from tests.support.stage_stub import DEMO as REC
from tests.support.stage_stub import FAST
from tests.support.stub_llm import StubLLM

CHANGE = {"spec": REC.SPEC, "plan": REC.PLAN, "tasks": REC.TASKS}


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Any:
    with StubLLM() as server:
        for k, v in server.env().items():
            monkeypatch.setenv(k, v)
        yield server


@pytest.fixture
def proj(project: Path) -> Path:
    cfg = project / "specflow.toml"
    cfg.write_text(cfg.read_text() + FAST)
    return project


def test_quick_writes_three_fresh_artifacts_in_one_call(proj: Path, stub: Any) -> None:
    stub.default_reply = by_schema({"QuickChange": CHANGE})
    res = run_cli(["specify", "--quick", "Add unit conversions", "-m", "openai/stub"], proj)
    assert res.code == 0, res.stderr
    assert len(stub.requests) == 1
    assert "spec.md, plan.md, tasks.md" in res.stdout
    status = json.loads(run_cli(["status", "--json"], proj).stdout)["features"][0]
    assert [(a["kind"], a["state"]) for a in status["artifacts"]] == [
        ("spec", "fresh"),
        ("plan", "fresh"),
        ("tasks", "fresh"),
    ]
    feature = proj / status["path"]
    assert (feature / "feature.md").read_text() == "Add unit conversions"
    assert "generated_with: specify --quick" in (feature / "tasks.md").read_text()
    res = run_cli(["check"], proj)
    assert res.code == 0, res.stdout
    # the whole call is spent once: cost of the feature = cost of the one call
    assert "prompt_tokens: 10" in (feature / "spec.md").read_text()
    assert "prompt_tokens: 0" in (feature / "plan.md").read_text()


def test_quick_answer_that_does_not_cover_a_requirement_changes_nothing(
    proj: Path, stub: Any
) -> None:
    tasks = json.loads(json.dumps(REC.TASKS))
    for phase in tasks["phases"]:
        for task in phase["tasks"]:
            task["covers"] = [c for c in task["covers"] if c != "FR-001"]
    stub.default_reply = by_schema({"QuickChange": {**CHANGE, "tasks": tasks}})
    before = snapshot(proj)
    res = run_cli(["specify", "--quick", "Add unit conversions", "-m", "openai/stub"], proj)
    assert res.code == 1
    assert "FR-001 is covered by no task" in res.stderr
    assert len(stub.requests) == 2  # one repair round with the problems listed
    assert "FR-001 is covered by no task" in stub.requests[1]["messages"][-1]["content"]
    assert snapshot(proj) == before


def test_quick_refuses_other_modes(proj: Path) -> None:
    res = run_cli(["specify", "--quick", "--bugfix", "x"], proj)
    assert res.code == 2 and "one at a time" in res.stderr
