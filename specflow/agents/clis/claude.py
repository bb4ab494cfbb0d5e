"""`--agent claude`: Claude Code in print mode.

    claude -p --output-format stream-json --verbose --permission-mode acceptEdits
           --max-turns N [--model M] BRIEF

`-p` is the non-interactive mode; stream-json (which needs --verbose with -p) prints one JSON
message per line: a `system` init, `assistant` messages (text and `tool_use` blocks), `user`
messages with `tool_result` blocks, and a final `result` with `subtype`, `is_error`, `result`,
`num_turns`, `total_cost_usd` and `usage`. acceptEdits lets it edit files without asking;
everything else it would have to ask for is refused in print mode.
Docs: https://docs.anthropic.com/en/docs/claude-code/cli-reference,
https://docs.anthropic.com/en/docs/claude-code/sdk/sdk-headless
"""

from __future__ import annotations

import json
from typing import Any

from specflow.agents.base import AgentTask, EventSink
from specflow.agents.clis.base import CliAgent, JsonLinesParser, Parser, as_int, obj
from specflow.llm.base import Usage


class ClaudeAgent(CliAgent):
    binary = "claude"
    install_hint = "install Claude Code: npm i -g @anthropic-ai/claude-code"
    auth_hint = "run 'claude /login' (or set ANTHROPIC_API_KEY)"
    auth_patterns = (
        r"invalid api key",
        r"please run /login",
        r"not logged in",
        r"authentication_error",
        r"oauth token (has )?expired",
    )

    def arguments(self, job: AgentTask, prompt: str | None) -> list[str]:
        args = ["-p", "--output-format", "stream-json", "--verbose"]
        args += ["--permission-mode", "acceptEdits", "--max-turns", str(job.limits.max_steps)]
        return args + self.model_args(job) + ([prompt] if prompt is not None else [])

    def parser(self, emit: EventSink) -> Parser:
        return ClaudeParser(emit)


class ClaudeParser(JsonLinesParser):
    def __init__(self, emit: EventSink) -> None:
        super().__init__(emit)
        self.pending: dict[str, tuple[str, str]] = {}  # tool_use id -> (name, input)

    def record(self, kind: str, msg: dict[str, Any]) -> None:
        if kind == "system" and msg.get("subtype") == "init":
            self.report.model = msg.get("model") or self.report.model
        elif kind == "assistant":
            for block in _content(msg):
                if block.get("type") == "tool_use":
                    args = json.dumps(block.get("input") or {}, default=str)
                    self.pending[str(block.get("id"))] = (str(block.get("name")), args)
                elif block.get("type") == "text" and block.get("text"):
                    self.report.text = str(block["text"])
        elif kind == "user":
            for block in _content(msg):
                if block.get("type") == "tool_result":
                    name, args = self.pending.pop(str(block.get("tool_use_id")), ("?", ""))
                    ok = not block.get("is_error")
                    self.step(name, args, _text(block.get("content")), ok)
        elif kind == "result":
            self._result(msg)

    def _result(self, msg: dict[str, Any]) -> None:
        r = self.report
        r.done = True
        r.turns = as_int(msg.get("num_turns"))
        usage = obj(msg.get("usage"))
        prompt = sum(
            as_int(usage.get(k))
            for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
        )
        r.usage = Usage(
            prompt_tokens=prompt,
            completion_tokens=as_int(usage.get("output_tokens")),
            cost_usd=float(msg.get("total_cost_usd") or 0.0),
            calls=r.turns,
            cached_tokens=as_int(usage.get("cache_read_input_tokens")),
        )
        text = msg.get("result")
        if isinstance(text, str) and text:
            r.text = text
        subtype = str(msg.get("subtype") or "")
        if msg.get("is_error") or (subtype and subtype != "success"):
            detail = text if isinstance(text, str) and text else subtype
            if subtype == "error_max_turns":
                detail = f"stopped at the turn limit after {r.turns} turns (--max-turns)"
            r.error = detail or "error"


def _content(msg: dict[str, Any]) -> list[dict[str, Any]]:
    inner = msg.get("message")
    blocks = inner.get("content") if isinstance(inner, dict) else None
    return [b for b in blocks if isinstance(b, dict)] if isinstance(blocks, list) else []


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(c.get("text", "")) for c in content if isinstance(c, dict))
    return ""
