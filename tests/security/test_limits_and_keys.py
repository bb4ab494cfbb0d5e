"""Runaways end with a clear cause; checks run confined; keys reach neither the model nor the
disk, even when specflow is killed with -9 mid-run; `cmd:` agents confined on request."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from specflow.agents.base import AgentTask, Limits
from specflow.agents.builtin.loop import BuiltinAgent
from specflow.config import SandboxSection
from specflow.domain.tasks import Task
from specflow.llm.base import Completion, ToolCall, Usage
from specflow.llm.recorded import ScriptedModel
from specflow.sandbox import cgroup, resolve
from specflow.sandbox.core import bwrap_works, landlock_abi
from tests.security.harness import (
    CUSTOM,
    CUSTOM_NAME,
    KEY,
    KEY_NAME,
    PY,
    ROOT,
    alive,
    call,
    make_attack,
    record,
    remove,
    run,
    sh,
)

pytestmark = pytest.mark.skipif(
    bwrap_works() is not None and landlock_abi() < 2, reason="no confinement on this machine"
)
FORK_BOMB = "import os\nwhile True:\n    os.fork()\n"


@pytest.mark.skipif(
    os.geteuid() == 0 and "pids" not in {h.controller for h in cgroup.available()},
    reason="as root only a pids cgroup holds a fork bomb, and none can be made here",
)
def test_fork_bombs_and_huge_files_end_with_a_cause(tmp_path: Path) -> None:
    toml = "[sandbox]\nmax_processes = 64\nmax_file_mb = 5\nmemory_mb = 256\n"
    attack = make_attack(
        tmp_path,
        {"T001": [], "T002": []},
        toml=toml,
        verify={"T002": f"{Path(PY).name} bomb.py"},
    )
    try:
        steps = {
            "T001": [
                run(PY, "-c", FORK_BOMB, timeout=30),
                sh("head -c 50000000 /dev/zero > big.bin", timeout=30),
                run(PY, "-c", "x = bytearray(1 << 30)", timeout=30),
                call("write_file", path="T001.txt", content="1"),
            ],
            # a check that forks without end: verify is confined as well
            "T002": [call("write_file", path="bomb.py", content=FORK_BOMB)],
        }
        record(attack, steps)
        t0 = time.monotonic()
        p = attack.implement("-j", "2", "--agent", "builtin", timeout=120)
        assert time.monotonic() - t0 < 60
        results = [e["result"] for e in attack.events() if e["kind"] == "agent_step"]
        assert any("process limit (64 processes) reached" in r for r in results), results
        assert any("file size limit (5 MB) reached" in r for r in results), results
        assert any("memory limit (256 MB)" in r or "MemoryError" in r for r in results), results
        assert "T001" in attack.merged()
        failed = attack.failed()
        assert failed["T002"]["cause"] == "verify"
        assert "process limit" in failed["T002"]["reason"], failed["T002"]
        assert p.returncode == 1
    finally:
        remove(attack)


def test_checks_run_confined_without_keys(tmp_path: Path) -> None:
    check = (
        "import os, pathlib, sys\n"
        f"for p in ['{tmp_path}/PWNED-check', '/tmp/PWNED-check-{os.getpid()}']:\n"
        "    try:\n        pathlib.Path(p).write_text('x')\n    except OSError as e:\n"
        "        print('refused', e)\n"
        "print(sorted(os.environ))\n"
        "for pid in os.listdir('/proc'):\n"
        "    try:\n        print(open(f'/proc/{pid}/environ').read())\n"
        "    except (OSError, ValueError):\n        pass\n"
    )
    attack = make_attack(tmp_path, {"T001": []}, verify={"T001": f"{Path(PY).name} check.py"})
    try:
        record(attack, {"T001": [call("write_file", path="check.py", content=check)]})
        p = attack.implement("--agent", "builtin")
        assert p.returncode == 0, p.stderr[-2000:]
        assert not (tmp_path / "PWNED-check").exists()
        assert not Path(f"/tmp/PWNED-check-{os.getpid()}").exists()
        logs = list(attack.state.glob("runs/*/tasks/T001/verify-*.log")) or list(
            attack.state.glob("runs/**/*verify*")
        )
        text = "".join(f.read_text() for f in logs if f.is_file())
        # The check ran (its output is there), wrote only into its private /tmp, saw no key.
        assert "PAGER" in text and KEY_NAME not in text and CUSTOM_NAME not in text
        assert attack.leaked() == []
    finally:
        remove(attack)


def test_tool_results_are_redacted_before_the_model_sees_them(tmp_path: Path) -> None:
    wt = tmp_path / "wt"
    wt.mkdir()
    (wt / ".env").write_text(f"{KEY_NAME}={KEY}\nDATABASE_URL=postgres://app:s3cretpw9@db/app\n")
    calls = [
        ToolCall(id="1", name="read_file", arguments={"path": ".env"}),
        ToolCall(id="2", name="run", arguments={"command": ["cat", ".env"]}),
        ToolCall(id="3", name="run", arguments={"command": ["sh", "-c", "cat /proc/*/environ"]}),
        ToolCall(id="4", name="run", arguments={"command": ["env"]}),
    ]
    replies: list[Completion | Exception | str] = [
        Completion(content=None, tool_calls=[c], usage=Usage(calls=1)) for c in calls
    ]
    replies.append(
        Completion(
            content=None,
            tool_calls=[ToolCall(id="9", name="finish", arguments={"summary": "x"})],
            usage=Usage(calls=1),
        )
    )
    model = ScriptedModel(replies)
    environ = {**os.environ, KEY_NAME: KEY, CUSTOM_NAME: CUSTOM}
    old = {k: os.environ.get(k) for k in (KEY_NAME, CUSTOM_NAME)}
    os.environ.update({KEY_NAME: KEY, CUSTOM_NAME: CUSTOM})  # specflow's own environment
    try:
        agent = BuiltinAgent(
            lambda name: model,
            environ=environ,
            log_dir=tmp_path / "logs",
            confinement=resolve(SandboxSection()),
        )
        job = AgentTask(
            run_id="r",
            feature="f",
            task=Task(id="T001", title="t"),
            worktree=wt,
            brief_path=tmp_path / "brief.md",
            brief="# do it",
            attempt=1,
            limits=Limits(max_steps=10, max_seconds=60),
        )
        result = agent.run(job, lambda kind, **data: None, threading.Event())
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert result.ok, result.reason
    sent = json.dumps([c["messages"] for c in model.calls])
    assert KEY not in sent and CUSTOM not in sent and "s3cretpw9" not in sent
    assert "[REDACTED]" in sent  # the file was read; its secrets were not passed on
    on_disk = b"".join(p.read_bytes() for p in (tmp_path / "logs").rglob("*") if p.is_file())
    assert KEY.encode() not in on_disk and b"s3cretpw9" not in on_disk


def test_kill_9_mid_run_leaves_no_key_in_clear(tmp_path: Path) -> None:
    attack = make_attack(tmp_path, {"T001": []}, files={"notes.txt": f"token: {KEY}\n"})
    try:
        steps = {
            "T001": [
                run("cat", "notes.txt"),
                call("read_file", path="notes.txt"),
                sh(f"echo {CUSTOM_NAME}=$({CUSTOM_NAME}) {KEY}; sleep 60", timeout=90),
            ]
        }
        record(attack, steps)
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            KEY_NAME: KEY,
            CUSTOM_NAME: CUSTOM,
        }
        proc = subprocess.Popen(
            [PY, "-m", "specflow", "implement", "001-sec", "--agent", "builtin"],
            cwd=attack.repo,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            steps_seen = [e for e in attack.events() if e["kind"] == "agent_step"]
            if len(steps_seen) >= 2:
                break
            time.sleep(0.1)
        time.sleep(0.5)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert len(steps_seen) >= 2
        assert attack.leaked() == []
        time.sleep(0.5)  # bwrap dies with its parent
        assert alive("sleep 60") == [] or all("PWNED" not in a for a in alive("sleep 60"))
    finally:
        remove(attack)


CMD_AGENT = r"""
import os, pathlib, socket, subprocess, sys
out = sys.argv[1]
tag = sys.argv[2]
def attempt(f):
    try:
        f()
    except Exception as e:
        print("refused:", type(e).__name__, e)
attempt(lambda: pathlib.Path(out, tag + "-write").write_text("x"))
attempt(lambda: pathlib.Path("/tmp", tag + "-tmp").write_text("x"))
for pid in os.listdir("/proc"):
    try:
        print(open(f"/proc/{pid}/environ").read())
    except (OSError, ValueError):
        pass
print("ENV", sorted(os.environ))
attempt(lambda: socket.create_connection(("127.0.0.1", int(sys.argv[3])), timeout=2))
subprocess.Popen(["setsid", "sh", "-c", "sleep 30", tag + "-loop"],
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
pathlib.Path("T001.txt").write_text("done\n")
"""


def test_cmd_agents_are_confined_when_asked(tmp_path: Path) -> None:
    from tests.security.test_escape import Listener

    lst = Listener()
    attack = make_attack(tmp_path, {"T001": []}, toml="[sandbox]\ncmd_agents = true\n")
    try:
        script = attack.repo / "agent.py"  # next to the checkout (visible read-only inside)
        script.write_text(CMD_AGENT)
        tag = f"PWNED-{attack.tag}"
        agent = f"cmd:{sys.executable} {script} {attack.outside} {tag} {lst.port}"
        p = attack.implement("--agent", agent)
        assert p.returncode == 0, p.stderr[-2000:]
        assert attack.merged() == ["T001"]
        assert attack.marker_hits() == []
        assert lst.got == []
        assert alive(f"{tag}-loop") == []
        log = "".join(f.read_text() for f in attack.state.rglob("agent-*.log"))
        assert "refused" in log and KEY not in log and KEY_NAME not in log
        assert attack.leaked() == []
    finally:
        lst.close()
        remove(attack)


def test_command_output_reaches_its_log_redacted_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from specflow.sandbox.output import RedactedLog

    monkeypatch.setenv(KEY_NAME, KEY)
    log_path = tmp_path / "agent.log"
    with open(log_path, "ab") as log:
        out = RedactedLog(log)
        script = f"echo start; echo {KEY}; echo ghp_{'a' * 36}; sleep 30"
        proc = subprocess.Popen(["sh", "-c", script], stdout=out.fd, stderr=subprocess.STDOUT)
        out.started()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and log_path.read_text().count("\n") < 3:
            time.sleep(0.05)
        text = log_path.read_text()  # mid-run, as a kill -9 would leave it
        proc.kill()
        proc.wait()
        out.close()
    assert text.count("[REDACTED]") == 2 and KEY not in text and "start" in text


def test_unconfined_cmd_agents_leave_no_process_behind(tmp_path: Path) -> None:
    attack = make_attack(tmp_path, {"T001": []})
    try:
        tag = f"PWNED-{attack.tag}-daemon"
        script = attack.repo / "agent.py"
        script.write_text(
            "import pathlib, subprocess\n"
            f"subprocess.Popen(['setsid', 'sh', '-c', 'sleep 30', '{tag}'],\n"
            "                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
            "pathlib.Path('T001.txt').write_text('done')\n"
        )
        p = attack.implement("--agent", f"cmd:{sys.executable} {script}")
        assert p.returncode == 0, p.stderr[-2000:]
        assert alive(tag) == []
    finally:
        remove(attack)


def test_trace_and_report_later_redact_by_pattern(tmp_path: Path) -> None:
    """A token in a run's files (a log from before redaction-as-written, a verify log a test
    printed into) shows in neither `trace` nor `report -o` run later without the key set."""
    attack = make_attack(tmp_path, {"T001": [call("write_file", path="T001.txt", content="1")]})
    try:
        p = attack.implement("--agent", "builtin")
        assert p.returncode == 0, p.stderr[-2000:]
        token = "acme" + "9f8d7c6b5a4e3d2c1b"
        github = "ghp_" + "Z" * 36
        events = next(attack.state.glob("runs/*/events.jsonl"))
        with events.open("a") as fh:  # as an older version, or a crash mid-write, left it
            step = {"t": 0, "kind": "agent_step", "task": "T001", "attempt": 1, "step": 9}
            step |= {"tool": "run", "args": "", "ok": True}
            step["result"] = f"ACME_DEPLOY_TOKEN={token}\nGH={github}\n"
            fh.write(json.dumps(step) + "\n")
        for log in attack.state.glob("runs/*/tasks/T001/agent-*.log"):
            with log.open("a") as fh:
                fh.write(f"deploy_token: {token}\n{github}\n")
        env = {k: v for k, v in os.environ.items() if k not in (KEY_NAME, CUSTOM_NAME)}
        env["PYTHONPATH"] = str(ROOT)
        out = attack.base / "report.html"
        texts = []
        for args in (["trace", "last", "T001", "--full"], ["log", "--task", "T001"]):
            r = subprocess.run(
                [PY, "-m", "specflow", *args],
                cwd=attack.repo,
                env=env,
                capture_output=True,
                text=True,
            )
            texts.append(r.stdout + r.stderr)
        r = subprocess.run(
            [PY, "-m", "specflow", "report", "-o", str(out)],
            cwd=attack.repo,
            env=env,
            capture_output=True,
            text=True,
        )
        assert r.returncode == 0, r.stderr
        texts.append(out.read_text())
        for text in texts:
            assert token not in text and github not in text
        assert any("[REDACTED]" in t for t in texts)
    finally:
        remove(attack)


def test_unconfined_checks_leave_no_process_behind(tmp_path: Path) -> None:
    """`[sandbox] mode = "off"`: a check (the agent's test code) that starts a daemon in a
    session of its own does not outlive the check, as with the sandbox on."""
    from specflow.config import SandboxSection
    from specflow.engine.verify import run_checks
    from specflow.sandbox import resolve

    tag = f"PWNED-{tmp_path.name}-check-daemon"
    script = tmp_path / "check.py"
    script.write_text(
        "import subprocess\n"
        f"subprocess.Popen(['setsid', 'sh', '-c', 'sleep 30', '{tag}'],\n"
        "                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    )
    conf = resolve(SandboxSection(mode="off"))
    res = run_checks(
        [f"{sys.executable} {script}"],
        tmp_path,
        timeout=30,
        log_path=tmp_path / "verify.log",
        cancel=threading.Event(),
        confinement=conf,
    )
    assert res.ok, res.output
    assert alive(tag) == []
