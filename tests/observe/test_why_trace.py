"""`specflow why` and `specflow trace` on a run where one task fails its check."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli


def test_why_names_the_failed_check_and_its_output(failing_run: Path) -> None:
    res = run_cli(["why", "T002"], failing_run)
    assert res.code == 0, res.stderr
    out = res.stdout
    assert "T002 failed in run" in out and "after 2 attempts" in out
    assert "`python3 check_add.py` exited with code 1" in out
    assert "add(1, 2) returned -1, expected 3" in out


def test_why_follows_blocked_chain_to_the_root_cause(failing_run: Path) -> None:
    res = run_cli(["why", "t004", "--json"], failing_run)
    assert res.code == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["status"] == "blocked" and data["root_cause"] == "T002"
    text = "\n".join(data["explanation"])
    assert "T004 is blocked by T003, which is blocked by T002" in text
    assert "returned -1, expected 3" in text


def test_why_merged_task_names_run_and_commit(failing_run: Path) -> None:
    res = run_cli(["why", "T005"], failing_run)
    assert res.code == 0 and "T005 merged in run" in res.stdout and "as commit" in res.stdout


def test_why_unknown_task_is_bad_input(failing_run: Path) -> None:
    res = run_cli(["why", "T999"], failing_run)
    assert res.code == 2 and "T999" in res.stderr


def test_trace_task_shows_attempts_failing_output_and_diff(failing_run: Path) -> None:
    res = run_cli(["trace", "last", "T002"], failing_run)
    assert res.code == 0, res.stderr
    out = res.stdout
    assert "attempt 1: agent cmd:" in out and "attempt 2: agent cmd:" in out
    assert out.count("verify python3 check_add.py -> FAILED") == 2
    assert "| add(1, 2) returned -1, expected 3" in out
    assert "why:" in out
    assert "diff (task branch (attempt 2, not merged))" in out
    assert "+    return a - b" in out


def test_trace_json_has_the_same_structure(failing_run: Path) -> None:
    res = run_cli(["trace", "--json"], failing_run)
    assert res.code == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["status"] == "failed"
    tasks = {t["id"]: t for t in data["tasks"]}
    assert list(tasks) == ["T001", "T002", "T005", "T003", "T004"]  # the graph's order
    t2 = tasks["T002"]
    assert t2["status"] == "failed" and t2["depends"] == ["T001"]
    assert [a["n"] for a in t2["attempts"]] == [1, 2]
    first = t2["attempts"][0]
    assert first["verifies"][0]["ok"] is False and "expected 3" in first["verifies"][0]["output"]
    assert first["commit"] and t2["attempts"][1]["base"] == first["commit"]
    assert tasks["T003"]["blocked_by"] == "T002" and tasks["T003"]["attempts"] == []
    assert "calc.py" in t2["diff"]
    assert tasks["T001"]["commit"] and "t001.txt" in tasks["T001"]["diff"]


def test_trace_accepts_a_task_alone(failing_run: Path) -> None:
    res = run_cli(["trace", "T005"], failing_run)
    assert res.code == 0 and "T005  MERGED" in res.stdout and "T002" not in res.stdout


def test_why_for_tasks_of_an_interrupted_run(tmp_path: Path) -> None:
    from specflow.domain.tasks import TaskGraph
    from specflow.formats import parse_artifact
    from specflow.observe.trace import load_trace
    from specflow.observe.why import explain_in
    from specflow.runs.events import EventLog
    from tests.observe.conftest import TASKS

    log = EventLog(tmp_path / "runs" / "r1" / "events.jsonl", fsync=False)
    log.emit(
        "run_started", run="r1", feature="001-calc", selected=["T001", "T002", "T005"], done=[]
    )
    log.emit("task_started", task="T001", slot=1, base="abc")
    log.emit("agent_started", task="T001", attempt=1, agent="cmd:x")
    log.emit(
        "agent_step", task="T001", attempt=1, step=1, tool="run", args="{}", result="", ok=True
    )
    log.emit("run_interrupted", run="r1")
    log.close()
    graph = TaskGraph(parse_artifact("tasks", TASKS))
    trace = load_trace(tmp_path, "r1", graph)
    assert trace.status == "interrupted"
    running = explain_in(trace, "T001", graph)
    assert "T001 was running (attempt 1, 1 steps) when run r1 was interrupted" in running.lines[0]
    waiting = explain_in(trace, "T002", graph)
    assert waiting.lines[0] == "T002 waits for T001 (running) in run r1."
    assert "specflow implement --resume" in waiting.lines[-1]
    assert "not selected" in explain_in(trace, "T003", graph).lines[0]


def test_trace_redacts_what_the_agent_printed(failing_run: Path) -> None:
    from tests.observe.conftest import SECRET

    text = run_cli(["trace", "last", "T002"], failing_run)
    data = run_cli(["trace", "--json"], failing_run)
    assert text.code == 0 and data.code == 0
    assert "token in my environment: [REDACTED]" in text.stdout
    assert SECRET not in text.stdout and SECRET not in data.stdout


def test_why_names_an_agent_stopped_for_looping(tmp_path: Path) -> None:
    from specflow.observe.trace import load_trace
    from specflow.observe.trace_text import render_trace
    from specflow.observe.why import explain_in
    from specflow.runs.events import EventLog

    loop = "loop: repeated run `pytest -q` failing 3 times with no file change in between"
    log = EventLog(tmp_path / "runs" / "r2" / "events.jsonl", fsync=False)
    log.emit("run_started", run="r2", feature="001-calc", agent="builtin", parallel=1)
    log.emit("task_started", task="T001", slot=1, base="abc")
    log.emit("agent_started", task="T001", attempt=1, agent="builtin")
    for step in (1, 2, 3):
        log.emit(
            "agent_step",
            task="T001",
            attempt=1,
            step=step,
            tool="run",
            args='{"command": ["pytest", "-q"]}',
            result="[exit code 1]",
            ok=False,
        )
    log.emit("agent_finished", task="T001", attempt=1, ok=False, reason=loop, steps=3, usage={})
    log.emit("task_failed", task="T001", reason=f"agent failed: {loop}")
    log.emit("run_finished", run="r2", merged=0, failed=1, blocked=0)
    log.close()
    trace = load_trace(tmp_path, "r2")
    why = explain_in(trace, "T001")
    assert why.lines[1] == f"  agent: stopped for looping ({loop})"
    assert why.lines[-1].startswith("    step 3: run") and why.lines[-1].endswith("-> FAILED")
    text = "\n".join(render_trace(trace, {}, "T001", full=True))
    assert f"-> FAILED: {loop}" in text and "step 3: run command=" in text


def test_no_secret_anywhere_under_specflow_or_specs(failing_run: Path) -> None:
    """The agent printed an API key from its environment; nothing on disk keeps it."""
    from tests.observe.conftest import SECRET

    leaks = []
    for folder in (failing_run / ".specflow", failing_run / "specs"):
        for path in folder.rglob("*"):
            if path.is_file() and SECRET.encode() in path.read_bytes():
                leaks.append(str(path.relative_to(failing_run)))
    assert leaks == []
