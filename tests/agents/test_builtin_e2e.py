"""The builtin agent end to end: the real litellm client against a local OpenAI-compatible stub,
in a real git repository. The stub returns tool calls that write, edit and check a file, then
`finish`; every request the client sent is inspected afterwards."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from specflow.agents.base import AgentTask, Limits
from specflow.agents.builtin import BuiltinAgent
from specflow.domain.tasks import Task
from tests.support.stub_llm import StubLLM


def _agent(stub: StubLLM, monkeypatch: pytest.MonkeyPatch) -> BuiltinAgent:
    for key, value in stub.env().items():  # OPENAI_API_BASE / OPENAI_API_KEY -> the stub
        monkeypatch.setenv(key, value)
    return BuiltinAgent(model=stub.model)  # the default factory: specflow.llm.registry.get_model


def test_builtin_agent_against_a_stub_openai_server(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPECFLOW_E2E_API_KEY", "sk-must-not-leak")
    check = [
        sys.executable,
        "-c",
        "import greet; assert greet.greet() == 'hello, world'; print('OK')",
    ]
    with StubLLM() as stub:
        stub.reply_tool_calls(
            [
                {
                    "id": "w1",
                    "name": "write_file",
                    "arguments": {
                        "path": "greet.py",
                        "content": "def greet():\n    return 'hello'\n",
                    },
                }
            ],
            content="Creating the module.",
        )
        stub.reply_tool_calls(
            [
                {
                    "id": "e1",
                    "name": "edit_file",
                    "arguments": {"path": "greet.py", "old": "'hello'", "new": "'hello, world'"},
                }
            ]
        )
        stub.reply_tool_calls(
            [
                {"id": "r1", "name": "run", "arguments": {"command": check}},
                {"id": "r2", "name": "run", "arguments": {"command": ["env"]}},
            ]
        )
        stub.reply_tool_calls(
            [{"id": "f1", "name": "finish", "arguments": {"summary": "added greet()"}}]
        )
        agent = _agent(stub, monkeypatch)
        job = AgentTask(
            run_id="r1",
            feature="001-greet",
            task=Task(id="T001", title="Add greet()"),
            worktree=git_repo,
            brief_path=git_repo / "brief.md",
            brief="Add greet() returning 'hello, world'.",
            limits=Limits(max_steps=10, max_seconds=60),
        )
        events: list[tuple[str, dict[str, Any]]] = []
        result = agent.run(job, lambda kind, **data: events.append((kind, data)), threading.Event())
        requests = stub.requests

    assert result.ok, result.reason
    assert result.summary == "added greet()" and result.steps == 5
    assert result.usage.prompt_tokens == 40 and result.usage.calls == 4
    assert (git_repo / "greet.py").read_text() == "def greet():\n    return 'hello, world'\n"
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=git_repo, capture_output=True, text=True
    ).stdout
    assert status.strip() == "?? greet.py"  # changed, not committed: the engine commits

    assert len(requests) == 4
    first = requests[0]
    assert first["model"] == "stub"
    assert {t["function"]["name"] for t in first["tools"]} == {
        "list_files",
        "read_file",
        "write_file",
        "edit_file",
        "grep",
        "run",
        "finish",
    }
    assert [m["role"] for m in first["messages"]] == ["system", "user"]
    second = requests[1]["messages"]
    assert second[-2]["role"] == "assistant" and second[-2]["tool_calls"][0]["id"] == "w1"
    assert second[-1] == {
        "role": "tool",
        "tool_call_id": "w1",
        "content": "created greet.py (2 lines)",
    }
    fourth = requests[3]["messages"]
    tool_results = {m["tool_call_id"]: m["content"] for m in fourth if m["role"] == "tool"}
    assert "[exit code 0]" in tool_results["r1"] and "OK" in tool_results["r1"]
    assert "sk-must-not-leak" not in tool_results["r2"] and "sk-test" not in tool_results["r2"]

    steps = [d for k, d in events if k == "agent_step"]
    assert [s["tool"] for s in steps] == ["write_file", "edit_file", "run", "run", "finish"]
    assert len([k for k, _ in events if k == "model_call"]) == 4


def test_malformed_arguments_from_the_provider_go_back_to_the_model(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with StubLLM() as stub:
        stub.reply_tool_calls(
            [{"id": "bad", "name": "write_file", "arguments": '{"path": "x.py", "content": '}]
        )
        stub.reply_tool_calls([{"id": "f1", "name": "finish", "arguments": {"summary": "retried"}}])
        agent = _agent(stub, monkeypatch)
        job = AgentTask(
            run_id="r1",
            feature="001-greet",
            task=Task(id="T002", title="x"),
            worktree=git_repo,
            brief_path=git_repo / "brief.md",
            brief="x",
        )
        result = agent.run(job, lambda kind, **data: None, threading.Event())
        requests = stub.requests
    assert result.ok and result.summary == "retried"
    answer = requests[1]["messages"][-1]
    assert answer["role"] == "tool" and answer["tool_call_id"] == "bad"
    assert "not valid JSON" in answer["content"] and "resend" in answer["content"]
    assert not (git_repo / "x.py").exists()


def test_cached_prompt_tokens_reach_cost_and_the_report(tmp_path: Path) -> None:
    """A real `implement` with the builtin agent on the stub, which reports part of each prompt
    as served from its cache: the tokens reach the run record, `specflow cost` and the report."""
    import json

    from tests.engine.engine_helpers import cli, git, make_repo
    from tests.support.stub_llm import tool_calls_reply

    repo = make_repo(tmp_path, "# Tasks\n\n- [ ] T001 Write a note in notes.md\n")
    usage = {"prompt_tokens": 1500, "completion_tokens": 20}
    cached = {**usage, "prompt_tokens_details": {"cached_tokens": 1280}}

    def answer(body: dict[str, Any]) -> Any:
        if body["messages"][-1]["role"] == "user":  # the first turn: nothing cached yet
            write = {"path": "notes.md", "content": "note\n"}
            return tool_calls_reply([{"name": "write_file", "arguments": write}], usage=usage)
        done = {"summary": "wrote the note"}
        return tool_calls_reply([{"name": "finish", "arguments": done}], usage=cached)

    with StubLLM(default_reply=answer) as stub:
        p = cli(repo, "implement", "--agent", "builtin", "--model", stub.model, env=stub.env())
        assert p.returncode == 0, p.stderr
        assert len(stub.requests) == 2
    git(repo, "merge", "-q", "--ff-only", "specflow/001-calc")
    cost = json.loads(cli(repo, "cost", "--json").stdout)
    assert cost["by_stage"]["implement"]["cached_tokens"] == 1280
    assert cost["by_stage"]["implement"]["prompt_tokens"] == 3000
    text = cli(repo, "cost").stdout
    assert "cached" in text.splitlines()[0] and "1280" in text
    out = tmp_path / "report.html"
    r = cli(repo, "report", "--output", str(out))
    assert r.returncode == 0, r.stderr
    html = out.read_text()
    assert 'id="card-cached">1,280<' in html
