"""Waiting for a command to exit (specflow/sandbox/waiting.py): on a pidfd where the kernel has
one, else by waitpid; either way the same answers."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from specflow.sandbox import waiting
from specflow.sandbox.waiting import wait_exit


@pytest.fixture(params=["pidfd", "waitpid"])
def way(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "waitpid":
        monkeypatch.setattr(waiting, "_pidfd", lambda pid: None)
    elif waiting._pidfd(os.getpid()) is None:
        pytest.skip("no pidfd on this kernel")
    return str(request.param)


def spawn(code: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", code])


def test_an_exit_is_reaped_with_its_code_and_cpu(way: str) -> None:
    proc = spawn("import sys\nx = sum(range(3_000_000))\nsys.exit(3)")
    why, cpu = wait_exit(proc, time.monotonic() + 30, threading.Event())
    assert why is None and proc.returncode == 3 and cpu > 0
    with pytest.raises(ChildProcessError):  # reaped: nothing left to wait for
        os.waitpid(proc.pid, os.WNOHANG)


def test_a_time_limit_and_a_cancel_leave_the_process_to_the_caller(way: str) -> None:
    proc = spawn("import time; time.sleep(30)")
    try:
        assert wait_exit(proc, time.monotonic() + 0.2, None) == ("timeout", 0.0)
        assert proc.poll() is None
        cancel = threading.Event()
        threading.Timer(0.2, cancel.set).start()
        assert wait_exit(proc, None, cancel) == ("cancelled", 0.0)
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()


def test_the_pidfd_wait_sleeps_in_the_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a pidfd the waiting thread wakes once per TICK, not every few milliseconds."""
    if waiting._pidfd(os.getpid()) is None:
        pytest.skip("no pidfd on this kernel")
    calls = 0
    real = waiting._reap

    def counting(proc: subprocess.Popen[bytes]) -> float | None:
        nonlocal calls
        calls += 1
        return real(proc)

    monkeypatch.setattr(waiting, "_reap", counting)
    proc = spawn("import time; time.sleep(0.5)")
    start = time.monotonic()
    assert wait_exit(proc, None, threading.Event())[0] is None
    waited = time.monotonic() - start
    assert calls <= waited / waiting.TICK + 3  # Popen.wait(timeout) looks ~140 times a second
