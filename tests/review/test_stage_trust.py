"""The generation stages under the trust features: the tasks stage fills in missing risks,
and `--max-cost` refuses a generation whose last run cost more (real CLI, stub HTTP model)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli
from tests.support.stage_stub import DEMO as REC
from tests.support.stub_llm import StubLLM, json_reply

MODEL = "openai/gpt-4o-mini"
USAGE = {"prompt_tokens": 40_000, "completion_tokens": 4_000}  # $0.0084 a call


def _tasks_without_risk() -> dict[str, Any]:
    tasks = copy.deepcopy(REC.TASKS)
    for phase in tasks["phases"]:
        for t in phase["tasks"]:
            t.pop("risk", None)
    tasks["phases"][0]["tasks"][0]["files"] = ["db/migrations/0001_units.py"]
    return tasks


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Any:
    answers = {"specify": REC.SPEC, "plan": REC.PLAN, "tasks": _tasks_without_risk()}

    def reply(body: dict[str, Any]) -> Any:
        system = body["messages"][0]["content"]
        stage = next(s for s in answers if f"specflow's {s} stage" in system)
        return json_reply(answers[stage], usage=USAGE)

    with StubLLM(default_reply=reply) as server:
        for k, v in server.env().items():
            monkeypatch.setenv(k, v)
        yield server


def test_risks_inferred_and_stage_max_cost(project: Path, stub: StubLLM) -> None:
    (project / "feature.md").write_text(REC.SPEC["summary"] + "\n")
    for args in (["specify", "feature.md"], ["plan"], ["tasks"]):
        res = run_cli([*args, "--model", MODEL], project)
        assert res.code == 0, res.stderr
    feature = next(p for p in (project / "specs").iterdir() if p.is_dir())
    tasks_md = (feature / "tasks.md").read_text()
    t001 = tasks_md.split("T001", 1)[1].split("- [ ] T002", 1)[0]
    assert "risk: high" in t001  # a migration
    assert "risk: medium" in tasks_md  # code and its tests
    before = (feature / "plan.md").read_text()
    calls = len(stub.requests)
    res = run_cli(["plan", "--force", "--model", MODEL, "--max-cost", "0.001"], project)
    assert res.code == 1
    assert "plan: --max-cost $0.0010 would be exceeded: its last generation cost $0.0084" in (
        res.stderr
    )
    assert (feature / "plan.md").read_text() == before and len(stub.requests) == calls
    res = run_cli(["plan", "--force", "--model", MODEL, "--max-cost", "0.05"], project)
    assert res.code == 0, res.stderr
