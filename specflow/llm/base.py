"""The Model protocol and the plain data that crosses it. No litellm here: this module is cheap."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypedDict, runtime_checkable

if TYPE_CHECKING:
    from typing_extensions import Unpack

Message = dict[str, Any]  # OpenAI chat format; dicts only at this JSON edge

# What the current request is about: a generation stage's inputs by name (`spec.md` -> text).
# Set around a stage's model calls (`asking_about`); read by whoever needs to know beyond the
# prompt — a recorder writes them down, a replay model refuses a recording made for other
# inputs. A context variable rather than a parameter so that wrappers (budget, call log) and
# live models need not know about it.
_REQUEST_INPUTS: ContextVar[Mapping[str, str] | None] = ContextVar("request_inputs", default=None)


@contextlib.contextmanager
def asking_about(inputs: Mapping[str, str]) -> Iterator[None]:
    token = _REQUEST_INPUTS.set(dict(inputs))
    try:
        yield
    finally:
        _REQUEST_INPUTS.reset(token)


def request_inputs() -> Mapping[str, str] | None:
    """The inputs of the request being made now, when a stage said what they are."""
    return _REQUEST_INPUTS.get()


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0
    cached_tokens: int = 0  # of prompt_tokens, read from the provider's prompt cache

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            round(self.cost_usd + other.cost_usd, 10),
            self.calls + other.calls,
            self.cached_tokens + other.cached_tokens,
        )

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost_usd": round(self.cost_usd, 6),
        }
        if self.cached_tokens:  # absent when nothing was cached: old records read the same
            d["cached_tokens"] = self.cached_tokens
        return d


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]
    raw_arguments: str = ""  # as the model sent them, for malformed-JSON diagnostics
    # Set when the arguments could not be parsed (then `arguments` is {}): the caller should
    # answer the tool call with this error so the model can resend valid JSON.
    error: str | None = None


@dataclass
class Completion:
    content: str | None
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    latency_s: float = 0.0
    retries: int = 0
    finish_reason: str | None = None

    def as_message(self) -> Message:
        """The assistant message to append to a conversation."""
        msg: Message = {"role": "assistant", "content": self.content}
        if self.tool_calls:
            import json

            msg["tool_calls"] = [
                {
                    "id": tc.id,
                    "type": "function",
                    "function": {"name": tc.name, "arguments": json.dumps(tc.arguments)},
                }
                for tc in self.tool_calls
            ]
        return msg


class CallOptions(TypedDict, total=False):
    """What a call may ask besides its messages (`Model.complete`'s keywords)."""

    tools: list[dict[str, Any]] | None  # functions the model may call (OpenAI tool format)
    response_format: dict[str, Any] | None  # the JSON schema the answer must follow


@runtime_checkable
class Model(Protocol):
    """Anything that completes a chat. `purpose` names the call (e.g. "plan", "implement/T003")
    so recorders and replay models can key on it."""

    name: str

    def complete(
        self, messages: list[Message], *, purpose: str, **options: Unpack[CallOptions]
    ) -> Completion: ...


@dataclass(frozen=True)
class Call:
    """One model call as observers see it: the request, and the answer or the error."""

    model: str
    purpose: str
    messages: list[Message]
    tools: list[dict[str, Any]] | None = None
    response_format: dict[str, Any] | None = None
    completion: Completion | None = None
    error: str | None = None


class CallObserver(Protocol):
    """Receives every model call (request and response) for logs, traces and recordings."""

    def on_call(self, call: Call) -> None: ...
