"""StubLLM: a scripted OpenAI-compatible chat server on 127.0.0.1, for tests.

It lets tests drive the REAL litellm/openai client (no patching) against a local HTTP server
that answers `POST /v1/chat/completions` (and `/chat/completions`) from a queue of scripted
replies, and records every request it received.

Usage::

    from tests.support.stub_llm import StubLLM, text_reply

    with StubLLM() as stub:
        stub.reply_text("hello")                       # plain assistant text
        stub.reply_json({"title": "x"})                # content = json.dumps(obj)
        stub.reply_tool_calls([{"name": "read_file", "arguments": {"path": "a.py"}}])
        stub.fail(429, retry_after=1)                  # HTTP 429 with a Retry-After header
        stub.fail(500)                                 # HTTP 500
        stub.hang(5)                                   # answer only after 5 s (client times out)
        stub.reply_malformed_json()                    # content that is not JSON
        stub.reply_text('{"wrong": 1}')                # schema-invalid JSON is just text

        # point the client at it: model "openai/stub" (stub.model) and either
        #   api_base=stub.base_url, api_key="sk-test"     (explicit), or
        #   monkeypatch.setenv(k, v) for k, v in stub.env().items()  (OPENAI_API_BASE/KEY)
        ...
        stub.requests        # list of JSON request bodies, in arrival order (stub.paths: routes)
        stub.requests[0]["messages"], stub.requests[0].get("response_format"), ...["tools"]
        stub.request_headers # the matching request headers (lower-cased names)

Replies are consumed in order, one per request. When the queue is empty, `default_reply`
(if set) is called with the request body and returns a `Reply` (or a `str`, meaning plain
text), so an agent test can compute answers from the conversation::

    stub.default_reply = lambda body: text_reply("done") if ... else tool_calls_reply([...])

With neither a queued reply nor a default, the stub answers HTTP 400 "StubLLM: no reply
queued" (a non-retryable error, so a missing script fails fast and clearly).

Anthropic's Messages API (`POST /v1/messages`, model `anthropic/claude-…` with
`api_base=stub.base_url[:-3]`) is answered from the same queue: each scripted reply is
translated to Anthropic's format (text and tool_use blocks; `prompt_tokens_details.cached_tokens`
becomes `cache_read_input_tokens`), so tests can check what litellm sends Anthropic.

Module-level constructors build `Reply` objects for `stub.queue(...)` and `default_reply`:
`text_reply`, `json_reply`, `tool_calls_reply`, `error_reply`, `hang_reply`. For CLI
end-to-end tests in a subprocess, pass `env={**os.environ, **stub.env()}` and
`--model openai/stub`.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "Reply",
    "StubLLM",
    "error_reply",
    "hang_reply",
    "json_reply",
    "text_reply",
    "tool_calls_reply",
]

DEFAULT_USAGE: dict[str, Any] = {"prompt_tokens": 10, "completion_tokens": 5}
ANTHROPIC_ROUTES = ("/v1/messages", "/messages")


@dataclass
class Reply:
    """One scripted HTTP answer. `body` None with status 200 means a text reply of "".

    `delay_s` sleeps before answering (to provoke client timeouts); `headers` are extra
    response headers (e.g. Retry-After); `raw` sends bytes as the body verbatim.
    """

    status: int = 200
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    raw: bytes | None = None


def _completion_body(
    message: dict[str, Any], finish_reason: str, usage: Mapping[str, Any] | None
) -> dict[str, Any]:
    u = dict(usage or DEFAULT_USAGE)
    u.setdefault("total_tokens", u.get("prompt_tokens", 0) + u.get("completion_tokens", 0))
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "",  # filled with the requested model when served
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": u,
    }


def text_reply(text: str | None, *, usage: Mapping[str, Any] | None = None) -> Reply:
    """A normal assistant answer with `text` as content."""
    return Reply(body=_completion_body({"role": "assistant", "content": text}, "stop", usage))


def json_reply(obj: Any, *, usage: Mapping[str, Any] | None = None) -> Reply:
    """An assistant answer whose content is `json.dumps(obj)`."""
    return text_reply(json.dumps(obj), usage=usage)


def tool_calls_reply(
    calls: Iterable[Mapping[str, Any]],
    *,
    content: str | None = None,
    usage: Mapping[str, Any] | None = None,
) -> Reply:
    """Tool calls: each item is `{"name": str, "arguments": dict | str, "id": str (optional)}`.

    A `str` for arguments is sent verbatim (use it to send malformed JSON arguments).
    """
    tool_calls = []
    for i, call in enumerate(calls):
        args = call.get("arguments", {})
        tool_calls.append(
            {
                "id": call.get("id", f"call_{i}"),
                "type": "function",
                "function": {
                    "name": call["name"],
                    "arguments": args if isinstance(args, str) else json.dumps(args),
                },
            }
        )
    message = {"role": "assistant", "content": content, "tool_calls": tool_calls}
    return Reply(body=_completion_body(message, "tool_calls", usage))


def error_reply(status: int, *, retry_after: float | None = None, message: str = "") -> Reply:
    """An HTTP error in OpenAI's error format, optionally with a Retry-After header (seconds)."""
    headers = {}
    if retry_after is not None:
        headers["Retry-After"] = f"{retry_after:g}"
    kind = {
        400: "invalid_request_error",
        401: "invalid_api_key",
        403: "permission_denied",
        404: "model_not_found",
        429: "rate_limit_exceeded",
    }.get(status, "server_error")
    body = {
        "error": {
            "message": message or f"stub error {status}",
            "type": kind,
            "param": None,
            "code": kind,
        }
    }
    return Reply(status=status, body=body, headers=headers)


def hang_reply(seconds: float, then: Reply | None = None) -> Reply:
    """Wait `seconds` before answering with `then` (default: text "late")."""
    reply = then or text_reply("late")
    return Reply(reply.status, reply.body, dict(reply.headers), seconds, reply.raw)


DefaultReply = Callable[[dict[str, Any]], "Reply | str"]


class StubLLM:
    """The server. Use as a context manager; see the module docstring for the API."""

    model = "openai/stub"
    api_key = "sk-test"

    def __init__(self, default_reply: DefaultReply | None = None) -> None:
        self.default_reply: DefaultReply | None = default_reply
        self.requests: list[dict[str, Any]] = []
        self.request_headers: list[dict[str, str]] = []
        self.paths: list[str] = []
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> StubLLM:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                stub._handle(self)

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.block_on_close = False  # a hanging reply must not block shutdown
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="stub-llm", daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> StubLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        assert self._server is not None, "StubLLM is not started"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL, ending in /v1."""
        return f"http://127.0.0.1:{self.port}/v1"

    def env(self) -> dict[str, str]:
        """Environment variables that point litellm's `openai/...` models at this stub."""
        return {"OPENAI_API_BASE": self.base_url, "OPENAI_API_KEY": self.api_key}

    # -- scripting -------------------------------------------------------------------------

    def queue(self, *replies: Reply | str) -> StubLLM:
        """Append replies (a `str` means a plain text reply)."""
        with self._lock:
            for r in replies:
                self._queue.append(text_reply(r) if isinstance(r, str) else r)
        return self

    def reply_text(self, text: str | None, **kw: Any) -> StubLLM:
        return self.queue(text_reply(text, **kw))

    def reply_json(self, obj: Any, **kw: Any) -> StubLLM:
        return self.queue(json_reply(obj, **kw))

    def reply_tool_calls(self, calls: Iterable[Mapping[str, Any]], **kw: Any) -> StubLLM:
        return self.queue(tool_calls_reply(calls, **kw))

    def reply_malformed_json(self, text: str = '{"title": "unterminated') -> StubLLM:
        return self.queue(text_reply(text))

    def fail(self, status: int, retry_after: float | None = None, message: str = "") -> StubLLM:
        return self.queue(error_reply(status, retry_after=retry_after, message=message))

    def hang(self, seconds: float, then: Reply | None = None) -> StubLLM:
        return self.queue(hang_reply(seconds, then))

    @property
    def pending(self) -> int:
        """Scripted replies not yet consumed."""
        with self._lock:
            return len(self._queue)

    # -- serving ---------------------------------------------------------------------------

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            hook = self.default_reply
        if hook is not None:
            produced = hook(body)
            return text_reply(produced) if isinstance(produced, str) else produced
        return error_reply(400, message="StubLLM: no reply queued")

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        data = handler.rfile.read(length) if length else b""
        path = handler.path.split("?", 1)[0].rstrip("/")
        try:
            body: dict[str, Any] = json.loads(data or b"{}")
        except ValueError:
            body = {"_unparsed": data.decode("utf-8", "replace")}
        if path not in ("/v1/chat/completions", "/chat/completions", *ANTHROPIC_ROUTES):
            self._send(handler, error_reply(404, message=f"StubLLM: no route {path}"), body)
            return
        with self._lock:
            self.requests.append(body)
            self.request_headers.append({k.lower(): v for k, v in handler.headers.items()})
            self.paths.append(path)
        reply = self._next_reply(body)
        if path in ANTHROPIC_ROUTES and reply.body is not None and "choices" in reply.body:
            reply = Reply(reply.status, _as_anthropic(reply.body), reply.headers, reply.delay_s)
        self._send(handler, reply, body)

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, reply: Reply, request: dict[str, Any]) -> None:
        if reply.delay_s:
            time.sleep(reply.delay_s)
        if reply.raw is not None:
            payload = reply.raw
        else:
            body = reply.body
            if body is None and reply.status == 200:
                body = text_reply("").body
            out = dict(body or {})
            if "choices" in out and not out.get("model"):
                out["model"] = str(request.get("model", "stub"))
            payload = json.dumps(out).encode()
        try:
            handler.send_response(reply.status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(payload)))
            for k, v in reply.headers.items():
                handler.send_header(k, v)
            handler.end_headers()
            handler.wfile.write(payload)
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout); nothing to do


def _as_anthropic(body: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI chat completion body as Anthropic's Messages API would answer it."""
    message = body["choices"][0]["message"]
    blocks: list[dict[str, Any]] = []
    if message.get("content"):
        blocks.append({"type": "text", "text": message["content"]})
    for tc in message.get("tool_calls") or []:
        fn = tc["function"]
        args = json.loads(fn["arguments"]) if fn["arguments"] else {}
        blocks.append({"type": "tool_use", "id": tc["id"], "name": fn["name"], "input": args})
    usage = body.get("usage") or {}
    cached = int((usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
    return {
        "id": "msg_stub",
        "type": "message",
        "role": "assistant",
        "model": "stub",
        "content": blocks,
        "stop_reason": "tool_use" if message.get("tool_calls") else "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": int(usage.get("prompt_tokens") or 0) - cached,
            "output_tokens": int(usage.get("completion_tokens") or 0),
            "cache_read_input_tokens": cached,
            "cache_creation_input_tokens": 0,
        },
    }
