"""Provider prompt caching: which part of a request is worth caching, marked for the providers
that want to be told.

The builtin agent resends, on every turn, a fixed prefix (tool schemas and system prompt, the
same bytes for every task of every run) and the conversation so far. It marks two cache
breakpoints with Anthropic's `cache_control`: the system message (the schemas come before it,
so they are covered) and the newest message (the next turn then reads the conversation from the
cache). litellm turns the marks into Anthropic's format for Claude models on Anthropic, Bedrock,
Vertex AI and Azure AI. OpenAI, Gemini and the rest cache by prefix on their own: they get the
messages with the marks removed, byte for byte what they would get without caching.
"""

from __future__ import annotations

from typing import Any

from specflow.llm.base import Message

CACHE_MARK: dict[str, str] = {"type": "ephemeral"}
_MARKING_PROVIDERS = frozenset({"anthropic", "bedrock", "vertex_ai", "azure_ai"})


def mark_cache_breakpoints(messages: list[Message]) -> list[Message]:
    """A copy of `messages` with the system message and the last message marked (the stored
    conversation is left alone, so a mark never stays on an older message)."""
    out = list(messages)
    marks = {i for i, m in enumerate(out) if m.get("role") == "system"}
    if out:
        marks.add(len(out) - 1)
    for i in sorted(marks)[-4:]:  # Anthropic allows four breakpoints per request
        out[i] = {**out[i], "cache_control": dict(CACHE_MARK)}
    return out


def wants_cache_marks(model: str, provider: str | None) -> bool:
    """Whether `model` (through `provider`) takes explicit cache breakpoints."""
    return provider in _MARKING_PROVIDERS and "claude" in model.lower()


def without_cache_marks(messages: list[Message]) -> list[Message]:
    """The messages as a prefix-caching provider should see them (unchanged when unmarked)."""
    if not any("cache_control" in m for m in messages):
        return messages
    return [_unmarked(m) for m in messages]


def _unmarked(m: Message) -> Message:
    if "cache_control" not in m:
        return m
    return {k: v for k, v in m.items() if k != "cache_control"}


def cached_tokens_of(usage: Any) -> int:
    """Prompt tokens served from the cache, from a litellm/OpenAI usage object or dict:
    `prompt_tokens_details.cached_tokens` (OpenAI, and litellm's mapping of Anthropic's and
    Gemini's figures), else Anthropic's `cache_read_input_tokens`."""

    def get(obj: Any, name: str) -> Any:
        return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)

    if usage is None:
        return 0
    details = get(usage, "prompt_tokens_details")
    for value in (
        get(details, "cached_tokens") if details is not None else None,
        get(usage, "cache_read_input_tokens"),
    ):
        try:
            if value:
                return int(value)
        except (TypeError, ValueError):
            continue
    return 0
