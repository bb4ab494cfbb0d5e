from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import pytest

from specflow.agents.base import AgentTask, Limits
from specflow.agents.cmd import CmdAgent
from specflow.agents.registry import AgentOptions, resolve_agent
from specflow.config import Config
from specflow.domain.tasks import Task

PY = sys.executable


def job(tmp_path: Path, **kw: object) -> AgentTask:
    wt = tmp_path / "wt"
    wt.mkdir(exist_ok=True)
    brief = tmp_path / "run" / "briefs" / "T003.md"
    brief.parent.mkdir(parents=True, exist_ok=True)
    brief.write_text("# Task T003: do $(touch pwned) `rm -rf /`\n")
    base = dict(
        run_id="r1",
        feature="003-x",
        task=Task(id="T003", title="do $(touch pwned)"),
        worktree=wt,
        brief_path=brief,
        brief=brief.read_text(),
    )
    base.update(kw)
    return AgentTask(**base)  # type: ignore[arg-type]


def events() -> tuple[list[tuple[str, dict[str, object]]], object]:
    seen: list[tuple[str, dict[str, object]]] = []
    return seen, lambda kind, **data: seen.append((kind, data))


def test_env_cwd_and_no_shell(tmp_path: Path) -> None:
    code = (
        "import os, json, pathlib; pathlib.Path('out.json').write_text(json.dumps("
        "{k: v for k, v in os.environ.items() if k.startswith('SPECFLOW_')} | {'cwd': os.getcwd()}))"
    )
    agent = CmdAgent(f"{PY} -c {code!r}", log_dir=tmp_path / "logs")
    j = job(tmp_path, attempt=2, feedback="tests failed")
    seen, emit = events()
    res = agent.run(j, emit, threading.Event())  # type: ignore[arg-type]
    assert res.ok, res.reason
    import json

    env = json.loads((j.worktree / "out.json").read_text())
    assert env["SPECFLOW_TASK_ID"] == "T003" and env["SPECFLOW_FEATURE"] == "003-x"
    assert env["SPECFLOW_WORKTREE"] == str(j.worktree) and env["cwd"] == str(j.worktree)
    assert env["SPECFLOW_ATTEMPT"] == "2"
    assert Path(env["SPECFLOW_FEEDBACK_FILE"]).read_text() == "tests failed"
    assert Path(env["SPECFLOW_TASK_FILE"]) == j.brief_path
    assert not (j.worktree / "pwned").exists() and not (tmp_path / "pwned").exists()
    assert seen[0][0] == "agent_process"
    assert (tmp_path / "logs" / "T003" / "agent-2.log").exists()


def test_exit_code_is_failure(tmp_path: Path) -> None:
    agent = CmdAgent(f"{PY} -c 'import sys; print(\"nope\"); sys.exit(3)'")
    _, emit = events()
    res = agent.run(job(tmp_path), emit, threading.Event())  # type: ignore[arg-type]
    assert not res.ok and res.reason == "exit code 3" and "nope" in res.summary


def test_time_limit_kills_the_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    code = (
        "import subprocess, sys, time;"
        f"p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
        f"open({str(pidfile)!r}, 'w').write(str(p.pid)); time.sleep(60)"
    )
    agent = CmdAgent(f"{PY} -c {code!r}")
    _, emit = events()
    start = time.monotonic()
    res = agent.run(job(tmp_path, limits=Limits(max_seconds=0.5)), emit, threading.Event())  # type: ignore[arg-type]
    assert not res.ok and "time limit" in (res.reason or "")
    assert time.monotonic() - start < 5
    child = int(pidfile.read_text())
    time.sleep(0.1)
    assert (
        not Path(f"/proc/{child}").exists()
        or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2]
    )


def test_cancel_stops_the_agent(tmp_path: Path) -> None:
    agent = CmdAgent(f"{PY} -c 'import time; time.sleep(60)'")
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    _, emit = events()
    start = time.monotonic()
    res = agent.run(job(tmp_path), emit, cancel)  # type: ignore[arg-type]
    assert res.reason == "cancelled" and time.monotonic() - start < 5


def test_registry_resolves_cmd_and_rejects_unknown(tmp_path: Path) -> None:
    opts = AgentOptions(config=Config())
    agent = resolve_agent("cmd:echo hi", opts)
    assert isinstance(agent, CmdAgent) and agent.argv == ["echo", "hi"]
    import pytest

    from specflow.errors import InputError

    with pytest.raises(InputError, match="unknown agent"):
        resolve_agent("nope", opts)
    assert os.environ.get("SPECFLOW_TASK_ID") is None


def test_uncommitted_agent_script_is_found_from_the_invocation_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--agent 'cmd:python3 my_agent.py'` with my_agent.py next to the checkout but not
    committed: the worktree has no copy, so it is taken from where specflow was invoked."""
    from specflow.agents.cmd import CmdAgent

    here = tmp_path / "checkout"
    worktree = tmp_path / "wt"
    here.mkdir()
    worktree.mkdir()
    (here / "my_agent.py").write_text("print('hi')\n")
    (here / "run.sh").write_text("#!/bin/sh\n")
    (here / "data.txt").write_text("x")
    monkeypatch.chdir(here)
    agent = CmdAgent("python3 my_agent.py data.txt")
    assert agent.argv_for(worktree) == ["python3", str(here / "my_agent.py"), "data.txt"]
    assert CmdAgent("./run.sh").argv_for(worktree) == [str(here / "run.sh")]
    # a script the worktree has (committed) is the worktree's own copy
    (worktree / "my_agent.py").write_text("print('committed')\n")
    assert agent.argv_for(worktree) == ["python3", "my_agent.py", "data.txt"]
