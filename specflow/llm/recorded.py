"""Recorded models: record real calls to JSONL, answer from the recording, or from a script.

Recording format, one JSON object per line::

    {"purpose": "plan", "request_hash": "sha256:…", "model": "openai/gpt-4o-mini",
     "inputs": {"spec.md": "…", "constitution.md": "…"},
     "response": {"content": "…" | null,
                  "tool_calls": [{"id": "…", "name": "…", "arguments": {…}}],
                  "usage": {"prompt_tokens": 1, "completion_tokens": 2, "cost_usd": 0.0}}}

`request_hash` is the sha256 of the canonical JSON (sorted keys, no spaces) of
`{"messages": …, "tools": …, "response_format": …}`. `inputs` (optional) are the texts the
stage asked about (`llm.base.asking_about`). Only successful calls are recorded; nothing from
HTTP (headers, keys) is ever part of a call, so nothing secret reaches the file.

Replay answers by request hash, else by purpose in order — so a changed prompt template still
finds its answer — but never for other inputs: an answer recorded for another feature text or
other artifacts is refused, naming the stage and the first difference.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections import deque
from collections.abc import Mapping
from itertools import zip_longest
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specflow.errors import InputError, ModelConfigError, ModelError
from specflow.llm.base import (
    Call,
    CallObserver,
    CallOptions,
    Completion,
    Message,
    ToolCall,
    Usage,
    request_inputs,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack


def request_hash(
    messages: list[Message],
    tools: list[dict[str, Any]] | None = None,
    response_format: dict[str, Any] | None = None,
) -> str:
    """The key a recorded response is found by: same request, same hash, on any machine."""
    canonical = json.dumps(
        {"messages": messages, "tools": tools or None, "response_format": response_format or None},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def completion_to_record(completion: Completion) -> dict[str, Any]:
    usage = completion.usage
    return {
        "content": completion.content,
        "tool_calls": [
            {"id": tc.id, "name": tc.name, "arguments": tc.arguments}
            | ({"raw_arguments": tc.raw_arguments} if tc.error else {})
            for tc in completion.tool_calls
        ],
        "usage": {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "cost_usd": usage.cost_usd,
            **({"cached_tokens": usage.cached_tokens} if usage.cached_tokens else {}),
        },
        **({"finish_reason": completion.finish_reason} if completion.finish_reason else {}),
    }


def record_to_completion(response: dict[str, Any], model: str) -> Completion:
    usage = response.get("usage") or {}
    calls = []
    for i, tc in enumerate(response.get("tool_calls") or []):
        args = tc.get("arguments")
        raw = tc.get("raw_arguments")
        calls.append(
            ToolCall(
                id=str(tc.get("id") or f"call_{i}"),
                name=str(tc.get("name", "")),
                arguments=args if isinstance(args, dict) else {},
                raw_arguments=raw if isinstance(raw, str) else json.dumps(args or {}),
                error="arguments are not valid JSON" if isinstance(raw, str) else None,
            )
        )
    return Completion(
        content=response.get("content"),
        tool_calls=calls,
        usage=Usage(
            prompt_tokens=int(usage.get("prompt_tokens", 0) or 0),
            completion_tokens=int(usage.get("completion_tokens", 0) or 0),
            cost_usd=float(usage.get("cost_usd", 0.0) or 0.0),
            calls=1,
            cached_tokens=int(usage.get("cached_tokens", 0) or 0),
        ),
        model=model,
        finish_reason=response.get("finish_reason"),
    )


class Recorder:
    """A CallObserver appending every successful call to a JSONL recording.

    Each line goes out in one `write` on an O_APPEND descriptor, under a lock, so concurrent
    agents (threads or processes) never interleave partial lines.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def on_call(self, call: Call) -> None:
        completion = call.completion
        if completion is None:
            return
        line: dict[str, Any] = {
            "purpose": call.purpose,
            "request_hash": request_hash(call.messages, call.tools, call.response_format),
            "response": completion_to_record(completion),
            "model": completion.model or call.model,
        }
        inputs = request_inputs()
        if inputs is not None:
            line["inputs"] = dict(inputs)
        append_jsonl(self.path, line, self._lock)


def append_jsonl(path: Path, obj: Any, lock: threading.Lock | None = None) -> None:
    """Append one JSON line atomically (single write on an O_APPEND descriptor)."""
    data = (json.dumps(obj, ensure_ascii=False, default=str) + "\n").encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    held = lock or threading.Lock()
    with held:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)


class ReplayModel:
    """Answers from a recording: by request hash, else the next unused answer for the purpose.

    Thread-safe: concurrent agents each draw from their own purpose's queue.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        name: str = "replay",
        observer: CallObserver | None = None,
    ) -> None:
        self.name = name
        self.path = Path(path)
        self.observer = observer
        self._lock = threading.Lock()
        self._entries = _load(self.path)
        self._used: set[int] = set()
        self._by_hash: dict[str, list[int]] = {}
        self._by_purpose: dict[str, list[int]] = {}
        for i, entry in enumerate(self._entries):
            self._by_hash.setdefault(str(entry.get("request_hash", "")), []).append(i)
            self._by_purpose.setdefault(str(entry.get("purpose", "")), []).append(i)

    def complete(
        self, messages: list[Message], *, purpose: str, **options: Unpack[CallOptions]
    ) -> Completion:
        tools, response_format = options.get("tools"), options.get("response_format")
        key = request_hash(messages, tools, response_format)
        try:
            with self._lock:
                index = self._pick(key, purpose, request_inputs())
                if index is not None:
                    self._used.add(index)
        except ModelConfigError as exc:
            _notify(self.observer, self.name, purpose, messages, tools, response_format, None, exc)
            raise
        if index is None:
            error = ModelError(
                f"replay: no recorded response for {purpose}",
                hint=f"record this run again; {self.path} has no unused answer for it",
            )
            _notify(
                self.observer, self.name, purpose, messages, tools, response_format, None, error
            )
            raise error
        entry = self._entries[index]
        completion = record_to_completion(entry.get("response") or {}, str(entry.get("model", "")))
        completion.model = completion.model or self.name
        _notify(self.observer, self.name, purpose, messages, tools, response_format, completion)
        return completion

    def _pick(self, key: str, purpose: str, inputs: Mapping[str, str] | None) -> int | None:
        same_hash = self._by_hash.get(key, [])
        for i in same_hash:  # an exact match, preferring this purpose's
            if i not in self._used and self._entries[i].get("purpose") == purpose:
                return i
        for i in same_hash:
            if i not in self._used:
                return i
        mismatch: str | None = None
        for i in self._by_purpose.get(purpose, []):
            if i in self._used:
                continue
            recorded = self._entries[i].get("inputs")
            diff = first_difference(recorded, inputs) if recorded and inputs else None
            if diff is None:
                return i
            mismatch = mismatch or diff
        if mismatch is not None and not same_hash:
            raise ModelConfigError(
                f"replay: {self.path.name} answers {purpose} for other inputs: {mismatch}",
                "use a recording made for these inputs, or a real model (--model)",
            )
        # The same request asked again (e.g. a retried stage): the answer is deterministic.
        return same_hash[-1] if same_hash else None


# A clarification session's date is when the question was answered, not what the spec says.
_SESSION_DATE = re.compile(r"^(#+\s*Session\s+)\d{4}-\d{2}-\d{2}\s*$")


def _lines(text: str) -> list[str]:
    return [_SESSION_DATE.sub(r"\1DATE", ln.rstrip()) for ln in text.strip().splitlines()]


def first_difference(recorded: Mapping[str, Any], now: Mapping[str, str]) -> str | None:
    """Where the inputs a recording was made for and the inputs asked about now first differ,
    in words (`spec.md line 12: recorded '…', now '…'`); None when they are the same."""
    for name in sorted(set(recorded) | set(now)):
        if name not in now:
            return f"{name} was an input of the recording but is not one now"
        if name not in recorded:
            return f"{name} is an input now but was not one of the recording"
        old, new = _lines(str(recorded[name])), _lines(now[name])
        for n, (a, b) in enumerate(zip_longest(old, new), 1):
            if a != b:
                return f"{name} line {n}: recorded {_clip(a)}, now {_clip(b)}"
    return None


def _clip(line: str | None, limit: int = 60) -> str:
    if line is None:
        return "(end of text)"
    return repr(line if len(line) <= limit else line[: limit - 1] + "…")


def _load(path: Path) -> list[dict[str, Any]]:
    from specflow.fsutil import read_text_input

    if not path.exists():
        raise InputError(
            f"replay: recording not found: {path}", hint="pass replay:PATH to a .jsonl recording"
        )
    text = read_text_input(path, "pass replay:PATH to a .jsonl recording")
    entries = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue  # a line cut short by a crash while recording
        if isinstance(obj, dict):
            entries.append(obj)
    if text.strip() and not entries:
        raise InputError(
            f"replay: {path} is not a recording (no JSON object on any line)",
            "pass replay:PATH to a .jsonl recording made with record:",
        )
    return entries


class ScriptedModel:
    """A queue of canned answers for unit tests (cf. simonw/llm's mock model).

    Each call pops the next item: a Completion is returned, an Exception raised, a str
    becomes a text Completion. Every request is kept in `calls` for assertions.
    """

    def __init__(
        self,
        responses: list[Completion | Exception | str] | None = None,
        name: str = "scripted",
        observer: CallObserver | None = None,
    ) -> None:
        self.name = name
        self.observer = observer
        self.calls: list[dict[str, Any]] = []
        self._queue: deque[Completion | Exception | str] = deque(responses or [])
        self._lock = threading.Lock()

    def add(self, *responses: Completion | Exception | str) -> None:
        with self._lock:
            self._queue.extend(responses)

    @property
    def remaining(self) -> int:
        with self._lock:
            return len(self._queue)

    def complete(
        self, messages: list[Message], *, purpose: str, **options: Unpack[CallOptions]
    ) -> Completion:
        tools, response_format = options.get("tools"), options.get("response_format")
        with self._lock:
            self.calls.append(
                {
                    "messages": [dict(m) for m in messages],
                    "purpose": purpose,
                    "tools": tools,
                    "response_format": response_format,
                }
            )
            item = self._queue.popleft() if self._queue else None
        if item is None:
            item = ModelError(f"scripted: no more responses for {purpose}")
        if isinstance(item, Exception):
            _notify(self.observer, self.name, purpose, messages, tools, response_format, None, item)
            raise item
        if isinstance(item, str):
            item = Completion(content=item, usage=Usage(calls=1), model=self.name)
        _notify(self.observer, self.name, purpose, messages, tools, response_format, item)
        return item


def _notify(
    observer: CallObserver | None,
    model: str,
    purpose: str,
    messages: list[Message],
    tools: list[dict[str, Any]] | None,
    response_format: dict[str, Any] | None,
    completion: Completion | None,
    error: Exception | None = None,
) -> None:
    if observer is not None:
        observer.on_call(
            Call(
                completion.model if completion and completion.model else model,
                purpose,
                messages,
                tools,
                response_format,
                completion,
                str(error) if error else None,
            )
        )
