"""Where model calls go besides their caller: a chain of observers, and the call log
(`.specflow/logs/calls.jsonl`, secrets redacted)."""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from specflow.llm.base import Call, CallObserver
from specflow.redact import env_secrets, redact, redact_obj


class ObserverChain:
    """Fans one call out to several observers (e.g. CallLog + Recorder + cost tracker)."""

    def __init__(self, *observers: CallObserver | None) -> None:
        self.observers: list[CallObserver] = [o for o in observers if o is not None]

    def add(self, observer: CallObserver) -> None:
        self.observers.append(observer)

    def on_call(self, call: Call) -> None:
        for observer in self.observers:
            observer.on_call(call)


class CallLog:
    """Appends every call as one JSON line (secrets redacted), e.g. to .specflow/logs/calls.jsonl.

    Fields: ts, purpose, model, messages, tools, response_format, response {content,
    tool_calls}, usage, latency_s, retries, error.
    """

    def __init__(self, path: str | os.PathLike[str], *, include_tools: bool = True) -> None:
        self.path = Path(path)
        self.include_tools = include_tools
        self._lock = threading.Lock()

    def on_call(self, call: Call) -> None:
        from specflow.llm.recorded import append_jsonl

        completion, error = call.completion, call.error

        record: dict[str, Any] = {
            "ts": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "unix": round(time.time(), 3),
            "purpose": call.purpose,
            "model": completion.model if completion and completion.model else call.model,
            "messages": call.messages,
            "tools": call.tools if self.include_tools else None,
            "response_format": call.response_format,
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
