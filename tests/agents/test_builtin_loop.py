"""The builtin agent's loop against a scripted model: finishing, limits, loops, nudges, errors."""

from __future__ import annotations

import copy
import itertools
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from specflow.agents.base import AgentResult, AgentTask, Limits
from specflow.agents.builtin import BuiltinAgent
from specflow.agents.builtin.loop import NUDGE
from specflow.domain.tasks import Task
from specflow.errors import ModelError
from specflow.llm.base import Completion, Message, ToolCall, Usage
from specflow.llm.prompt_cache import without_cache_marks

_ids = itertools.count()


def call(name: str, raw: str | None = None, **args: Any) -> Completion:
    tc = ToolCall(
        id=f"c{next(_ids)}",
        name=name,
        arguments=args if raw is None else {},
        raw_arguments=raw or "",
    )
    return Completion(content=None, tool_calls=[tc], usage=Usage(10, 5, 0.01), model="fake")


def text(content: str) -> Completion:
    return Completion(content=content, usage=Usage(10, 5, 0.01), model="fake")


class FakeModel:
    """Answers from a list, or from a function of (messages, call number)."""

    name = "fake"

    def __init__(
        self, script: list[Completion] | Callable[[list[Message], int], Completion]
    ) -> None:
        self.script = script
        self.requests: list[dict[str, Any]] = []

    def complete(
        self,
        messages: list[Message],
        *,
        purpose: str,
        tools: list[dict[str, Any]] | None = None,
        response_format: dict[str, Any] | None = None,
    ) -> Completion:
        n = len(self.requests)
        self.requests.append(
            {
                "messages": copy.deepcopy(without_cache_marks(messages)),
                "marked": [i for i, m in enumerate(messages) if "cache_control" in m],
                "purpose": purpose,
                "tools": tools,
            }
        )
        if callable(self.script):
            return self.script(messages, n)
        if n >= len(self.script):
            raise ModelError("script exhausted")
        return self.script[n]


class Events:
    def __init__(self) -> None:
        self.items: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, kind: str, **data: Any) -> None:
        self.items.append((kind, data))

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [d for k, d in self.items if k == kind]


def job_for(root: Path, title: str = "Add a greeting", **kw: Any) -> AgentTask:
    task = Task(id="T001", title=title, verify="python -m pytest -q")
    return AgentTask(
        run_id="r1",
        feature="001-demo",
        task=task,
        worktree=root,
        brief_path=root / "brief.md",
        brief=kw.pop("brief", f"Implement: {title}"),
        **kw,
    )


def run_agent(
    root: Path, model: FakeModel, cancel: threading.Event | None = None, **kw: Any
) -> tuple[AgentResult, Events]:
    events = Events()
    agent = BuiltinAgent(lambda name: model, environ={"PATH": "/usr/bin:/bin"})
    return agent.run(job_for(root, **kw), events, cancel or threading.Event()), events


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    wt = tmp_path / "wt"
    wt.mkdir()
    (wt / "app.py").write_text("def hello():\n    return 'hi'\n")
    return wt


def test_write_edit_finish(root: Path) -> None:
    model = FakeModel(
        [
            call("write_file", path="greet.py", content="def greet():\n    return 'hello'\n"),
            call("edit_file", path="greet.py", old="'hello'", new="'hello, world'"),
            call("finish", summary="added greet()"),
        ]
    )
    result, events = run_agent(root, model)
    assert result.ok and result.summary == "added greet()" and result.reason is None
    assert result.steps == 3 and result.usage.calls == 3
    assert result.usage.cost_usd == pytest.approx(0.03)
    assert (root / "greet.py").read_text() == "def greet():\n    return 'hello, world'\n"
    first = model.requests[0]
    assert first["purpose"] == "implement/T001"
    assert {t["function"]["name"] for t in first["tools"]} >= {"run", "finish", "edit_file"}
    system, user = first["messages"]
    assert system["role"] == "system" and "finish" in system["content"]
    assert user["role"] == "user" and "Implement: Add a greeting" in user["content"]
    assert "python -m pytest -q" in user["content"]  # the task's verify command
    assert "python -m pytest" not in system["content"]  # the system prompt is task-independent
    assert model.requests[1]["messages"][-2]["tool_calls"][0]["function"]["name"] == "write_file"
    assert model.requests[1]["messages"][-1]["content"].startswith("created greet.py")
    steps = events.of("agent_step")
    assert [s["tool"] for s in steps] == ["write_file", "edit_file", "finish"]
    assert [s["step"] for s in steps] == [1, 2, 3] and all(s["ok"] for s in steps)
    calls = events.of("model_call")
    assert (
        len(calls) == 3 and calls[0]["prompt_tokens"] == 10 and calls[-1]["total_cost_usd"] == 0.03
    )
    assert events.items[0][0] == "agent_model" and events.items[0][1]["model"] == "fake"
    assert [s["usage"]["prompt_tokens"] for s in steps] == [10, 10, 10]


def test_the_fixed_prefix_is_byte_stable_and_marked_for_caching(root: Path) -> None:
    """Tool schemas and system prompt are the same bytes whatever the task, its check and its
    limits (providers cache by prefix); every request marks the system message and the newest
    message as cache breakpoints."""
    one = FakeModel([call("list_files"), call("finish", summary="ok")])
    run_agent(root, one, title="Add a greeting")
    two = FakeModel([call("finish", summary="ok")])
    limits = Limits(max_steps=7, max_seconds=60, max_cost_usd=0.5)
    run_agent(root, two, title="Something else entirely", limits=limits, attempt=2)
    a, b = one.requests[0], two.requests[0]
    assert a["messages"][0] == b["messages"][0] and a["tools"] == b["tools"]
    assert a["messages"][1] != b["messages"][1]
    assert "7 tool calls" in b["messages"][1]["content"] and "$0.50" in b["messages"][1]["content"]
    assert a["marked"] == [0, 1]
    second = one.requests[1]
    assert second["marked"] == [0, len(second["messages"]) - 1]


def test_tool_results_answer_their_call_ids(root: Path) -> None:
    first = call("list_files")
    model = FakeModel([first, call("finish", summary="ok")])
    run_agent(root, model)
    tool_msg = model.requests[1]["messages"][-1]
    assert tool_msg == {"role": "tool", "tool_call_id": first.tool_calls[0].id, "content": "app.py"}


def test_feedback_goes_into_the_user_message(root: Path) -> None:
    model = FakeModel([call("finish", summary="fixed")])
    run_agent(root, model, feedback="AssertionError: expected 2", attempt=2)
    user = model.requests[0]["messages"][1]["content"]
    assert "Feedback from attempt 1" in user and "AssertionError: expected 2" in user


def reader(messages: list[Message], n: int) -> Completion:
    return call("read_file", path="app.py", start_line=1 + n % 2, end_line=2 + n)  # never identical


def test_step_limit(root: Path) -> None:
    result, events = run_agent(root, FakeModel(reader), limits=Limits(max_steps=5))
    assert not result.ok and result.reason == "step limit (5) reached"
    assert result.steps == 5 and len(events.of("agent_step")) == 5


def test_time_limit(root: Path) -> None:
    def slow(messages: list[Message], n: int) -> Completion:
        time.sleep(0.1)
        return reader(messages, n)

    start = time.monotonic()
    result, _ = run_agent(root, FakeModel(slow), limits=Limits(max_seconds=0.35))
    assert time.monotonic() - start < 2
    assert not result.ok and result.reason is not None and result.reason.startswith("time limit")


def test_time_limit_bounds_a_running_command(root: Path) -> None:
    model = FakeModel(
        [call("run", command=["sleep", "20"], timeout_s=60), call("finish", summary="x")]
    )
    start = time.monotonic()
    result, events = run_agent(root, model, limits=Limits(max_seconds=0.5))
    assert time.monotonic() - start < 5
    assert not result.ok and result.reason is not None and result.reason.startswith("time limit")
    assert "timed out" in events.of("agent_step")[0]["result"]


def test_cost_limit(root: Path) -> None:
    def pricey(messages: list[Message], n: int) -> Completion:
        c = reader(messages, n)
        c.usage = Usage(100, 50, 0.10)
        return c

    model = FakeModel(pricey)
    result, _ = run_agent(root, model, limits=Limits(max_cost_usd=0.25))
    assert not result.ok and result.reason is not None
    assert result.reason.startswith("cost limit $0.25 reached")
    assert len(model.requests) == 3  # stops before spending more


def test_cancel(root: Path) -> None:
    cancel = threading.Event()

    def cancelling(messages: list[Message], n: int) -> Completion:
        if n == 1:
            cancel.set()
        return reader(messages, n)

    result, _ = run_agent(root, FakeModel(cancelling), cancel=cancel)
    assert not result.ok and result.reason == "cancelled" and result.steps == 1


def test_repeated_identical_call_is_a_loop(root: Path) -> None:
    model = FakeModel(lambda m, n: call("run", command=["ls"]))
    result, _ = run_agent(root, model)
    assert not result.ok and result.reason is not None
    assert result.reason.startswith("loop: repeated run") and result.steps == 2


def test_same_failing_command_between_reads_is_a_loop(root: Path) -> None:
    def flailing(messages: list[Message], n: int) -> Completion:
        return call("run", command=["false"]) if n % 2 == 0 else reader(messages, n)

    result, _ = run_agent(root, FakeModel(flailing))
    assert not result.ok and result.reason is not None
    assert result.reason.startswith("loop: repeated run `false` failing 3 times")
    assert result.steps == 5


def test_a_file_edit_resets_the_failing_command_count(root: Path) -> None:
    def fixing(messages: list[Message], n: int) -> Completion:
        if n == 9:
            return call("finish", summary="done")
        if n % 2 == 0:
            return call("run", command=["false"])
        return call("write_file", path="app.py", content=f"v = {n}\n")

    result, _ = run_agent(root, FakeModel(fixing))
    assert result.ok, result.reason


def test_a_reply_without_a_tool_call_is_nudged_once(root: Path) -> None:
    model = FakeModel([text("I will now write the code."), call("finish", summary="done")])
    result, events = run_agent(root, model)
    assert result.ok and result.steps == 1
    assert model.requests[1]["messages"][-1] == {"role": "user", "content": NUDGE}
    assert events.of("agent_note")[0]["text"] == "I will now write the code."


def test_a_model_that_never_calls_tools_is_stopped(root: Path) -> None:
    model = FakeModel(lambda m, n: text("thinking..."))
    result, _ = run_agent(root, model)
    assert not result.ok and result.reason is not None and "without a tool call" in result.reason
    assert len(model.requests) <= 5


def test_malformed_and_unknown_tool_calls_go_back_to_the_model(root: Path) -> None:
    model = FakeModel(
        [
            call("write_file", raw='{"path": "x.py", "content": '),
            call("delete_everything", path="."),
            call("read_file", path="../../etc/passwd"),
            call("finish", summary="gave up"),
        ]
    )
    result, events = run_agent(root, model)
    assert result.ok and result.steps == 4
    results = [s["result"] for s in events.of("agent_step")]
    assert "malformed JSON" in results[0]
    assert "unknown tool" in results[1]
    assert "outside the worktree" in results[2]
    assert [s["ok"] for s in events.of("agent_step")] == [False, False, False, True]
    assert not (root / "x.py").exists()


def test_model_errors_end_the_attempt(root: Path) -> None:
    def broken(messages: list[Message], n: int) -> Completion:
        raise ModelError("provider said no")

    result, _ = run_agent(root, FakeModel(broken))
    assert not result.ok and result.reason == "model error: provider said no"


def test_task_text_is_never_run_by_a_shell(root: Path) -> None:
    title = "Greet; rm -rf app.py $(touch pwned) `touch pwned2`"
    model = FakeModel(
        [
            call("run", command=f"echo {title}"),
            call("run", command=["echo", title]),
            call("finish", summary="ok"),
        ]
    )
    result, _ = run_agent(root, model, title=title)
    assert result.ok
    assert sorted(p.name for p in root.iterdir()) == ["app.py"]


def test_no_model_configured_fails_clearly(root: Path) -> None:
    result = BuiltinAgent().run(job_for(root), Events(), threading.Event())
    assert not result.ok and result.reason is not None
    assert result.reason.startswith("cannot start: no model for the implement stage")


def test_transcript_is_written(root: Path, tmp_path: Path) -> None:
    model = FakeModel(
        [text("Looking around."), call("list_files"), call("finish", summary="all done")]
    )
    agent = BuiltinAgent(lambda name: model, log_dir=tmp_path / "logs")
    events = Events()
    agent.run(job_for(root), events, threading.Event())
    log = tmp_path / "logs" / "T001" / "agent-1.log"
    assert events.of("agent_model")[0]["log"] == str(log)
    text_log = log.read_text()
    assert "model: Looking around." in text_log
    assert "step 1: list_files {} -> ok\n    app.py" in text_log
    assert text_log.rstrip().endswith("done: all done")
    conversation = (tmp_path / "logs" / "T001" / "builtin-1.json").read_text()
    assert '"role": "system"' in conversation and '"role": "tool"' in conversation


def test_importing_the_agent_does_not_import_litellm() -> None:
    code = "import sys, specflow.agents.builtin; assert 'litellm' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cancel_interrupts_a_hanging_model_call(root: Path) -> None:
    cancel = threading.Event()

    def hanging(messages: list[Message], n: int) -> Completion:
        time.sleep(3)
        return call("finish", summary="too late")

    threading.Timer(0.2, cancel.set).start()
    start = time.monotonic()
    result, _ = run_agent(root, FakeModel(hanging), cancel=cancel)
    assert time.monotonic() - start < 1.5
    assert not result.ok and result.reason == "cancelled"


def test_finish_is_accepted_in_the_reply_that_reaches_the_step_limit(root: Path) -> None:
    both = call("write_file", path="a.txt", content="a\n")
    both.tool_calls.append(ToolCall(id="f", name="finish", arguments={"summary": "done"}))
    result, _ = run_agent(root, FakeModel([both]), limits=Limits(max_steps=1))
    assert result.ok and result.summary == "done"


def test_a_crashing_tool_is_reported_to_the_model(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from specflow.agents.builtin.tools import Toolbox

    def boom(self: Toolbox, name: str, args: Any) -> Any:
        raise RuntimeError("bug")

    monkeypatch.setattr(Toolbox, "call", boom)
    _, events = run_agent(root, FakeModel([call("list_files"), call("finish", summary="x")]))
    assert "the tool failed: RuntimeError: bug" in events.of("agent_step")[0]["result"]


def test_old_tool_output_is_elided_when_the_conversation_grows(root: Path) -> None:
    (root / "big.txt").write_text("\n".join("y" * 100 for _ in range(100)))

    def reading(messages: list[Message], n: int) -> Completion:
        return (
            call("finish", summary="ok")
            if n == 12
            else call("read_file", path="big.txt", start_line=1 + n)
        )

    model = FakeModel(reading)
    events = Events()
    agent = BuiltinAgent(lambda name: model, max_context_chars=30_000)
    assert agent.run(job_for(root), events, threading.Event()).ok
    last = model.requests[-1]["messages"]
    tool_contents = [m["content"] for m in last if m["role"] == "tool"]
    assert "older output elided" in tool_contents[0]
    assert "older output elided" not in tool_contents[-1]
    assert all("older output elided" not in c for c in tool_contents[-6:])  # recent ones kept


def test_built_by_the_agent_registry(root: Path) -> None:
    from specflow.agents.registry import AgentOptions, resolve_agent
    from specflow.config import Config

    agent = resolve_agent(
        "builtin", AgentOptions(config=Config(), model="replay:/nonexistent.jsonl")
    )
    assert isinstance(agent, BuiltinAgent) and agent.default_model == "replay:/nonexistent.jsonl"
    result = agent.run(job_for(root), Events(), threading.Event())
    assert not result.ok and result.reason is not None
    assert result.reason.startswith("cannot start:") and "/nonexistent.jsonl" in result.reason
