"""`--agent codex`: OpenAI Codex CLI in exec mode.

    codex exec --json --sandbox workspace-write [--model M] BRIEF     (or `-` and the brief on stdin)

`codex exec` never asks for approval; its default sandbox is read-only, and workspace-write
lets it edit files in the working directory (the task's worktree) and nothing else. `--json`
prints JSONL events: thread.started, turn.started, item.started/updated/completed (items of type
agent_message, reasoning, command_execution, file_change, mcp_tool_call, web_search),
turn.completed with `usage` {input_tokens, cached_input_tokens, output_tokens}, turn.failed
with `error`, and error. Codex reports no cost.
Docs: https://github.com/openai/codex/blob/main/docs/exec.md,
https://developers.openai.com/codex/noninteractive
"""

from __future__ import annotations

from typing import Any

from specflow.agents.base import AgentTask, EventSink
from specflow.agents.clis.base import CliAgent, JsonLinesParser, Parser, Report, as_int, obj
from specflow.llm.base import Usage


class CodexAgent(CliAgent):
    binary = "codex"
    install_hint = "install Codex CLI: npm i -g @openai/codex"
    auth_hint = "run 'codex login' (or set CODEX_API_KEY)"
    auth_patterns = (
        r"401 unauthorized",
        r"not logged in",
        r"codex login",
        r"invalid_api_key",
        r"incorrect api key",
    )

    def arguments(self, job: AgentTask, prompt: str | None) -> list[str]:
        args = ["exec", "--json", "--sandbox", "workspace-write", *self.model_args(job)]
        return args + [prompt if prompt is not None else "-"]

    def parser(self, emit: EventSink) -> Parser:
        return CodexParser(emit)


class CodexParser(JsonLinesParser):
    def __init__(self, emit: EventSink) -> None:
        super().__init__(emit)
        self.failed: str | None = None
        self.last_error: str | None = None

    def record(self, kind: str, ev: dict[str, Any]) -> None:
        r = self.report
        if kind == "item.completed" and isinstance(ev.get("item"), dict):
            self._item(ev["item"])
        elif kind == "turn.completed":
            r.turns += 1
            r.done = True
            self.last_error = None  # errors before a completed turn were retried
            u = obj(ev.get("usage"))
            r.usage = r.usage + Usage(
                prompt_tokens=as_int(u.get("input_tokens")),
                completion_tokens=as_int(u.get("output_tokens")),
                calls=1,
                cached_tokens=as_int(u.get("cached_input_tokens")),
            )
        elif kind == "turn.failed":
            self.failed = _message(ev.get("error")) or "turn failed"
        elif kind == "error":
            self.last_error = _message(ev) or "error"

    def _item(self, item: dict[str, Any]) -> None:
        kind = item.get("type")
        if kind == "agent_message":
            self.report.text = str(item.get("text") or "")
        elif kind == "command_execution":
            code = item.get("exit_code")
            self.step(
                "command",
                str(item.get("command") or ""),
                str(item.get("aggregated_output") or ""),
                ok=code in (0, None) and item.get("status") != "failed",
            )
        elif kind == "file_change":
            raw = item.get("changes")
            changes: list[Any] = raw if isinstance(raw, list) else []
            paths = ", ".join(
                f"{c.get('kind', '?')} {c.get('path', '?')}" for c in changes if isinstance(c, dict)
            )
            self.step("file_change", paths, str(item.get("status") or ""), ok=True)
        elif kind == "mcp_tool_call":
            self.step(f"{item.get('server')}.{item.get('tool')}", "", str(item.get("status")))

    def finish(self, output: str) -> Report:
        r = self.report
        r.error = self.failed or self.last_error
        if r.error:
            r.done = False
        return r


def _message(obj: Any) -> str | None:
    if isinstance(obj, dict):
        msg = obj.get("message")
        return str(msg) if msg else None
    return str(obj) if obj else None
