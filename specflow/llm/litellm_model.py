"""The real Model: any provider litellm knows, with our own retry loop and error mapping.

litellm is imported lazily (first call), never at import time: it takes seconds to import.
Its own retries are switched off (`num_retries=0`, `max_retries=0` for the OpenAI client) so
that one loop here owns backoff, `Retry-After` and the attempt count reported to the user.
"""

from __future__ import annotations

import email.utils
import json
import logging
import os
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from typing import TYPE_CHECKING, Any

from specflow.config import LLMSection
from specflow.errors import ModelConfigError, ModelError
from specflow.llm.base import Call, CallObserver, CallOptions, Completion, Message, ToolCall, Usage
from specflow.llm.prompt_cache import cached_tokens_of, wants_cache_marks, without_cache_marks
from specflow.redact import redact

if TYPE_CHECKING:
    from typing_extensions import Unpack

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})
# A Retry-After longer than this is clamped: a run should not sleep for an hour on one call.
RETRY_AFTER_CAP_S = 60.0

# Where validate_environment() knows nothing (or the provider needs no key by default).
PROVIDER_KEY_VARS: dict[str, str] = {
    "openai": "OPENAI_API_KEY",
    "text-completion-openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "groq": "GROQ_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "together_ai": "TOGETHERAI_API_KEY",
    "cohere": "COHERE_API_KEY",
    "xai": "XAI_API_KEY",
    "azure": "AZURE_API_KEY",
    "fireworks_ai": "FIREWORKS_AI_API_KEY",
    "perplexity": "PERPLEXITYAI_API_KEY",
    "bedrock": "AWS_ACCESS_KEY_ID",
    "vertex_ai": "GOOGLE_APPLICATION_CREDENTIALS",
    "huggingface": "HF_TOKEN",
}

_AUTH_HINTS = re.compile(
    r"missing credentials|api_key client option must be set|no api key|invalid api key|"
    r"missing [\w ]{0,30}api[ _]key|"
    r"incorrect api key|api key not valid|x-api-key|authentication|unauthori[sz]ed",
    re.IGNORECASE,
)
_PREFIX = re.compile(r"^(litellm\.\w+:\s*)?(?:\w+(?:Error|Exception)\s*[-:]\s*)*")


def load_litellm() -> Any:
    """Import litellm once, quietly and offline (bundled price table, no debug banners)."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True  # it would print "Give Feedback" banners to stdout
    if hasattr(litellm, "telemetry"):
        litellm.telemetry = False
    return litellm


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when - (time.time() if now is None else now)
    return max(0.0, seconds)


def retry_after_from(exc: BaseException) -> float | None:
    """The Retry-After of a failed call, if the provider sent one.

    litellm's exception mapping attaches the provider's response headers to the exception it
    raises as `litellm_response_headers` (an httpx.Headers); exceptions built from an httpx
    response also keep them on `exc.response.headers`. Both are case-insensitive mappings.
    """
    candidates: list[Any] = [getattr(exc, "litellm_response_headers", None)]
    response = getattr(exc, "response", None)
    candidates.append(getattr(response, "headers", None))
    candidates.append(getattr(exc, "headers", None))
    for headers in candidates:
        if not isinstance(headers, Mapping) and not hasattr(headers, "get"):
            continue
        try:
            value = headers.get("retry-after") or headers.get("Retry-After")
        except Exception:
            continue
        seconds = parse_retry_after(str(value) if value is not None else None)
        if seconds is not None:
            return seconds
    return None


def short_reason(exc: BaseException, limit: int = 200) -> str:
    """One redacted line describing a provider error."""
    text = str(getattr(exc, "message", "") or exc) or type(exc).__name__
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    first = _PREFIX.sub("", first).strip() or type(exc).__name__
    status = status_of(exc)
    if isinstance(status, int) and str(status) not in first:
        first = f"HTTP {status}: {first}"
    first = redact(first)
    return first if len(first) <= limit else first[: limit - 1] + "…"


def status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    try:
        return int(status) if status is not None else None
    except (TypeError, ValueError):
        return None


def key_vars_for(model: str) -> list[str]:
    """The environment variable(s) a user must set to call `model`."""
    try:
        litellm = load_litellm()
        missing = list(litellm.validate_environment(model=model).get("missing_keys") or [])
    except Exception:
        missing = []
    provider = provider_of(model)
    preferred = PROVIDER_KEY_VARS.get(provider or "")
    if missing:
        return sorted(missing, key=lambda var: var != preferred)  # e.g. GEMINI_API_KEY first
    if provider in PROVIDER_KEY_VARS:
        return [PROVIDER_KEY_VARS[provider]]
    return [f"{(provider or model.split('/')[0]).upper().replace('-', '_')}_API_KEY"]


def missing_credentials(model: str) -> list[str]:
    """The API key variables `model` needs and the environment lacks (either one will do),
    checked before a run starts. Only for providers known to need a key: a local server
    (ollama, vllm, …) or a login-based provider (bedrock, vertex) is left to the first call."""
    provider = provider_of(model)
    if provider not in PROVIDER_KEY_VARS:
        return []
    try:
        found = load_litellm().validate_environment(model=model)
    except Exception:
        return []
    if found.get("keys_in_environment"):
        return []
    keys = [k for k in found.get("missing_keys") or [] if str(k).endswith("_API_KEY")]
    preferred = PROVIDER_KEY_VARS[provider or ""]
    return sorted(keys, key=lambda var: var != preferred)


def provider_of(model: str) -> str | None:
    try:
        litellm = load_litellm()
        return str(litellm.get_llm_provider(model=model)[1])
    except Exception:
        return model.split("/", 1)[0] if "/" in model else None


def _is_retryable(exc: BaseException) -> bool:
    litellm = load_litellm()
    retryable_types = tuple(
        t
        for t in (
            getattr(litellm, "RateLimitError", None),
            getattr(litellm, "Timeout", None),
            getattr(litellm, "APIConnectionError", None),
            getattr(litellm, "InternalServerError", None),
            getattr(litellm, "ServiceUnavailableError", None),
        )
        if isinstance(t, type)
    )
    if isinstance(exc, retryable_types):
        return True
    status = status_of(exc)
    return status is not None and (status in RETRYABLE_STATUS or status >= 500)


@dataclass(repr=False, eq=False)
class LiteLLMModel:
    """Model over `litellm.completion`. Keys and base URLs come from litellm's usual
    environment variables (OPENAI_API_KEY, OPENAI_API_BASE, ANTHROPIC_API_KEY, …) unless
    `api_base`/`api_key` are passed."""

    name: str
    settings: LLMSection
    observer: CallObserver | None = None
    _: KW_ONLY
    api_base: str | None = None
    api_key: str | None = None
    sleep: Callable[[float], None] = time.sleep  # between retries (tests pass a recorder)
    # does the provider take cache_control marks (asked at the first call)
    _cache_marks: bool | None = field(default=None, init=False)

    def __repr__(self) -> str:  # never show the key
        return f"LiteLLMModel({self.name!r})"

    # -- the Model protocol ----------------------------------------------------------------

    def complete(
        self, messages: list[Message], *, purpose: str, **options: Unpack[CallOptions]
    ) -> Completion:
        tools, response_format = options.get("tools"), options.get("response_format")
        started = time.monotonic()
        try:
            completion = self._complete_with_retries(messages, tools, response_format)
        except Exception as exc:
            self._notify(purpose, messages, tools, response_format, None, str(exc) or repr(exc))
            raise
        completion.latency_s = round(time.monotonic() - started, 3)
        self._notify(purpose, messages, tools, response_format, completion, None)
        return completion

    # -- internals -------------------------------------------------------------------------

    def _kwargs(
        self,
        messages: list[Message],
        tools: list[dict[str, Any]] | None,
        response_format: dict[str, Any] | None,
    ) -> dict[str, Any]:
        if self._cache_marks is None:
            self._cache_marks = wants_cache_marks(self.name, provider_of(self.name))
        if not self._cache_marks:
            messages = without_cache_marks(messages)  # this provider caches by prefix
        kwargs: dict[str, Any] = {
            "model": self.name,
            "messages": messages,
            "timeout": self.settings.timeout_s,
            "num_retries": 0,
            "max_retries": 0,  # the OpenAI SDK's own retries
            "drop_params": True,  # e.g. response_format on a provider without it
        }
        if tools:
            kwargs["tools"] = tools
        if response_format:
            kwargs["response_format"] = response_format
        if self.settings.temperature is not None:
            kwargs["temperature"] = self.settings.temperature
        if self.api_base:
            kwargs["api_base"] = self.api_base
        if self.api_key:
            kwargs["api_key"] = self.api_key
        return kwargs

    def _complete_with_retries(
        self,
        messages: list[Message],
        tools: list[dict[str, Any]] | None,
        response_format: dict[str, Any] | None,
    ) -> Completion:
        litellm = load_litellm()
        kwargs = self._kwargs(messages, tools, response_format)
        attempts = self.settings.max_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                response = litellm.completion(**kwargs)
            except Exception as exc:
                self._raise_if_fatal(exc)
                reason = short_reason(exc)
                if isinstance(exc, getattr(litellm, "Timeout", ())):
                    reason = f"timed out after {self.settings.timeout_s:g} s"
                if attempt >= attempts:
                    raise ModelError(
                        f"model call failed after {attempt} attempt{'s' if attempt > 1 else ''}: "
                        f"{reason}",
                        hint="check the provider's status, or raise [llm] max_retries / "
                        "timeout_s in specflow.toml",
                    ) from exc
                delay = self._delay(attempt, retry_after_from(exc))
                log.info(
                    "%s: attempt %d failed (%s); retrying in %.2fs",
                    self.name,
                    attempt,
                    reason,
                    delay,
                )
                self.sleep(delay)
                continue
            completion = self._to_completion(litellm, response)
            completion.retries = attempt - 1
            return completion
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay(self, failed_attempts: int, retry_after: float | None) -> float:
        base = self.settings.backoff_base_s
        cap = self.settings.backoff_max_s
        backoff = min(cap, base * 2 ** (failed_attempts - 1))
        delay = backoff / 2 + random.uniform(0, backoff / 2)  # jitter: spread concurrent agents
        if retry_after is not None:
            honoured = min(retry_after, max(cap, RETRY_AFTER_CAP_S))
            delay = max(delay, honoured + random.uniform(0, 0.1 * max(base, 0.01)))
        return delay

    def _raise_if_fatal(self, exc: Exception) -> None:
        """Map errors that retrying cannot fix to a typed error; return if retryable."""
        litellm = load_litellm()
        status = status_of(exc)
        text = str(getattr(exc, "message", "") or exc)
        auth_types = tuple(
            t
            for t in (
                getattr(litellm, "AuthenticationError", None),
                getattr(litellm, "PermissionDeniedError", None),
            )
            if isinstance(t, type)
        )
        if isinstance(exc, auth_types) or status in (401, 403) or _AUTH_HINTS.search(text):
            names = key_vars_for(self.name)
            either = " or ".join(names)
            if status in (401, 403) and "missing" not in text.lower():
                what = (
                    "the provider refused access" if status == 403 else "the API key was rejected"
                )
                message = f"{self.name}: {what} (HTTP {status}); check {either}"
            else:
                message = f"{self.name}: no API key found; set {either}"
            raise ModelConfigError(
                message, hint=f"export {names[0]}=… with a valid key for this provider"
            ) from exc
        if "LLM Provider NOT provided" in text:
            raise ModelConfigError(
                f"unknown model '{self.name}': litellm cannot tell which provider serves it",
                hint="name it as provider/model, e.g. openai/gpt-4o-mini or anthropic/claude-…",
            ) from exc
        if _is_retryable(exc):
            return
        context_window = getattr(litellm, "ContextWindowExceededError", None)
        if isinstance(context_window, type) and isinstance(exc, context_window):
            raise ModelError(
                f"{self.name}: the prompt is too long for the model's context window",
                hint="use a model with a larger context window (--model)",
            ) from exc
        if status == 404 or isinstance(exc, getattr(litellm, "NotFoundError", ())):
            raise ModelConfigError(
                f"{self.name}: the provider does not know this model ({short_reason(exc, 120)})",
                hint="check the model name in specflow.toml or --model",
            ) from exc
        raise ModelError(
            f"{self.name}: the provider rejected the request: {short_reason(exc)}",
            hint="run with --debug and check .specflow/logs/calls.jsonl",
        ) from exc

    def _to_completion(self, litellm: Any, response: Any) -> Completion:
        choice = response.choices[0]
        message = choice.message
        content = message.content
        if content is not None and not isinstance(content, str):
            content = json.dumps(content)
        tool_calls = [parse_tool_call(tc, i) for i, tc in enumerate(message.tool_calls or [])]
        usage = getattr(response, "usage", None)
        return Completion(
            content=content,
            tool_calls=tool_calls,
            usage=Usage(
                prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
                completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
                cost_usd=self._cost(litellm, response),
                calls=1,
                cached_tokens=cached_tokens_of(usage),
            ),
            model=self.name,
            finish_reason=getattr(choice, "finish_reason", None),
        )

    def _cost(self, litellm: Any, response: Any) -> float:
        hidden = getattr(response, "_hidden_params", None) or {}
        cost = hidden.get("response_cost") if isinstance(hidden, dict) else None
        if isinstance(cost, (int, float)) and cost > 0:
            return float(cost)
        try:
            return float(litellm.completion_cost(completion_response=response) or 0.0)
        except Exception:  # a model missing from the price table costs 0, never crashes
            return 0.0

    def _notify(
        self,
        purpose: str,
        messages: list[Message],
        tools: list[dict[str, Any]] | None,
        response_format: dict[str, Any] | None,
        completion: Completion | None,
        error: str | None,
    ) -> None:
        if self.observer is None:
            return
        try:
            self.observer.on_call(
                Call(
                    self.name,
                    purpose,
                    messages,
                    tools,
                    response_format,
                    completion,
                    redact(error) if error else None,
                )
            )
        except Exception:  # a broken log must not fail the run
            log.warning("call observer failed", exc_info=True)


def parse_tool_call(tc: Any, index: int = 0) -> ToolCall:
    """A provider tool call -> ToolCall. Malformed argument JSON keeps `raw_arguments`, gets
    `arguments={}` and an `error` the caller can report back to the model."""
    function = getattr(tc, "function", None)
    name = str(getattr(function, "name", "") or "")
    raw = getattr(function, "arguments", "") or ""
    if not isinstance(raw, str):
        raw = json.dumps(raw)
    call_id = str(getattr(tc, "id", "") or f"call_{index}")
    error: str | None = None
    arguments: dict[str, Any] = {}
    if raw.strip():
        try:
            parsed = json.loads(raw)
        except ValueError as exc:
            error = f"arguments are not valid JSON: {exc}"
        else:
            if isinstance(parsed, dict):
                arguments = parsed
            else:
                error = f"arguments must be a JSON object, got {type(parsed).__name__}"
    return ToolCall(id=call_id, name=name, arguments=arguments, raw_arguments=raw, error=error)
