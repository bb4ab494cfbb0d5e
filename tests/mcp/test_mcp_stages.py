"""run_stage over MCP: specify -> plan -> tasks with the configured model (a real HTTP stub)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.mcp.conftest import connect
from tests.support.stage_stub import DEMO as REC
from tests.support.stage_stub import stage_of
from tests.support.stub_llm import StubLLM, json_reply

ANSWERS = {"specify": REC.SPEC, "plan": REC.PLAN, "tasks": REC.TASKS}
FAST = "\n[llm]\nmax_retries = 1\nbackoff_base_s = 0.01\nbackoff_max_s = 0.05\ntimeout_s = 5\n"


@pytest.fixture
def stub() -> Iterator[Any]:
    with StubLLM() as server:
        server.default_reply = lambda body: json_reply(ANSWERS[stage_of(body)])
        yield server


def test_run_stage_specify_plan_tasks(project: Path, stub: Any, tmp_path: Path) -> None:
    cfg = project / "specflow.toml"
    cfg.write_text(cfg.read_text() + FAST)
    env = {**stub.env(), "SPECFLOW_MODEL": "openai/stub"}

    async def go() -> None:
        async with connect(project, tmp_path / "server.err", env) as c:
            msg = await c.error("run_stage", stage="deploy")
            assert "unknown stage 'deploy'" in msg and "specify, plan, tasks" in msg
            assert "specify needs feature_text" in await c.error("run_stage", stage="specify")
            out = await c.call("run_stage", stage="specify", feature_text=REC.SPEC["summary"])
            feature = out["feature"]
            assert out["artifact"] == "spec" and out["model"] == "openai/stub"
            for stage in ("plan", "tasks"):
                out = await c.call("run_stage", stage=stage, feature=feature)
                assert out["artifact"] == stage and out["state"] == "fresh", out
            again = await c.call("run_stage", stage="tasks", feature=feature)
            assert again["skipped"] is True  # up to date: no model call
            (listed,) = (await c.call("list_features"))["features"]
            assert listed["artifacts"] == {"spec": "fresh", "plan": "fresh", "tasks": "fresh"}
            assert listed["tasks_total"] == 6
            uris = {str(r.uri) for r in (await c.session.list_resources()).resources}
            assert {f"specflow://features/{feature}/{k}" for k in ("plan", "tasks")} <= uris
            assert "specflow://constitution" in uris
            text = (await c.session.read_resource(f"specflow://features/{feature}/plan")).contents
            assert "model: openai/stub" in text[0].text
            nxt = await c.call("next_task", feature=feature)
            assert nxt["task"] == "T001" and "## Requirements this task covers" in nxt["brief"]

    anyio.run(go)
    assert len(stub.requests) == 3
