"""Budgets: the estimate, the room to start tasks, the per-agent cap, and `--max-cost` end to
end with the builtin agent on the stub LLM server (prices from litellm's table)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from engine_helpers import branch_tasks, cli, make_repo

from specflow.agents.base import Limits
from specflow.engine.budget import Budget
from specflow.runs.events import EventLog, read_events
from tests.support.stub_llm import Reply, StubLLM, tool_calls_reply


def _log(tmp_path: Path) -> EventLog:
    return EventLog(tmp_path / "events.jsonl", fsync=False)


def _spend(b: Budget, task: str, cost: float, kind: str = "agent_finished") -> None:
    b.observe({"kind": kind, "task": task, "usage": {"cost_usd": cost}})


def test_room_uses_the_mean_of_finished_tasks() -> None:
    b = Budget(1.0)
    assert b.room(4, []) == 1  # no estimate yet: one at a time
    assert b.room(3, ["T001"]) == 0
    _spend(b, "T001", 0.2)
    _spend(b, "T001", 0.1, "review_verdict")
    b.observe({"kind": "task_merged", "task": "T001"})
    assert abs(b.estimate() - 0.3) < 1e-9
    assert b.room(4, []) == 2  # 0.3 spent + 2 x 0.3 <= 1.0; a third would cross
    _spend(b, "T002", 0.25)
    assert b.room(4, ["T002"]) == 1  # T002 may still spend 0.05 of its estimate
    assert b.by_stage == {"implement": 0.45, "review": 0.1}


def test_per_task_limit_is_the_first_estimate_and_caps_agents() -> None:
    b = Budget(0.5, per_task=0.2)
    assert b.room(4, []) == 2
    assert b.limits_for(Limits(max_cost_usd=0.2)).max_cost_usd == 0.2  # the per-task limit
    _spend(b, "T001", 0.35)
    assert abs((b.limits_for(Limits(max_cost_usd=0.2)).max_cost_usd or 0) - 0.15) < 1e-9
    assert Budget(None).room(3, ["T001"]) == 3


def test_refuse_records_budget_exhausted_once(tmp_path: Path) -> None:
    log = _log(tmp_path)
    b = Budget(0.1)
    b.attach(log)
    log.emit("agent_finished", task="T001", usage={"cost_usd": 0.08})
    b.refuse(["T002", "T003"], log)
    b.refuse(["T002"], log)
    log.close()
    evs = [e for e in read_events(tmp_path / "events.jsonl") if e["kind"] == "budget_exhausted"]
    assert len(evs) == 1 and evs[0]["waiting"] == ["T002", "T003"] and evs[0]["spent"] == 0.08


MODEL = "openai/gpt-4o-mini"
USAGE = {"prompt_tokens": 20_000, "completion_tokens": 1_000}  # $0.0036 a call


def _builtin_reply(body: dict[str, Any]) -> Reply:
    """Write the task's file, then finish."""
    msgs = body["messages"]
    if msgs[-1]["role"] == "tool":
        return tool_calls_reply([{"name": "finish", "arguments": {"summary": "ok"}}], usage=USAGE)
    tid = re.search(r"\bT\d{3}\b", msgs[1]["content"]).group(0)  # type: ignore[union-attr]
    call = {"name": "write_file", "arguments": {"path": f"{tid}.txt", "content": f"{tid}\n"}}
    return tool_calls_reply([call], usage=USAGE)


def test_max_cost_stops_starting_tasks_before_the_limit(tmp_path: Path) -> None:
    tasks = "# Tasks\n\n" + "".join(
        f"- [ ] T00{i} [P] Part {i}\n  - files: T00{i}.txt\n" for i in range(1, 6)
    )
    repo = make_repo(tmp_path, tasks)
    with StubLLM(default_reply=_builtin_reply) as stub:
        p = cli(
            repo,
            *("implement", "-j", "2", "--agent", "builtin", "--model", MODEL),
            *("--max-cost", "0.02", "--json"),
            env=stub.env(),
        )
    assert p.returncode == 1, p.stderr
    assert "budget exhausted: spent $0.0144 of $0.0200 (implement $0.0144)" in p.stderr
    assert "3 task(s) not started" in p.stderr
    assert "--resume --max-cost" in p.stderr
    merged = branch_tasks(repo, "specflow/001-calc")
    assert len(merged) == 2
    report = json.loads(p.stdout)
    assert sorted(report["not_run"]) == sorted({f"T00{i}" for i in range(1, 6)} - set(merged))
    runs = sorted((repo / ".specflow" / "runs").iterdir())
    evs = read_events(runs[0] / "events.jsonl")
    spent = sum(
        e["usage"]["cost_usd"] for e in evs if e["kind"] == "agent_finished" and e.get("usage")
    )
    assert 0 < spent <= 0.02
    exhausted = [e for e in evs if e["kind"] == "budget_exhausted"]
    assert len(exhausted) == 1 and len(exhausted[0]["waiting"]) == 3
    assert len(stub.requests) == 4  # two calls for each of the two tasks, nothing more


def test_stage_model_refuses_to_cross_max_cost() -> None:
    import pytest

    from specflow.errors import BudgetExceeded
    from specflow.llm.base import Completion, Usage
    from specflow.llm.budget import BudgetedModel
    from specflow.llm.recorded import ScriptedModel

    def answer(cost: float) -> Completion:
        return Completion(content="{}", usage=Usage(10, 5, cost, 1), model="m")

    m = BudgetedModel(ScriptedModel([answer(0.06)] * 3), 0.1, stage="plan", previous=0.05)
    assert m.complete([], purpose="plan").usage.cost_usd == 0.06
    with pytest.raises(BudgetExceeded, match=r"plan: --max-cost \$0.1000 would be exceeded"):
        m.complete([], purpose="plan")  # a repair round would cross the limit
    last = BudgetedModel(ScriptedModel([answer(0.01)]), 0.1, stage="tasks", previous=0.25)
    with pytest.raises(BudgetExceeded, match=r"its last generation cost \$0.2500") as exc:
        last.complete([], purpose="tasks")
    assert exc.value.exit_code == 1
