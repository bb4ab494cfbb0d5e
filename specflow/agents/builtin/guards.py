"""What keeps the builtin loop honest: loop detection, argument checks, context compaction."""

from __future__ import annotations

import json
import shlex

from specflow.agents.builtin.runner import bounded
from specflow.agents.builtin.tools import ToolResult
from specflow.llm.base import Message, ToolCall

REPEAT_LIMIT = 3  # identical consecutive calls, or one command failing this often unchanged


class LoopGuard:
    """Stops a model that goes round in circles, long before the step limit.

    - the same tool call (name + arguments) REPEAT_LIMIT times in a row;
    - the same `run` command failing REPEAT_LIMIT times with no write_file/edit_file in between
      (a file edit is progress: the next failure may be a different one);
    - more than REPEAT_LIMIT replies in a row without any tool call.
    """

    def __init__(self, limit: int = REPEAT_LIMIT) -> None:
        self.limit = limit
        self.last_call: str | None = None
        self.repeats = 0
        self.failing_runs: dict[str, int] = {}
        self.silent_replies = 0

    def silent(self) -> str | None:
        """A reply without a tool call."""
        self.silent_replies += 1
        self.last_call = None
        if self.silent_replies > self.limit:
            return f"loop: {self.silent_replies} replies in a row without a tool call"
        return None

    def before(self, call: ToolCall) -> str | None:
        """Before running `call`: is it the same call once too often?"""
        self.silent_replies = 0
        sig = signature(call)
        self.repeats = self.repeats + 1 if sig == self.last_call else 1
        self.last_call = sig
        if self.repeats >= self.limit:
            return f"loop: repeated {bounded(sig, 200)} {self.repeats} times in a row"
        return None

    def after(self, result: ToolResult) -> str | None:
        """After a call: the same command failing again with nothing changed?"""
        if result.changed:
            self.failing_runs.clear()
            return None
        if result.run is None or result.run.ok:
            return None
        key = shlex.join(result.run.argv)
        self.failing_runs[key] = self.failing_runs.get(key, 0) + 1
        if self.failing_runs[key] >= self.limit:
            return (
                f"loop: repeated run `{bounded(key, 200)}` failing {self.limit} times "
                "with no file change in between"
            )
        return None


def signature(call: ToolCall) -> str:
    if call.arguments or not call.raw_arguments:
        args = json.dumps(call.arguments, sort_keys=True, default=str)
    else:
        args = call.raw_arguments
    return f"{call.name} {args}"


def argument_error(call: ToolCall) -> str | None:
    """Why the model's arguments cannot be used, or None (parsing `raw_arguments` if needed)."""
    if call.error:
        return f"error: {call.error}; resend the call with the arguments as one valid JSON object"
    if not isinstance(call.arguments, dict):
        return "error: tool arguments must be a JSON object"
    if call.arguments or not call.raw_arguments.strip():
        return None
    try:
        parsed = json.loads(call.raw_arguments)
    except ValueError as exc:
        return (
            f"error: malformed JSON in the arguments ({exc}); resend the call with the "
            "arguments as one valid JSON object"
        )
    if not isinstance(parsed, dict):
        return "error: tool arguments must be a JSON object"
    call.arguments = parsed
    return None


def compact(messages: list[Message], budget: int, keep_last: int = 6) -> None:
    """Elide old tool results (oldest first) until the conversation fits `budget` characters."""
    total = sum(
        len(str(m.get("content") or "")) + len(json.dumps(m.get("tool_calls", "")))
        for m in messages
    )
    tool_idx = [i for i, m in enumerate(messages) if m.get("role") == "tool"][:-keep_last]
    for i in tool_idx:
        if total <= budget:
            return
        content = str(messages[i].get("content") or "")
        if len(content) > 200:
            stub = f"{content[:120]}\n[... older output elided; rerun the tool if you need it]"
            messages[i]["content"] = stub
            total -= len(content) - len(stub)


def money(usd: float) -> str:
    """0.5 -> '0.50', 0.0012 -> '0.0012'."""
    text = f"{usd:.4f}".rstrip("0")
    whole, _, cents = text.partition(".")
    return f"{whole}.{cents.ljust(2, '0')}"
