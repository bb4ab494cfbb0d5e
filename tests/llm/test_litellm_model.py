"""LiteLLMModel against the real litellm client and a local OpenAI-compatible stub."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from typing import Any, ClassVar

import pytest

from specflow.config import LLMSection
from specflow.errors import ModelConfigError, ModelError
from specflow.llm.base import Call, Completion, Model
from specflow.llm.litellm_model import LiteLLMModel, parse_retry_after, retry_after_from
from tests.support.stub_llm import StubLLM

MSGS = [{"role": "user", "content": "hi"}]


class Spy:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def on_call(self, call: Call) -> None:
        self.calls.append(vars(call))


class Sleeps:
    """Real sleeping, but remembers each delay the retry loop chose."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        time.sleep(seconds)


def test_success_with_usage_and_cost_via_env_base(stub: StubLLM, fast: LLMSection) -> None:
    # OPENAI_API_BASE (set by the fixture) routes `openai/...` models to the stub.
    stub.reply_text("hello", usage={"prompt_tokens": 1000, "completion_tokens": 200})
    spy = Spy()
    model = LiteLLMModel("openai/gpt-4o-mini", fast, spy)
    assert isinstance(model, Model)
    out = model.complete(MSGS, purpose="plan")
    assert out.content == "hello"
    assert (out.usage.prompt_tokens, out.usage.completion_tokens, out.usage.calls) == (1000, 200, 1)
    assert out.usage.cost_usd > 0  # priced from litellm's bundled table
    assert out.retries == 0 and out.model == "openai/gpt-4o-mini"
    assert stub.requests[0]["messages"] == MSGS
    assert stub.request_headers[0]["authorization"] == "Bearer sk-test"
    assert [c["purpose"] for c in spy.calls] == ["plan"]
    assert spy.calls[0]["completion"] is out and spy.calls[0]["error"] is None


def test_unknown_price_costs_zero_and_explicit_base(stub: StubLLM, fast: LLMSection) -> None:
    stub.reply_text("x")
    model = LiteLLMModel("openai/stub", fast, api_base=stub.base_url, api_key="sk-test")
    out = model.complete(MSGS, purpose="p")
    assert out.usage.cost_usd == 0.0 and out.usage.prompt_tokens == 10


def test_tools_and_response_format_pass_through(stub: StubLLM, fast: LLMSection) -> None:
    stub.reply_tool_calls(
        [
            {"id": "c1", "name": "read_file", "arguments": {"path": "a.py"}},
            {
                "id": "c2",
                "name": "write_file",
                "arguments": '{"path": "b.py", "text": "unterminated',
            },
        ]
    )
    tools = [
        {
            "type": "function",
            "function": {
                "name": "read_file",
                "parameters": {"type": "object", "properties": {"path": {"type": "string"}}},
            },
        }
    ]
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    out = LiteLLMModel("openai/stub", fast).complete(
        MSGS, purpose="implement/T1", tools=tools, response_format=fmt
    )
    assert stub.requests[0]["tools"] == tools
    assert stub.requests[0]["response_format"]["type"] == "json_schema"
    good, bad = out.tool_calls
    assert (good.id, good.name, good.arguments, good.error) == (
        "c1",
        "read_file",
        {"path": "a.py"},
        None,
    )
    assert bad.name == "write_file" and bad.arguments == {}
    assert bad.raw_arguments.startswith('{"path": "b.py"') and bad.error
    assert out.finish_reason == "tool_calls"
    assert out.as_message()["tool_calls"][0]["function"]["name"] == "read_file"


def test_429_then_success_honours_retry_after(stub: StubLLM) -> None:
    settings = LLMSection(max_retries=2, timeout_s=5, backoff_base_s=0.05, backoff_max_s=0.1)
    stub.fail(429, retry_after=1)
    stub.reply_text("ok")
    sleeps = Sleeps()
    started = time.monotonic()
    out = LiteLLMModel("openai/stub", settings, sleep=sleeps).complete(MSGS, purpose="p")
    assert out.content == "ok" and out.retries == 1
    assert len(stub.requests) == 2
    assert sleeps.delays[0] >= 1.0  # the header, not the 0.05 s backoff
    assert time.monotonic() - started >= 1.0


def test_500_then_success(stub: StubLLM, fast: LLMSection) -> None:
    stub.fail(500).reply_text("ok")
    out = LiteLLMModel("openai/stub", fast).complete(MSGS, purpose="p")
    assert out.content == "ok" and out.retries == 1 and len(stub.requests) == 2


def test_timeout_then_success(stub: StubLLM) -> None:
    settings = LLMSection(max_retries=1, timeout_s=1, backoff_base_s=0.01, backoff_max_s=0.01)
    stub.hang(3).reply_text("ok")
    out = LiteLLMModel("openai/stub", settings).complete(MSGS, purpose="p")
    assert out.content == "ok" and out.retries == 1 and len(stub.requests) == 2


def test_exhausted_retries_raise_model_error(stub: StubLLM, fast: LLMSection) -> None:
    stub.fail(500).fail(503).fail(500)
    spy = Spy()
    with pytest.raises(ModelError) as info:
        LiteLLMModel("openai/stub", fast, spy).complete(MSGS, purpose="plan")
    assert str(info.value).startswith("model call failed after 3 attempts: ")
    assert "\n" not in str(info.value) and info.value.hint
    assert len(stub.requests) == 3
    assert spy.calls[0]["completion"] is None and "3 attempts" in spy.calls[0]["error"]


def test_backoff_is_capped(fast: LLMSection) -> None:
    model = LiteLLMModel("openai/stub", LLMSection(backoff_base_s=1, backoff_max_s=2))
    assert all(model._delay(n, None) <= 2 for n in range(1, 12))
    assert model._delay(1, 3.0) >= 3.0


def test_401_is_config_error_naming_the_variable(stub: StubLLM, fast: LLMSection) -> None:
    stub.fail(401, message="Incorrect API key provided")
    with pytest.raises(ModelConfigError) as info:
        LiteLLMModel("openai/stub", fast).complete(MSGS, purpose="p")
    assert "OPENAI_API_KEY" in str(info.value)
    assert len(stub.requests) == 1  # never retried


def test_missing_key_is_config_error(
    stub: StubLLM, fast: LLMSection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(ModelConfigError, match="OPENAI_API_KEY"):
        LiteLLMModel("openai/stub", fast).complete(MSGS, purpose="p")
    assert stub.requests == []


def test_anthropic_auth_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, fast: LLMSection
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    from specflow.llm.litellm_model import key_vars_for

    assert key_vars_for("anthropic/claude-3-5-sonnet-latest") == ["ANTHROPIC_API_KEY"]


def test_bad_request_is_one_line_model_error(stub: StubLLM, fast: LLMSection) -> None:
    stub.fail(400, message="messages: bad role\nsecond line")
    with pytest.raises(ModelError) as info:
        LiteLLMModel("openai/stub", fast).complete(MSGS, purpose="p")
    assert "bad role" in str(info.value) and "\n" not in str(info.value)
    assert len(stub.requests) == 1


def test_unknown_model_is_config_error(fast: LLMSection) -> None:
    with pytest.raises(ModelConfigError, match="unknown model 'no-such-model-xyz'"):
        LiteLLMModel("no-such-model-xyz", fast).complete(MSGS, purpose="p")


def test_retry_after_parsing() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after("garbage") is None
    now = datetime(2026, 11, 25, 10, 0, 0, tzinfo=timezone.utc).timestamp()
    assert parse_retry_after("Wed, 25 Nov 2026 10:00:10 GMT", now=now) == 10.0

    class Exc(Exception):
        litellm_response_headers: ClassVar[dict[str, str]] = {"retry-after": "7"}

    assert retry_after_from(Exc()) == 7.0
    assert retry_after_from(ValueError()) is None


def test_importing_the_model_layer_does_not_import_litellm() -> None:
    code = (
        "import sys\n"
        "import specflow.llm, specflow.llm.base, specflow.llm.litellm_model\n"
        "import specflow.llm.structured, specflow.llm.recorded, specflow.llm.registry\n"
        "from specflow.config import LLMSection\n"
        "specflow.llm.registry.get_model('openai/gpt-4o-mini', LLMSection())\n"
        "assert 'litellm' not in sys.modules, 'litellm imported eagerly'\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_completion_type_is_plain(stub: StubLLM, fast: LLMSection) -> None:
    stub.reply_text(None)
    out = LiteLLMModel("openai/stub", fast).complete(MSGS, purpose="p")
    assert isinstance(out, Completion) and out.content is None


# -- prompt caching --------------------------------------------------------------------------

CACHED_USAGE = {
    "prompt_tokens": 1200,
    "completion_tokens": 40,
    "prompt_tokens_details": {"cached_tokens": 1024},
}
MARKED = [
    {"role": "system", "content": "fixed prefix", "cache_control": {"type": "ephemeral"}},
    {"role": "user", "content": "task", "cache_control": {"type": "ephemeral"}},
]


def test_prefix_caching_provider_gets_plain_messages_and_cached_tokens_are_counted(
    stub: StubLLM, fast: LLMSection, tmp_path: Any
) -> None:
    """OpenAI-style providers cache by prefix: they get the messages without marks, byte for
    byte, and the cached part of the prompt reaches the usage and the call log."""
    import json

    from specflow.llm.calls import CallLog

    stub.reply_text("ok", usage=CACHED_USAGE)
    log = tmp_path / "calls.jsonl"
    out = LiteLLMModel("openai/gpt-4o-mini", fast, CallLog(log)).complete(MARKED, purpose="x")
    assert stub.requests[0]["messages"] == [
        {"role": "system", "content": "fixed prefix"},
        {"role": "user", "content": "task"},
    ]
    assert (out.usage.prompt_tokens, out.usage.cached_tokens) == (1200, 1024)
    assert out.usage.to_dict()["cached_tokens"] == 1024
    record = json.loads(log.read_text().splitlines()[0])
    assert record["usage"]["cached_tokens"] == 1024


def test_no_cached_tokens_reported_means_zero(stub: StubLLM, fast: LLMSection) -> None:
    stub.reply_text("ok")
    out = LiteLLMModel("openai/gpt-4o-mini", fast).complete(MSGS, purpose="x")
    assert out.usage.cached_tokens == 0 and "cached_tokens" not in out.usage.to_dict()


def test_anthropic_gets_cache_control_on_the_system_block(stub: StubLLM, fast: LLMSection) -> None:
    """Claude on Anthropic: litellm turns the marks into `cache_control` on the system block
    and the last message, and Anthropic's cache_read_input_tokens are the cached tokens."""
    stub.reply_text("ok", usage=CACHED_USAGE)
    model = LiteLLMModel(
        "anthropic/claude-sonnet-4-5", fast, api_base=stub.base_url[: -len("/v1")], api_key="k"
    )
    out = model.complete(MARKED, purpose="x")
    assert stub.paths == ["/v1/messages"]
    sent = stub.requests[0]
    assert sent["system"] == [
        {"type": "text", "text": "fixed prefix", "cache_control": {"type": "ephemeral"}}
    ]
    assert sent["messages"][-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert out.content == "ok"
    assert (out.usage.prompt_tokens, out.usage.cached_tokens) == (1200, 1024)
