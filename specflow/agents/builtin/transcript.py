"""The builtin agent's readable log, `<log_dir>/<task>/agent-<attempt>.log` — the file
`specflow log` shows as "agent output" — written line by line as the agent works, so a crash
still leaves what happened; plus the full conversation as JSON at the end of the attempt."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import IO, Any

from specflow.agents.builtin.runner import bounded
from specflow.llm.base import Message
from specflow.redact import env_secrets, redact, redact_obj


class Transcript:
    """Appends one line (or a short block) per event; silent when there is no log folder."""

    def __init__(self, folder: Path | None, attempt: int) -> None:
        self.log_path = folder / f"agent-{attempt}.log" if folder else None
        self.json_path = folder / f"builtin-{attempt}.json" if folder else None
        self._fh: IO[str] | None = None
        self.secrets = env_secrets()
        if self.log_path is not None:
            with contextlib.suppress(OSError):
                self.log_path.parent.mkdir(parents=True, exist_ok=True)
                self._fh = self.log_path.open("a", encoding="utf-8")

    def event(self, kind: str, data: dict[str, Any]) -> None:
        if self._fh is None:
            return
        stamp = time.strftime("%H:%M:%S")
        if kind == "agent_step":
            status = "ok" if data.get("ok") else "FAILED"
            head = f"{stamp} step {data.get('step')}: {data.get('tool')} {bounded(str(data.get('args', '')), 300)} -> {status}"
            body = bounded(str(data.get("result", "")), 1500).rstrip()
            text = head + ("\n" + _indent(body) if body else "")
        elif kind == "agent_note":
            text = f"{stamp} model: " + bounded(str(data.get("text", "")), 1500).strip()
        elif kind == "agent_model":
            text = f"{stamp} builtin agent on {data.get('model')} (sandbox: {data.get('confined')})"
        elif kind == "model_call":
            text = (
                f"{stamp} model call: {data.get('prompt_tokens')}+{data.get('completion_tokens')} "
                f"tokens, ${data.get('total_cost_usd')} so far"
            )
        else:
            text = f"{stamp} {kind}: " + json.dumps(data, default=str)
        self._write(text)

    def finish(self, ok: bool, reason: str | None, summary: str, messages: list[Message]) -> None:
        self._write(
            f"{time.strftime('%H:%M:%S')} " + (f"done: {summary}" if ok else f"stopped: {reason}")
        )
        if self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.close()
            self._fh = None
        if self.json_path is not None:
            with contextlib.suppress(OSError):
                text = json.dumps(redact_obj(messages, secrets=self.secrets), indent=1, default=str)
                self.json_path.write_text(text, encoding="utf-8")

    def _write(self, text: str) -> None:
        if self._fh is None:
            return
        try:  # redacted as written: a kill -9 leaves no key in clear
            self._fh.write(redact(text, secrets=self.secrets) + "\n")
            self._fh.flush()
        except OSError:  # a full disk must not fail the task: the log is a convenience
            self._fh = None


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())
