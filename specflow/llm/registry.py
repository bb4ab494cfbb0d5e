"""Pick a Model by name, and the observers every call goes through (call log, recorder)."""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from specflow.config import LLMSection
from specflow.llm.base import CallObserver, Completion, Message, Model
from specflow.redact import env_secrets, redact, redact_obj

REPLAY_PREFIX = "replay:"


def get_model(name: str, settings: LLMSection, observer: CallObserver | None = None) -> Model:
    """`replay:PATH` answers from a recording (offline); anything else goes to litellm.

    Nothing heavy is imported here: litellm loads on the first call of a LiteLLMModel.
    """
    if name.startswith(REPLAY_PREFIX):
        from specflow.llm.replay import ReplayModel

        path = name[len(REPLAY_PREFIX) :]
        if not Path(path).is_file():
            from specflow.errors import ModelConfigError

            raise ModelConfigError(
                f"replay model: no recording at {path}", "pass replay:PATH to a .jsonl recording"
            )
        # Artifacts record the model name: keep machine-specific paths out of them.
        return ReplayModel(path, name=f"{REPLAY_PREFIX}{Path(path).name}", observer=observer)
    from specflow.llm.litellm_model import LiteLLMModel

    return LiteLLMModel(name, settings, observer)


class ObserverChain:
    """Fans one call out to several observers (e.g. CallLog + Recorder + cost tracker)."""

    def __init__(self, *observers: CallObserver | None) -> None:
        self.observers: list[CallObserver] = [o for o in observers if o is not None]

    def add(self, observer: CallObserver) -> None:
        self.observers.append(observer)

    def on_call(
        self,
        *,
        model: str,
        purpose: str,
        messages: list[Message],
        tools: list[dict[str, Any]] | None,
        response_format: dict[str, Any] | None,
        completion: Completion | None,
        error: str | None,
    ) -> None:
        for observer in self.observers:
            observer.on_call(
                model=model,
                purpose=purpose,
                messages=messages,
                tools=tools,
                response_format=response_format,
                completion=completion,
                error=error,
            )


class CallLog:
    """Appends every call as one JSON line (secrets redacted), e.g. to .specflow/logs/calls.jsonl.

    Fields: ts, purpose, model, messages, tools, response_format, response {content,
    tool_calls}, usage, latency_s, retries, error.
    """

    def __init__(self, path: str | os.PathLike[str], *, include_tools: bool = True) -> None:
        self.path = Path(path)
        self.include_tools = include_tools
        self._lock = threading.Lock()

    def on_call(
        self,
        *,
        model: str,
        purpose: str,
        messages: list[Message],
        tools: list[dict[str, Any]] | None,
        response_format: dict[str, Any] | None,
        completion: Completion | None,
        error: str | None,
    ) -> None:
        from specflow.llm.replay import append_jsonl

        record: dict[str, Any] = {
            "ts": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "unix": round(time.time(), 3),
            "purpose": purpose,
            "model": completion.model if completion and completion.model else model,
            "messages": messages,
            "tools": tools if self.include_tools else None,
            "response_format": response_format,
            "response": None,
            "usage": None,
            "latency_s": None,
            "retries": None,
            "error": error,
        }
        if completion is not None:
            record["response"] = {
                "content": completion.content,
                "tool_calls": [
                    {
                        "id": tc.id,
                        "name": tc.name,
                        "arguments": tc.arguments,
                        **(
                            {"raw_arguments": tc.raw_arguments, "error": tc.error}
                            if tc.error
                            else {}
                        ),
                    }
                    for tc in completion.tool_calls
                ],
                "finish_reason": completion.finish_reason,
            }
            record["usage"] = completion.usage.to_dict()
            record["latency_s"] = completion.latency_s
            record["retries"] = completion.retries
        secrets = env_secrets()
        safe = redact_obj(record, secrets=secrets)
        if error:
            safe["error"] = redact(error, secrets=secrets)
        append_jsonl(self.path, safe, self._lock)
