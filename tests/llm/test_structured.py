"""generate_structured: JSON extraction, schema + pydantic validation, one repair round."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, field_validator

from specflow.config import LLMSection
from specflow.errors import ModelError
from specflow.llm.base import Completion, Usage
from specflow.llm.litellm_model import LiteLLMModel
from specflow.llm.recorded import ScriptedModel
from specflow.llm.structured import extract_json, generate_structured, schema_errors
from tests.support.stub_llm import StubLLM


class Plan(BaseModel):
    title: str
    steps: list[str]

    @field_validator("title")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("title must not be blank")
        return v


MSGS = [{"role": "system", "content": "You plan."}, {"role": "user", "content": "Plan it."}]
GOOD: dict[str, object] = {"title": "Login", "steps": ["a", "b"]}


def answer(text: str, tokens: int = 10, cost: float = 0.001) -> Completion:
    return Completion(content=text, usage=Usage(tokens, tokens, cost, 1))


def test_extract_json_tolerates_fences_and_prose() -> None:
    assert extract_json('{"a": 1}') == {"a": 1}
    assert extract_json('Sure! Here it is:\n```json\n{"a": 1}\n```\nDone.') == {"a": 1}
    assert extract_json('Here [draft]: {"a": [1, 2]} hope that helps') == {"a": [1, 2]}
    with pytest.raises(ValueError):
        extract_json('{"a": {"b": 1}')
    with pytest.raises(ValueError):
        extract_json("no json here")


def test_schema_errors_name_the_path() -> None:
    schema = Plan.model_json_schema()
    errors = schema_errors({"title": 3, "steps": ["x", 4]}, schema)
    assert "$.steps[1]: 4 is not of type 'string'" in errors
    assert any(e.startswith("$.title:") for e in errors)


def test_valid_first_time() -> None:
    model = ScriptedModel([answer("```json\n" + json.dumps(GOOD) + "\n```")])
    result = generate_structured(model, MSGS, Plan, purpose="plan")
    assert result.value == Plan.model_validate(GOOD) and result.attempts == 1
    call = model.calls[0]
    fmt = call["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "Plan"
    assert fmt["json_schema"]["strict"] is False
    assert fmt["json_schema"]["schema"] == Plan.model_json_schema()
    system = call["messages"][0]
    assert system["role"] == "system" and system["content"].startswith("You plan.")
    assert "JSON Schema" in system["content"]
    assert MSGS[0]["content"] == "You plan."  # caller's list untouched


def test_malformed_then_repaired_over_http(stub: StubLLM, fast: LLMSection) -> None:
    stub.reply_malformed_json('{"title": "Login", "steps": ["a"')
    stub.reply_json(GOOD, usage={"prompt_tokens": 7, "completion_tokens": 3})
    model = LiteLLMModel("openai/stub", fast)
    result = generate_structured(model, [MSGS[1]], Plan, purpose="plan")
    assert result.value.title == "Login" and result.attempts == 2
    assert result.usage.prompt_tokens == 17 and result.usage.calls == 2
    assert stub.requests[0]["response_format"]["type"] == "json_schema"
    assert stub.requests[0]["messages"][0]["role"] == "system"  # instructions added
    repair = stub.requests[1]["messages"]
    assert repair[-2] == {"role": "assistant", "content": '{"title": "Login", "steps": ["a"'}
    assert repair[-1]["role"] == "user" and "not valid JSON" in repair[-1]["content"]


def test_schema_invalid_then_repaired_lists_errors() -> None:
    model = ScriptedModel([answer(json.dumps({"title": "x"})), answer(json.dumps(GOOD))])
    result = generate_structured(model, MSGS, Plan, purpose="plan")
    assert result.attempts == 2 and result.usage.cost_usd == pytest.approx(0.002)
    assert "$: 'steps' is a required property" in model.calls[1]["messages"][-1]["content"]


def test_pydantic_only_failure_is_repaired() -> None:
    model = ScriptedModel(
        [answer(json.dumps({"title": " ", "steps": []})), answer(json.dumps(GOOD))]
    )
    result = generate_structured(model, MSGS, Plan, purpose="plan")
    assert result.attempts == 2
    assert "title must not be blank" in model.calls[1]["messages"][-1]["content"]


def test_schema_invalid_twice_is_model_error() -> None:
    bad = json.dumps({"title": "x", "steps": "not a list"})
    model = ScriptedModel([answer(bad), answer(bad), answer(json.dumps(GOOD))])
    with pytest.raises(ModelError) as info:
        generate_structured(model, MSGS, Plan, purpose="plan")
    assert str(info.value) == (
        "plan: the model's answer was not valid Plan JSON after one repair: "
        "$.steps: 'not a list' is not of type 'array'"
    )
    assert info.value.hint == "try a stronger model with --model"
    assert model.remaining == 1  # exactly one repair round


def test_explicit_schema_is_used() -> None:
    schema = {
        "type": "object",
        "required": ["title", "steps"],
        "additionalProperties": False,
        "properties": {"title": {"type": "string"}, "steps": {"type": "array"}},
    }
    model = ScriptedModel([answer(json.dumps({**GOOD, "extra": 1})), answer(json.dumps(GOOD))])
    result = generate_structured(model, MSGS, Plan, purpose="plan", schema=schema)
    assert result.attempts == 2
    assert model.calls[0]["response_format"]["json_schema"]["schema"] == schema
