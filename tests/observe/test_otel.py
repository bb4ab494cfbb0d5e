"""OpenTelemetry export with the SDK's in-memory exporter (skipped without the packages)."""

from __future__ import annotations

from pathlib import Path

import pytest

from specflow.runs.events import read_events
from specflow.runs.state import list_runs

sdk = pytest.importorskip("opentelemetry.sdk.trace")
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)
from opentelemetry.trace import StatusCode  # noqa: E402

from specflow.observe.otel import export_events  # noqa: E402


def _spans(repo: Path) -> list[object]:
    run_id = list_runs(repo / ".specflow")[-1][0]
    events = read_events(repo / ".specflow" / "runs" / run_id / "events.jsonl")
    exporter = InMemorySpanExporter()
    provider = sdk.TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    count = export_events(events, provider.get_tracer("test"))
    spans = list(exporter.get_finished_spans())
    assert len(spans) == count
    return spans


def test_demo_run_exports_run_task_attempt_and_leaf_spans(demo_run: Path) -> None:
    spans = _spans(demo_run)
    by_id = {s.context.span_id: s for s in spans}  # type: ignore[attr-defined]
    roots = [s for s in spans if s.parent is None]  # type: ignore[attr-defined]
    assert len(roots) == 1 and roots[0].name.startswith("specflow run ")  # type: ignore[attr-defined]
    tasks = [s for s in spans if s.name.startswith("task ")]  # type: ignore[attr-defined]
    assert len(tasks) == 6
    assert all(by_id[t.parent.span_id] is roots[0] for t in tasks)  # type: ignore[attr-defined]
    calls = [s for s in spans if s.name == "model call"]  # type: ignore[attr-defined]
    assert len(calls) == 23
    for c in calls:
        attempt = by_id[c.parent.span_id]  # type: ignore[attr-defined]
        assert attempt.name == "attempt 1" and by_id[attempt.parent.span_id] in tasks
        assert c.attributes["gen_ai.usage.input_tokens"] > 0  # type: ignore[attr-defined]
    names = {s.name for s in spans}  # type: ignore[attr-defined]
    assert {"verify", "merge", "step 1 list_files"} <= names
    for s in spans:
        assert s.start_time <= s.end_time  # type: ignore[attr-defined]


def test_failed_task_spans_carry_error_status(failing_run: Path) -> None:
    spans = _spans(failing_run)
    status = {s.name: s.status.status_code for s in spans if s.name.startswith("task ")}  # type: ignore[attr-defined]
    assert status["task T002"] == StatusCode.ERROR and status["task T004"] == StatusCode.ERROR
    assert status["task T001"] != StatusCode.ERROR
    verifies = [s for s in spans if s.name == "verify"]  # type: ignore[attr-defined]
    assert any("expected 3" in str(v.attributes.get("specflow.verify.output")) for v in verifies)  # type: ignore[attr-defined]


def test_live_export_through_an_event_log_listener(tmp_path: Path) -> None:
    from specflow.observe.otel import SpanBuilder
    from specflow.runs.events import EventLog

    exporter = InMemorySpanExporter()
    provider = sdk.TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    log = EventLog(tmp_path / "events.jsonl", fsync=False)
    log.subscribe(SpanBuilder(provider.get_tracer("live")).on_event)
    log.emit("run_started", run="r1", feature="001-x", agent="builtin", parallel=1)
    log.emit("task_started", task="T001", slot=1, base="abc")
    log.emit("agent_started", task="T001", attempt=1, agent="builtin")
    log.emit(
        "model_call",
        task="T001",
        attempt=1,
        step=0,
        model="m",
        prompt_tokens=5,
        completion_tokens=2,
        cost_usd=0.001,
        latency_s=0.5,
        tool_calls=1,
    )
    log.emit(
        "agent_step", task="T001", attempt=1, step=1, tool="run", args="{}", result="ok", ok=True
    )
    assert {s.name for s in exporter.get_finished_spans()} == {"model call", "step 1 run"}  # type: ignore[attr-defined]
    log.emit("agent_finished", task="T001", attempt=1, ok=True, steps=1, usage={"cost_usd": 0.001})
    log.emit("verify_started", task="T001", attempt=1, commands=["pytest"])
    log.emit(
        "verify_failed", task="T001", attempt=1, reason="`pytest` exited with code 1", output="boom"
    )
    log.emit("task_failed", task="T001", reason="verify failed: `pytest` exited with code 1")
    log.emit("run_finished", run="r1", merged=0, failed=1, blocked=0)
    log.close()
    spans = {s.name: s for s in exporter.get_finished_spans()}  # type: ignore[attr-defined]
    assert set(spans) == {
        "specflow run r1",
        "task T001",
        "attempt 1",
        "verify",
        "model call",
        "step 1 run",
    }
    assert spans["verify"].parent.span_id == spans["attempt 1"].context.span_id  # type: ignore[attr-defined]
    assert spans["task T001"].status.status_code == StatusCode.ERROR  # type: ignore[attr-defined]


def test_attach_live_is_off_unless_enabled(tmp_path: Path) -> None:
    from specflow.config import Config
    from specflow.observe.otel import attach_live
    from specflow.runs.events import EventLog

    log = EventLog(tmp_path / "events.jsonl", fsync=False)
    assert attach_live(log, Config().telemetry) is None
    log.close()
