"""A schema-aware reply for StubLLM: answers by the JSON Schema the request asks for.

`stub.default_reply = by_schema({"Spec": SPEC, "Plan": PLAN, ...})` answers each structured
request with the object registered under its schema's name (a callable gets the request body
and returns the object). The answer is validated against the schema the request carried before
it is sent, so a test whose canned answer drifts from the model classes fails here, loudly,
rather than passing on a shape the real code never asks for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jsonschema

from tests.support.stub_llm import Reply, error_reply, json_reply


def schema_of(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    fmt = body.get("response_format") or {}
    spec = fmt.get("json_schema") or {}
    return str(spec.get("name", "")), dict(spec.get("schema") or {})


def by_schema(answers: Mapping[str, Any]) -> Callable[[dict[str, Any]], Reply]:
    def reply(body: dict[str, Any]) -> Reply:
        name, schema = schema_of(body)
        if name not in answers:
            return error_reply(400, message=f"schema stub: no answer for schema '{name}'")
        answer = answers[name]
        obj = answer(body) if callable(answer) else answer
        jsonschema.validate(obj, schema)
        return json_reply(obj)

    return reply
