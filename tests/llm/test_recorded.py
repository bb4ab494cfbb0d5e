"""Recording, replay and scripted models; get_model; call log and redaction."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from specflow.config import LLMSection
from specflow.errors import ModelError
from specflow.llm.base import Completion, Model, ToolCall, Usage
from specflow.llm.calls import CallLog, ObserverChain
from specflow.llm.litellm_model import LiteLLMModel
from specflow.llm.recorded import Recorder, ReplayModel, ScriptedModel, request_hash
from specflow.llm.registry import get_model
from specflow.redact import REDACTED, redact, redact_obj
from tests.support.stub_llm import StubLLM


def msgs(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def write_recording(path: Path, entries: Sequence[tuple[str, str | None, str]]) -> None:
    """entries: (purpose, request text or None for a non-matching hash, answer)."""
    with path.open("w") as f:
        for purpose, request, content in entries:
            h = request_hash(msgs(request)) if request is not None else "sha256:other"
            f.write(
                json.dumps(
                    {
                        "purpose": purpose,
                        "request_hash": h,
                        "model": "openai/gpt-4o-mini",
                        "response": {
                            "content": content,
                            "tool_calls": [],
                            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "cost_usd": 0.5},
                        },
                    }
                )
                + "\n"
            )


def test_request_hash_is_canonical() -> None:
    a = request_hash([{"role": "user", "content": "x"}], None, {"type": "json_object"})
    b = request_hash([{"content": "x", "role": "user"}], [], {"type": "json_object"})
    assert a == b and a.startswith("sha256:")
    assert a != request_hash([{"role": "user", "content": "y"}])


def test_replay_by_hash_then_by_purpose_order(tmp_path: Path) -> None:
    rec = tmp_path / "r.jsonl"
    write_recording(
        rec, [("plan", None, "first"), ("plan", None, "second"), ("plan", "exact", "hit")]
    )
    model = ReplayModel(rec)
    assert isinstance(model, Model)
    assert model.complete(msgs("exact"), purpose="plan").content == "hit"
    assert model.complete(msgs("anything"), purpose="plan").content == "first"
    out = model.complete(msgs("else"), purpose="plan")
    assert out.content == "second"
    assert out.usage == Usage(3, 2, 0.5, 1) and out.model == "openai/gpt-4o-mini"
    assert model.complete(msgs("exact"), purpose="plan").content == "hit"  # same question again
    with pytest.raises(ModelError, match=r"^replay: no recorded response for plan$") as info:
        model.complete(msgs("new"), purpose="plan")
    assert info.value.hint
    with pytest.raises(ModelError, match="for tasks"):
        model.complete(msgs("x"), purpose="tasks")


def test_replay_is_thread_safe_per_purpose(tmp_path: Path) -> None:
    rec = tmp_path / "r.jsonl"
    entries = [(f"implement/T{t}", None, f"T{t}-{i}") for i in range(20) for t in range(4)]
    write_recording(rec, entries)
    model = ReplayModel(rec)
    got: dict[int, list[str]] = {t: [] for t in range(4)}

    def agent(t: int) -> None:
        for i in range(20):
            got[t].append(str(model.complete(msgs(f"{i}"), purpose=f"implement/T{t}").content))

    threads = [threading.Thread(target=agent, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert got == {t: [f"T{t}-{i}" for i in range(20)] for t in range(4)}


def test_record_then_replay_round_trip(stub: StubLLM, fast: LLMSection, tmp_path: Path) -> None:
    rec = tmp_path / "rec.jsonl"
    stub.reply_tool_calls(
        [{"id": "c1", "name": "read_file", "arguments": {"path": "a"}}],
        usage={"prompt_tokens": 1000, "completion_tokens": 100},
    )
    stub.reply_text("final")
    tools = [{"type": "function", "function": {"name": "read_file", "parameters": {}}}]
    live = LiteLLMModel("openai/gpt-4o-mini", fast, Recorder(rec))
    first = live.complete(msgs("go"), purpose="implement/T1", tools=tools)
    second = live.complete([*msgs("go"), first.as_message()], purpose="implement/T1", tools=tools)
    lines = [json.loads(x) for x in rec.read_text().splitlines()]
    assert len(lines) == 2 and set(lines[0]) == {"purpose", "request_hash", "response", "model"}
    assert "sk-test" not in rec.read_text()

    replay = get_model(f"replay:{rec}", fast)
    assert isinstance(replay, ReplayModel)
    again = replay.complete(msgs("go"), purpose="implement/T1", tools=tools)
    assert again.tool_calls[0].name == "read_file" and again.tool_calls[0].arguments == {
        "path": "a"
    }
    assert again.usage.cost_usd == pytest.approx(first.usage.cost_usd) and again.usage.cost_usd > 0
    final = replay.complete([*msgs("go"), again.as_message()], purpose="implement/T1", tools=tools)
    assert final.content == second.content == "final"


def test_scripted_model_queue() -> None:
    done = Completion(content="done", tool_calls=[ToolCall("1", "t", {})])
    model = ScriptedModel(["hello", RuntimeError("boom"), done])
    assert model.complete(msgs("a"), purpose="p").content == "hello"
    with pytest.raises(RuntimeError, match="boom"):
        model.complete(msgs("b"), purpose="p")
    assert model.complete(msgs("c"), purpose="p") is done
    with pytest.raises(ModelError, match="scripted: no more responses for p"):
        model.complete(msgs("d"), purpose="p")
    assert [c["messages"][0]["content"] for c in model.calls] == ["a", "b", "c", "d"]


def test_get_model_routes_to_litellm(fast: LLMSection) -> None:
    model = get_model("anthropic/claude-x", fast)
    assert isinstance(model, LiteLLMModel) and model.name == "anthropic/claude-x"


def test_redaction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-1234567890")
    monkeypatch.setenv("SHORT_KEY", "abc")
    text = "key sk-proj-ABCDEFGHIJKLMNOPQRSTUV and tok-1234567890 and abc and sk-test"
    assert redact(text) == f"key {REDACTED} and {REDACTED} and abc and sk-test"
    assert (
        redact("Authorization: Bearer abcdefghijklmnopqrstuvwxyz")
        == f"Authorization: Bearer {REDACTED}"
    )
    assert redact("ghp_" + "a" * 36) == REDACTED
    obj = redact_obj({"api_key": "whatever", "m": [{"content": "use tok-1234567890"}], "n": 3})
    assert obj == {"api_key": REDACTED, "m": [{"content": f"use {REDACTED}"}], "n": 3}


def test_call_log_and_chain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-supersecretvalue1234567")
    log_path = tmp_path / ".specflow" / "logs" / "calls.jsonl"
    rec = tmp_path / "rec.jsonl"
    chain = ObserverChain(CallLog(log_path), Recorder(rec), None)
    model = ScriptedModel(
        [
            Completion(
                content="ok sk-ant-supersecretvalue1234567",
                usage=Usage(1, 2, 0.25, 1),
                model="m",
                latency_s=0.5,
                retries=1,
            ),
            ModelError("failed with key sk-ant-supersecretvalue1234567"),
        ],
        observer=chain,
    )
    model.complete(msgs("my key is sk-ant-supersecretvalue1234567"), purpose="plan")
    with pytest.raises(ModelError):
        model.complete(msgs("again"), purpose="plan")
    text = log_path.read_text()
    assert "supersecret" not in text
    ok, failed = (json.loads(x) for x in text.splitlines())
    assert ok["purpose"] == "plan" and ok["model"] == "m"
    assert ok["usage"] == {"prompt_tokens": 1, "completion_tokens": 2, "cost_usd": 0.25}
    assert ok["latency_s"] == 0.5 and ok["retries"] == 1 and ok["error"] is None
    assert ok["messages"][0]["content"] == f"my key is {REDACTED}"
    assert failed["response"] is None and failed["error"] == f"failed with key {REDACTED}"
    assert len(rec.read_text().splitlines()) == 1  # the recorder keeps successes only


def test_replay_by_purpose_refuses_other_inputs(tmp_path: Path) -> None:
    from specflow.errors import ModelConfigError
    from specflow.llm.base import asking_about

    rec = tmp_path / "r.jsonl"
    spec = "# Spec\n\n### Session 2026-01-01\n\n- FR-001: a\n- FR-002: b\n"
    lines = [
        {
            "purpose": "plan",
            "request_hash": "",
            "inputs": {"spec.md": spec},
            "response": {"content": "P"},
        },
    ]
    rec.write_text("".join(json.dumps(x) + "\n" for x in lines))
    msgs = [{"role": "user", "content": "a prompt that changed since"}]
    # same inputs (the clarification session's date aside), another prompt: answered by purpose
    with asking_about({"spec.md": spec.replace("2026-01-01", "2026-12-03") + "\n"}):
        assert ReplayModel(rec).complete(msgs, purpose="plan").content == "P"
    # other inputs: refused, naming the stage and the first difference
    other = {"spec.md": spec.replace("FR-002: b", "FR-002: c")}
    with asking_about(other), pytest.raises(ModelConfigError) as err:
        ReplayModel(rec).complete(msgs, purpose="plan")
    assert (
        "answers plan for other inputs: spec.md line 6: recorded '- FR-002: b', now '- FR-002: c'"
        in str(err.value)
    )
    more = {"spec.md": spec, "constitution.md": "x"}
    with asking_about(more), pytest.raises(ModelConfigError, match="constitution.md is an input"):
        ReplayModel(rec).complete(msgs, purpose="plan")
    # no stage inputs given (e.g. an agent's call): answered as before
    assert ReplayModel(rec).complete(msgs, purpose="plan").content == "P"


def test_recorder_writes_down_the_inputs(tmp_path: Path) -> None:
    from specflow.llm.base import asking_about

    rec = tmp_path / "r.jsonl"
    model = ScriptedModel(["answer"], observer=Recorder(rec))
    with asking_about({"feature.md": "# F\n"}):
        model.complete([{"role": "user", "content": "q"}], purpose="specify")
    model.add("again")
    model.complete([{"role": "user", "content": "q"}], purpose="implement/T001")
    first, second = (json.loads(x) for x in rec.read_text().splitlines())
    assert first["inputs"] == {"feature.md": "# F\n"} and "inputs" not in second
