"""OpenTelemetry export (the optional `specflow-sdd[otel]` extra): a run as spans.

    run > task > attempt > step | model call | verify | merge

One builder, fed events in order, serves both uses: live, as an EventLog listener
(`events.subscribe(SpanBuilder(tracer).on_event)`), and after the fact, by replaying a run's
`events.jsonl` through it (`export_events`). Span times are the events' own timestamps, so a
span exported later sits where it happened. A model call's span starts `latency_s` before its
event; a step's span starts at the previous event of its attempt.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from specflow.errors import ConfigError
from specflow.runs.events import Event

if TYPE_CHECKING:
    from specflow.runs.events import EventLog

NS = 1_000_000_000


class TelemetryLike(Protocol):
    """`specflow.config.TelemetrySection` (`[telemetry]` in specflow.toml) or TelemetrySettings."""

    @property
    def enabled(self) -> bool: ...
    @property
    def exporter(self) -> str: ...
    @property
    def endpoint(self) -> str | None: ...
    @property
    def service_name(self) -> str: ...


@dataclass
class TelemetrySettings:
    """The same fields as `[telemetry]`, for callers without a config (the CLI's --otel)."""

    enabled: bool = False
    exporter: str = "otlp"  # "otlp" (HTTP/protobuf) or "console"
    endpoint: str | None = None  # default: OTEL_EXPORTER_OTLP_ENDPOINT, else localhost:4318
    service_name: str = "specflow"


def _otel() -> Any:
    try:
        from opentelemetry import trace
    except ImportError:
        raise ConfigError(
            "OpenTelemetry is not installed",
            "pip install 'specflow-sdd[otel]' (or set [telemetry] enabled = false)",
        ) from None
    return trace


def make_provider(settings: TelemetryLike) -> Any:
    """A TracerProvider exporting as configured (batching; call `.shutdown()` to flush)."""
    _otel()
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    provider = TracerProvider(resource=Resource.create({"service.name": settings.service_name}))
    if settings.exporter == "console":
        exporter: Any = ConsoleSpanExporter()
    elif settings.exporter == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            raise ConfigError(
                "the OTLP exporter is not installed",
                "pip install opentelemetry-exporter-otlp-proto-http",
            ) from None
        endpoint = settings.endpoint
        if endpoint and not endpoint.rstrip("/").endswith("/v1/traces"):
            endpoint = endpoint.rstrip("/") + "/v1/traces"
        exporter = OTLPSpanExporter(endpoint=endpoint) if endpoint else OTLPSpanExporter()
    else:
        raise ConfigError(f"[telemetry] exporter '{settings.exporter}'", "use 'otlp' or 'console'")
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


class SpanBuilder:
    """Turns events into spans as they come. Thread-safe enough for EventLog (which calls
    listeners in emit order per thread; spans are keyed by task and attempt)."""

    def __init__(self, tracer: Any) -> None:
        self.tracer = tracer
        self.trace = _otel()
        self.run: Any = None
        self.tasks: dict[str, Any] = {}
        self.attempts: dict[str, tuple[int, Any]] = {}
        self.verifies: dict[str, Any] = {}
        self.merges: dict[str, Any] = {}
        self.last_t: dict[str, float] = {}
        self.spans = 0

    def _start(self, name: str, parent: Any, t: float, attrs: dict[str, Any]) -> Any:
        ctx = self.trace.set_span_in_context(parent) if parent is not None else None
        clean = {k: v for k, v in attrs.items() if v is not None and not isinstance(v, dict)}
        self.spans += 1
        return self.tracer.start_span(name, context=ctx, start_time=int(t * NS), attributes=clean)

    def _end(self, span: Any, t: float, error: str | None = None) -> None:
        if span is None:
            return
        if error:
            from opentelemetry.trace import Status, StatusCode

            span.set_status(Status(StatusCode.ERROR, error))
        span.end(end_time=int(t * NS))

    def on_event(self, ev: Event) -> None:
        with contextlib.suppress(Exception):  # telemetry must never break a run
            self._on_event(ev)

    def _on_event(self, ev: Event) -> None:
        kind = str(ev.get("kind"))
        t = float(ev.get("t", 0.0))
        tid = ev.get("task")
        if kind in ("run_started", "run_resumed") and self.run is None:
            self.run = self._start(
                f"specflow run {ev.get('run')}",
                None,
                t,
                {
                    "specflow.run": ev.get("run"),
                    "specflow.feature": ev.get("feature"),
                    "specflow.agent": ev.get("agent"),
                    "specflow.parallel": ev.get("parallel"),
                    "gen_ai.request.model": ev.get("model"),
                },
            )
            return
        if kind in ("run_finished", "run_interrupted"):
            self._close_all(t, "interrupted" if kind == "run_interrupted" else None)
            if kind == "run_finished" and self.run is not None:
                for k in ("merged", "failed", "blocked"):
                    self.run.set_attribute(f"specflow.tasks.{k}", int(ev.get(k) or 0))
                bad = ev.get("failed") or ev.get("blocked")
                self._end(self.run, t, "some tasks failed" if bad else None)
                self.run = None
            return
        if not isinstance(tid, str):
            return
        self._task_event(kind, tid, t, ev)

    def _task_event(self, kind: str, tid: str, t: float, ev: Event) -> None:
        base = {"specflow.task": tid, "specflow.attempt": ev.get("attempt")}
        if kind == "task_started":
            self.tasks[tid] = self._start(
                f"task {tid}", self.run, t, {**base, "specflow.slot": ev.get("slot")}
            )
        elif kind == "task_blocked":
            span = self._start(
                f"task {tid}", self.run, t, {**base, "specflow.blocked_by": ev.get("by")}
            )
            self._end(span, t, str(ev.get("reason") or "blocked"))
        elif kind == "agent_started":
            self._end_attempt(tid, t)
            n = int(ev.get("attempt") or 1)
            span = self._start(
                f"attempt {n}", self.tasks.get(tid), t, {**base, "specflow.agent": ev.get("agent")}
            )
            self.attempts[tid] = (n, span)
        elif kind in ("agent_step", "model_call"):
            self._leaf(kind, tid, t, ev, base)
        elif kind == "agent_finished":
            self._agent_finished(tid, ev)
        elif kind == "verify_started":
            cmds = " && ".join(ev.get("commands") or [])
            self.verifies[tid] = self._start(
                "verify", self._attempt(tid), t, {**base, "specflow.verify.commands": cmds}
            )
        elif kind in ("verify_passed", "verify_failed"):
            span = self.verifies.pop(tid, None)
            if span is not None and kind == "verify_failed":
                span.set_attribute("specflow.verify.output", str(ev.get("output") or "")[-2000:])
            self._end(span, t, str(ev.get("reason")) if kind == "verify_failed" else None)
        elif kind == "merge_started":
            self.merges[tid] = self._start(
                "merge", self._attempt(tid), t, {**base, "specflow.merge.onto": ev.get("onto")}
            )
        elif kind in ("merge_retry", "merge_conflict"):
            span = self.merges.pop(tid, None)
            if kind == "merge_conflict":
                span = span or self._start("merge", self._attempt(tid), t, base)
                span.set_attribute("specflow.merge.conflicts", ", ".join(ev.get("files") or []))
            self._end(span, t, "conflict" if kind == "merge_conflict" else None)
        elif kind in ("task_merged", "task_failed"):
            self._task_end(kind, tid, t, ev)
        self.last_t[tid] = t

    def _agent_finished(self, tid: str, ev: Event) -> None:
        span = self._attempt(tid)
        if span is None:
            return
        span.set_attribute("specflow.agent.ok", bool(ev.get("ok")))
        span.set_attribute("specflow.agent.steps", int(ev.get("steps") or 0))
        for k, v in (ev.get("usage") or {}).items():
            span.set_attribute(f"specflow.usage.{k}", v)
        if not ev.get("ok"):
            span.set_attribute("specflow.agent.reason", str(ev.get("reason")))

    def _task_end(self, kind: str, tid: str, t: float, ev: Event) -> None:
        error = str(ev.get("reason")) if kind == "task_failed" else None
        self._end(self.merges.pop(tid, None), t)
        self._end(self.verifies.pop(tid, None), t, error)
        self._end_attempt(tid, t, error)
        task = self.tasks.pop(tid, None)
        if task is not None and ev.get("commit"):
            task.set_attribute("specflow.commit", str(ev.get("commit")))
        self._end(task, t, error)

    def _leaf(self, kind: str, tid: str, t: float, ev: Event, base: dict[str, Any]) -> None:
        parent = self._attempt(tid)
        if kind == "model_call":
            start = t - float(ev.get("latency_s") or 0.0)
            attrs = {
                **base,
                "gen_ai.request.model": ev.get("model"),
                "gen_ai.usage.input_tokens": ev.get("prompt_tokens"),
                "gen_ai.usage.output_tokens": ev.get("completion_tokens"),
                "specflow.cost_usd": ev.get("cost_usd"),
                "specflow.tool_calls": ev.get("tool_calls"),
            }
            self._end(self._start("model call", parent, start, attrs), t)
            return
        start = min(self.last_t.get(tid, t), t)
        attrs = {
            **base,
            "specflow.step": ev.get("step"),
            "specflow.tool": ev.get("tool") or "(none)",
            "specflow.tool.args": str(ev.get("args") or "")[:1000],
            "specflow.tool.result": str(ev.get("result") or "")[:1000],
        }
        span = self._start(
            f"step {ev.get('step')} {ev.get('tool') or ''}".strip(), parent, start, attrs
        )
        self._end(span, t, None if ev.get("ok") else "tool call failed")

    def _attempt(self, tid: str) -> Any:
        held = self.attempts.get(tid)
        return held[1] if held else self.tasks.get(tid)

    def _end_attempt(self, tid: str, t: float, error: str | None = None) -> None:
        held = self.attempts.pop(tid, None)
        if held is not None:
            self._end(held[1], t, error)

    def _close_all(self, t: float, error: str | None) -> None:
        for d in (self.merges, self.verifies):
            for tid in list(d):
                self._end(d.pop(tid), t, error)
        for tid in list(self.attempts):
            self._end_attempt(tid, t, error)
        for tid in list(self.tasks):
            self._end(self.tasks.pop(tid), t, error)


def export_events(events: Iterable[Event], tracer: Any) -> int:
    """Feed a recorded run through a SpanBuilder; returns the number of spans started. Spans
    still open at the end (a killed run) are closed at the last event's time."""
    builder = SpanBuilder(tracer)
    last = 0.0
    for ev in events:
        builder.on_event(ev)
        last = float(ev.get("t", last))
    builder._close_all(last, "run did not finish")
    if builder.run is not None:
        builder._end(builder.run, last, "run did not finish")
    return builder.spans


def attach_live(events: EventLog, settings: TelemetryLike) -> Callable[[], None] | None:
    """When `[telemetry] enabled`, export this run's spans as its events happen. Returns the
    function to call when the run ends (flushes the exporter), or None when disabled."""
    if not settings.enabled:
        return None
    provider = make_provider(settings)
    events.subscribe(SpanBuilder(provider.get_tracer("specflow")).on_event)

    def finish() -> None:
        with contextlib.suppress(Exception):
            provider.shutdown()

    return finish
