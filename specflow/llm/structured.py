"""Structured output: ask for JSON matching a schema, validate, repair once, or fail clearly.

Validation is two-layered: jsonschema (Draft 2020-12) gives path-addressed errors the model
can act on; pydantic then builds the typed value (and catches what the schema cannot say).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from specflow.errors import ModelError
from specflow.llm.base import Message, Model, Usage

T = TypeVar("T", bound=BaseModel)

MAX_REPORTED_ERRORS = 8
MAX_ERROR_CHARS = 240

JSON_INSTRUCTIONS = (
    "Answer with a single JSON value that conforms to the JSON Schema named {name} given "
    "below. Output only the JSON: no prose, no Markdown code fences.\n\nJSON Schema:\n{schema}"
)


@dataclass
class StructuredResult(Generic[T]):
    value: T
    usage: Usage
    attempts: int
    raw: str


class _Invalid(Exception):
    def __init__(self, errors: list[str]) -> None:
        super().__init__(errors[0] if errors else "invalid")
        self.errors = errors or ["invalid"]


def generate_structured(
    model: Model,
    messages: list[Message],
    output: type[T],
    *,
    purpose: str,
    schema: dict[str, Any] | None = None,
) -> StructuredResult[T]:
    """Ask `model` for an `output` as JSON; one repair round on invalid output, then ModelError."""
    schema = schema if schema is not None else output.model_json_schema()
    name = _schema_name(output.__name__)
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": name, "schema": schema, "strict": False},
    }
    conversation = _with_instructions(messages, name, schema)
    usage = Usage()
    last_error = "invalid"
    for attempt in (1, 2):
        completion = model.complete(conversation, purpose=purpose, response_format=response_format)
        usage = usage + _counted(completion.usage)
        raw = completion.content or ""
        try:
            value = _validate(raw, output, schema)
        except _Invalid as invalid:
            last_error = invalid.errors[0]
            if attempt == 2:
                break
            conversation = [
                *conversation,
                {"role": "assistant", "content": raw},
                {"role": "user", "content": _repair_prompt(invalid.errors)},
            ]
            continue
        return StructuredResult(value=value, usage=usage, attempts=attempt, raw=raw)
    raise ModelError(
        f"{purpose}: the model's answer was not valid {output.__name__} JSON after one repair: "
        f"{last_error}",
        hint="try a stronger model with --model",
    )


def extract_json(text: str) -> Any:
    """The JSON value in a model answer; tolerates ```json fences and prose around it."""
    stripped = text.strip()
    if not stripped:
        raise ValueError("the answer was empty")
    candidates = [stripped]
    candidates += [m.group(1) for m in re.finditer(r"```(?:json|JSON)?\s*\n?(.*?)```", text, re.S)]
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except ValueError:
            pass
    decoder = json.JSONDecoder()
    first_error: ValueError | None = None
    # Start where a JSON value plausibly begins: the first brace/bracket, or one at column 0.
    # Not every brace: inside a truncated object, a nested one would decode "fine".
    starts = {m.start() for m in re.finditer(r"(?m)^[{\[]", text)}
    for opener in "{[":
        if opener in text:
            starts.add(text.index(opener))
    for start in sorted(starts):
        try:
            value, _ = decoder.raw_decode(text, start)
            return value
        except ValueError as exc:
            first_error = first_error or exc
    if first_error is not None:
        raise ValueError(f"not valid JSON: {first_error}")
    raise ValueError("no JSON object found in the answer")


def schema_errors(instance: Any, schema: dict[str, Any]) -> list[str]:
    """JSON Schema violations as 'path: message' lines, most specific first, bounded."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(instance), key=lambda e: (list(e.path), e.message))
    out = []
    for err in errors[:MAX_REPORTED_ERRORS]:
        path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.path)
        out.append(_clip(f"{path}: {err.message}"))
    if len(errors) > MAX_REPORTED_ERRORS:
        out.append(f"… and {len(errors) - MAX_REPORTED_ERRORS} more")
    return out


def _validate(raw: str, output: type[T], schema: dict[str, Any]) -> T:
    try:
        data = extract_json(raw)
    except ValueError as exc:
        raise _Invalid([_clip(f"$: {exc}")]) from None
    errors = schema_errors(data, schema)
    if errors:
        raise _Invalid(errors)
    try:
        return output.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors()[:MAX_REPORTED_ERRORS]:
            path = "$" + "".join(
                f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.get("loc", ())
            )
            lines.append(_clip(f"{path}: {err.get('msg', 'invalid')}"))
        raise _Invalid(lines) from None


def _with_instructions(messages: list[Message], name: str, schema: dict[str, Any]) -> list[Message]:
    note = JSON_INSTRUCTIONS.format(name=name, schema=json.dumps(schema, separators=(",", ":")))
    out = [dict(m) for m in messages]
    if out and out[0].get("role") == "system" and isinstance(out[0].get("content"), str):
        out[0]["content"] = f"{out[0]['content']}\n\n{note}"
    else:
        out.insert(0, {"role": "system", "content": note})
    return out


def _repair_prompt(errors: list[str]) -> str:
    listed = "\n".join(f"- {e}" for e in errors)
    return (
        "Your previous answer is not valid against the JSON Schema:\n"
        f"{listed}\n"
        "Answer again with the complete corrected JSON only."
    )


def _counted(usage: Usage) -> Usage:
    # Offline models may leave calls at 0; every completion is one call.
    return (
        usage
        if usage.calls
        else Usage(usage.prompt_tokens, usage.completion_tokens, usage.cost_usd, 1)
    )


def _schema_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "_", name)[:64]
    return cleaned or "output"


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"
