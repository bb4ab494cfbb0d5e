"""The CLI adapters' output parsing and run loop, on recorded output shapes and the fakes."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from specflow.agents.base import AgentTask, Limits
from specflow.agents.clis.aider import AiderParser, _count
from specflow.agents.clis.base import MAX_ARG_BYTES, Parser, Report
from specflow.agents.clis.claude import ClaudeAgent, ClaudeParser
from specflow.agents.clis.codex import CodexParser
from specflow.agents.clis.gemini import GeminiParser
from specflow.domain.tasks import Task
from tests.agents.test_clis import FAKES

Seen = list[tuple[str, dict[str, Any]]]


def parse(parser_cls: type[Parser], lines: list[str]) -> tuple[Report, Seen]:
    seen: Seen = []
    parser = parser_cls(lambda kind, **data: seen.append((kind, data)))
    for line in lines:
        parser.feed(line)
    return parser.finish("\n".join(lines)), seen


def test_claude_turn_limit_is_a_failure_with_its_usage() -> None:
    result = {
        "type": "result",
        "subtype": "error_max_turns",
        "is_error": False,
        "num_turns": 40,
        "total_cost_usd": 1.5,
        "usage": {"input_tokens": 10, "cache_read_input_tokens": 90, "output_tokens": 7},
    }
    report, _ = parse(ClaudeParser, ["not json", json.dumps(result)])
    assert report.valid and report.done
    assert report.error == "stopped at the turn limit after 40 turns (--max-turns)"
    assert (report.usage.prompt_tokens, report.usage.completion_tokens) == (100, 7)
    assert report.usage.cost_usd == 1.5 and report.first_bad == "not json"


def test_codex_error_then_completed_turn_is_a_success() -> None:
    lines = [
        {"type": "thread.started", "thread_id": "t"},
        {"type": "error", "message": "Reconnecting... 1/5"},
        {
            "type": "item.completed",
            "item": {
                "type": "file_change",
                "status": "completed",
                "changes": [{"path": "a.py", "kind": "add"}],
            },
        },
        {"type": "item.completed", "item": {"type": "agent_message", "text": "done"}},
        {"type": "turn.completed", "usage": {"input_tokens": 5, "output_tokens": 2}},
    ]
    report, seen = parse(CodexParser, [json.dumps(x) for x in lines])
    assert report.done and report.error is None and report.text == "done"
    assert report.usage.prompt_tokens == 5 and report.turns == 1
    assert [k for k, _ in seen] == ["agent_step"] and seen[0][1]["args"] == "add a.py"


def test_gemini_json_is_found_among_stderr_lines() -> None:
    doc = {
        "response": "ok",
        "stats": {
            "models": {
                "g": {"api": {"totalRequests": 3}, "tokens": {"prompt": 9, "candidates": 4}}
            },
            "tools": {"totalCalls": 2, "byName": {}},
        },
    }
    text = "Loaded cached credentials.\n" + json.dumps(doc, indent=2) + "\nbye {not json"
    report, _ = parse(GeminiParser, text.splitlines())
    assert report.done and report.text == "ok" and report.model == "g"
    assert (report.usage.prompt_tokens, report.usage.completion_tokens, report.turns) == (9, 4, 3)
    assert report.steps == 2


def test_aider_reports_are_summed_and_transient_errors_forgiven() -> None:
    lines = [
        "Aider v0.86.1",
        "Main model: anthropic/claude-sonnet-4 with diff edit format, infinite output",
        "litellm.APIConnectionError: connection reset; retrying in 0.2 seconds",
        "Applied edit to src/a.py",
        "Tokens: 12k sent, 3.1k cache hit, 950 received. Cost: $0.05 message, $0.05 session.",
        "Tokens: 1.2M sent, 2.5k received. Cost: $3.10 message, $3.15 session.",
    ]
    report, seen = parse(AiderParser, lines)
    assert report.done and report.error is None and report.turns == 2
    assert report.usage.prompt_tokens == 1_212_000 and report.usage.completion_tokens == 3450
    assert report.usage.cost_usd == 3.15 and report.model == "anthropic/claude-sonnet-4"
    assert seen[0][1]["args"] == "src/a.py"
    assert [_count(v) for v in ("950", "2.1k", "12k", "1.5M")] == [950, 2100, 12000, 1_500_000]


def _ignore(kind: str, **data: Any) -> None:
    return None


def _job(tmp_path: Path, brief: str, **kw: Any) -> AgentTask:
    wt = tmp_path / "wt"
    wt.mkdir(exist_ok=True)
    path = tmp_path / "run" / "briefs" / "T001.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(brief)
    return AgentTask(
        run_id="r1",
        feature="001-x",
        task=Task(id="T001", title="x"),
        worktree=wt,
        brief_path=path,
        brief=brief,
        **kw,
    )


def test_a_brief_too_long_for_argv_goes_on_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{FAKES}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_LOG", str(tmp_path / "calls.jsonl"))
    brief = "# Task T001: x\n\nFiles: `big.md`.\n" + "word " * (MAX_ARG_BYTES // 4)
    agent = ClaudeAgent(log_dir=tmp_path / "logs")
    res = agent.run(_job(tmp_path, brief), _ignore, threading.Event())
    assert res.ok, res.reason
    call = json.loads((tmp_path / "calls.jsonl").read_text())
    assert call["prompt"] == brief and brief not in call["argv"]
    assert (tmp_path / "wt" / "big.md").exists()
    assert (tmp_path / "logs" / "T001" / "agent-1.log").exists()


def test_cancel_stops_a_cli_agent_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{FAKES}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_MODE", "hang")
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    start = time.monotonic()
    res = ClaudeAgent().run(
        _job(tmp_path, "# Task T001: x\n", limits=Limits(max_seconds=60)),
        _ignore,
        cancel,
    )
    assert res.reason == "cancelled" and time.monotonic() - start < 5
