"""The usage figures summed per task, run, stage and model: the keys of events, run records,
`specflow cost` and the report. `cached_tokens` is the part of `prompt_tokens` the provider
served from its prompt cache."""

from __future__ import annotations

USAGE_KEYS = ("prompt_tokens", "completion_tokens", "cost_usd", "cached_tokens")


def empty_usage() -> dict[str, float]:
    return {k: 0.0 if k == "cost_usd" else 0 for k in USAGE_KEYS}
