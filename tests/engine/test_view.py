"""The live view: a rich dashboard on a terminal (run under a pty), plain lines otherwise."""

from __future__ import annotations

import io
import os
import pty
import subprocess
from pathlib import Path

from engine_helpers import PY, ROOT, make_repo, script_agent

from specflow.observe.live import PlainView


def test_plain_view_lines() -> None:
    out = io.StringIO()
    view = PlainView(out)
    view({"t": 0, "kind": "task_started", "task": "T001", "slot": 1})
    view({"t": 0, "kind": "task_blocked", "task": "T002", "by": "T001"})
    view({"t": 0, "kind": "agent_step", "task": "T001"})  # too chatty for plain output
    lines = out.getvalue().splitlines()
    assert [ln.split(" ", 1)[1] for ln in lines] == [
        "T001 started in slot 1",
        "T002 blocked by T001",
    ]


def test_dashboard_on_a_terminal(tmp_path: Path) -> None:
    tasks = "# Tasks\n\n- [ ] T001 [P] One\n- [ ] T002 [P] Two\n"
    repo = make_repo(tmp_path, tasks, {"README.md": "x\n"})
    agent = script_agent(tmp_path, {"default": {"sleep": 0.6, "append": {"{task}.txt": "x"}}})
    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm", "COLUMNS": "120"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [PY, "-m", "specflow", "implement", "-j", "2", "--agent", agent],
        cwd=repo,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    chunks: list[bytes] = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=60) == 0
    os.close(leader)
    screen = b"".join(chunks).decode(errors="replace")
    assert "elapsed" in screen and "T001" in screen and "2/2 merged" in screen
