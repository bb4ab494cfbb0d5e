"""The StubLLM test server itself: default-reply hook, unscripted requests, recording."""

from __future__ import annotations

from typing import Any

import pytest

from specflow.config import LLMSection
from specflow.errors import ModelError
from specflow.llm.litellm_model import LiteLLMModel
from tests.support.stub_llm import Reply, StubLLM, json_reply, text_reply, tool_calls_reply


def test_default_reply_hook_computes_answers(stub: StubLLM, fast: LLMSection) -> None:
    def agent(body: dict[str, Any]) -> Reply | str:
        if body["messages"][-1]["role"] == "tool":
            return "all done"
        return tool_calls_reply([{"id": "t1", "name": "run", "arguments": {"cmd": "ls"}}])

    stub.default_reply = agent
    model = LiteLLMModel("openai/stub", fast)
    convo: list[dict[str, Any]] = [{"role": "user", "content": "work"}]
    first = model.complete(convo, purpose="implement/T1")
    convo += [first.as_message(), {"role": "tool", "tool_call_id": "t1", "content": "a.py"}]
    second = model.complete(convo, purpose="implement/T1")
    assert first.tool_calls[0].arguments == {"cmd": "ls"} and second.content == "all done"
    assert stub.requests[1]["messages"][-1]["content"] == "a.py"
    assert stub.paths == ["/v1/chat/completions"] * 2


def test_queue_order_and_unscripted_request(stub: StubLLM, fast: LLMSection) -> None:
    stub.queue("one", json_reply({"a": 1}), text_reply("three"))
    model = LiteLLMModel("openai/stub", fast)
    got = [
        model.complete([{"role": "user", "content": "q"}], purpose="p").content for _ in range(3)
    ]
    assert got == ["one", '{"a": 1}', "three"] and stub.pending == 0
    with pytest.raises(ModelError, match="StubLLM: no reply queued"):
        model.complete([{"role": "user", "content": "q"}], purpose="p")


def test_stub_without_v1_prefix(fast: LLMSection) -> None:
    with StubLLM() as server:
        server.reply_text("ok")
        base = server.base_url.removesuffix("/v1")
        out = LiteLLMModel("openai/stub", fast, api_base=base, api_key="sk-test").complete(
            [{"role": "user", "content": "q"}], purpose="p"
        )
        assert out.content == "ok" and server.paths == ["/chat/completions"]
