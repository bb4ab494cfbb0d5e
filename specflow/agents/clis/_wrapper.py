"""Runs in a tmux pane (`specflow implement --tmux`): starts the agent CLI, shows its output in
the pane and appends it to the run's log, then writes the exit code to a status file.

Standalone (stdlib only, started by file path) so it works whatever the tmux server's
environment. The spec file it reads holds the agent's environment; it is 0600 and deleted on read.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from typing import Any


def _stop(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _ignore(signum: int, frame: Any) -> None:
    return None  # Ctrl-C in the pane goes to the agent too; the wrapper keeps collecting


def main(spec_path: str, run_id: str) -> int:
    if os.environ.get("SPECFLOW_RUN_ID") != run_id:
        # The pane's pid must carry the run id in its environment (how a later run recognises
        # an orphaned agent); `tmux new-session -e` needs tmux 3.2, so set it here.
        env = {**os.environ, "SPECFLOW_RUN_ID": run_id}
        os.execve(sys.executable, [sys.executable, __file__, spec_path, run_id], env)
    with open(spec_path, encoding="utf-8") as fh:
        spec = json.load(fh)
    os.unlink(spec_path)
    env = dict(spec["env"])
    for key in ("TMUX", "TMUX_PANE", "TERM"):
        if key in os.environ:
            env[key] = os.environ[key]
    status = spec["status"]
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGHUP, _stop)
    signal.signal(signal.SIGINT, _ignore)
    out = sys.stdout.buffer
    out.write(f"specflow: {spec.get('title', '')}\n".encode())
    out.flush()
    code = 255
    proc: subprocess.Popen[bytes] | None = None
    try:
        with open(spec["log"], "ab") as log:
            stdin: Any = open(spec["stdin"], "rb") if spec.get("stdin") else subprocess.DEVNULL  # noqa: SIM115
            try:
                proc = subprocess.Popen(
                    spec["argv"],
                    cwd=spec["cwd"],
                    env=env,
                    stdin=stdin,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                )
            except OSError as exc:
                log.write(f"cannot start {spec['argv'][0]}: {exc}\n".encode())
                return _finish(status, 127)
            pipe: Any = proc.stdout
            for chunk in iter(lambda: pipe.read1(65536), b""):
                log.write(chunk)
                log.flush()
                out.write(chunk)
                out.flush()
            code = proc.wait()
    except SystemExit as exc:
        code = int(exc.code or 1)
        if proc is not None and proc.poll() is None:
            proc.kill()
    return _finish(status, code)


def _finish(status: str, code: int) -> int:
    tmp = status + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(f"{code}\n")
    os.replace(tmp, status)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
