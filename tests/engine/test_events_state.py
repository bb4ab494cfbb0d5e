from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from specflow.errors import LockHeld
from specflow.runs.events import EventLog, read_events
from specflow.runs.state import FeatureLock, live_agent_pids, new_run_id, rebuild


def test_events_are_appended_and_torn_lines_skipped(tmp_path: Path) -> None:
    path = tmp_path / "run" / "events.jsonl"
    log = EventLog(path)
    seen: list[str] = []
    log.subscribe(lambda ev: seen.append(ev["kind"]))
    log.emit("run_started", run="r", feature="001-x")
    log.emit("task_started", task="T001")
    log.close()
    with open(path, "ab") as fh:
        fh.write(b'{"kind": "task_merged", "ta')  # a crash mid-write
    kinds = [e["kind"] for e in read_events(path)]
    assert kinds == ["run_started", "task_started"] == seen


def test_rebuild_records(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "e.jsonl")
    log.emit("task_started", task="T001")
    log.emit("agent_started", task="T001", attempt=1)
    log.emit("agent_process", task="T001", attempt=1, pid=999999)
    log.emit(
        "agent_finished", task="T001", attempt=1, seconds=1.5, steps=3, usage={"cost_usd": 0.5}
    )
    log.emit("task_merged", task="T001", commit="abc")
    log.emit("task_started", task="T002")
    log.emit("agent_started", task="T002", attempt=1)
    log.emit("agent_process", task="T002", attempt=1, pid=4242)
    log.emit("task_blocked", task="T003", by="T002")
    log.close()
    recs = rebuild(tmp_path / "e.jsonl")
    assert recs["T001"].status == "merged" and recs["T001"].commit == "abc"
    assert recs["T001"].agent_seconds == 1.5 and recs["T001"].usage["cost_usd"] == 0.5
    assert recs["T002"].status == "running" and recs["T003"].blocked_by == "T002"
    assert live_agent_pids(tmp_path / "e.jsonl") == [4242]


def test_the_clock_is_passed_in(tmp_path: Path) -> None:
    ticks = iter([1000.0, 1002.5, 1010.25])
    log = EventLog(tmp_path / "e.jsonl", clock=lambda: next(ticks))
    log.emit("task_started", task="T001")
    log.emit("agent_started", task="T001", attempt=1)
    log.emit("task_merged", task="T001", commit="abc")
    log.close()
    assert [e["t"] for e in read_events(tmp_path / "e.jsonl")] == [1000.0, 1002.5, 1010.25]
    assert rebuild(tmp_path / "e.jsonl")["T001"].seconds == 10.25
    assert new_run_id(0.0).startswith("19700101-000000-")


def test_lock_refuses_second_holder_and_dies_with_process(tmp_path: Path) -> None:
    code = (
        "import sys, time; from pathlib import Path;"
        "from specflow.runs.state import FeatureLock;"
        "FeatureLock(Path(sys.argv[1]), '001-x').acquire('run-A');"
        "print('locked', flush=True); time.sleep(30)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        with pytest.raises(LockHeld) as err:
            FeatureLock(tmp_path, "001-x").acquire("run-B")
        assert "run-A" in err.value.message and str(proc.pid) in err.value.message
    finally:
        proc.kill()
        proc.wait()
    lock = FeatureLock(tmp_path, "001-x")
    lock.acquire("run-B")  # a dead holder's lock is free (kill -9 included)
    lock.release()
