"""A real local Ray cluster for the tests: a head and worker nodes on 127.0.0.1.

Each node is one `ray start --block` process in its own session (process group), with its own
node-local cache (`SPECFLOW_RAY_CACHE`), so the nodes share nothing but the git remote, as on a
real cluster. Teardown signals exactly those process groups (never `ray stop`, which would stop
every Ray on the machine), so clusters of parallel test runs or other people are left alone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

RAY_BIN = Path(sys.executable).with_name("ray")
if not RAY_BIN.exists():  # ray installed outside this interpreter's bin folder
    RAY_BIN = Path(shutil.which("ray") or "ray")
# Hermetic: no usage stats, no token file in ~/.ray, every port chosen here.
RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Node:
    name: str
    proc: subprocess.Popen[bytes]
    cache: Path
    log: Path


@dataclass
class LocalCluster:
    root: Path
    address: str = ""
    nodes: list[Node] = field(default_factory=list)

    def _start(self, name: str, args: list[str], agents: int) -> Node:
        cache = self.root / name / "cache"
        cache.mkdir(parents=True)
        log = self.root / name / "ray-start.log"
        ports = [
            "--node-manager-port", str(free_port()),
            "--object-manager-port", str(free_port()),
            "--dashboard-agent-listen-port", str(free_port()),
            "--dashboard-agent-grpc-port", str(free_port()),
            "--runtime-env-agent-port", str(free_port()),
            "--metrics-export-port", str(free_port()),
        ]  # fmt: skip
        lo = free_port()
        argv = [
            str(RAY_BIN), "start", "--block", *args, *ports,
            "--node-ip-address=127.0.0.1", "--num-cpus=1",
            *([f"--resources={{\"agent\": {agents}}}"] if agents else []),
            "--object-store-memory=100000000", "--disable-usage-stats",
            f"--min-worker-port={lo}", f"--max-worker-port={lo + 40}",
        ]  # fmt: skip
        env = {**os.environ, **RAY_ENV, "SPECFLOW_RAY_CACHE": str(cache)}
        with open(log, "wb") as fh:
            proc = subprocess.Popen(
                argv, stdout=fh, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        node = Node(name, proc, cache, log)
        self.nodes.append(node)
        return node

    def start(
        self, workers: int = 1, agents: int = 2, head_agents: int | None = None, timeout: float = 60
    ) -> None:
        head = agents if head_agents is None else head_agents
        port = free_port()
        self.address = f"127.0.0.1:{port}"
        head_args = [
            "--head", f"--port={port}", "--include-dashboard=false",
            f"--temp-dir={self.root / 'tmp'}",
        ]  # fmt: skip
        self._start("head", head_args, head)
        self.wait_for(head, timeout)
        for i in range(workers):  # one at a time: a loaded 2-core machine is slow to join
            for retry in range(2):
                node = self._start(f"worker{i + 1}-{retry}", [f"--address={self.address}"], agents)
                try:
                    self.wait_for(head + agents * (i + 1), timeout)
                    break
                except RuntimeError:
                    self.nodes.remove(node)
                    self.kill(node)
                    if retry:
                        raise

    def wait_for(self, agents: int, timeout: float) -> None:
        """Until the cluster offers `agents` slots (nodes registered)."""
        deadline = time.monotonic() + timeout
        probe = (
            f"import ray,logging;ray.init(address={self.address!r},logging_level=logging.ERROR);"
            "print(int(ray.cluster_resources().get('agent',0)))"
        )
        env = {**os.environ, **RAY_ENV}
        while time.monotonic() < deadline:
            for n in self.nodes:
                if n.proc.poll() is not None:
                    raise RuntimeError(f"{n.name} exited: {n.log.read_text()[-2000:]}")
            p = subprocess.run(
                [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=30
            )
            if p.returncode == 0 and p.stdout.strip().splitlines()[-1:] == [str(agents)]:
                return
            time.sleep(0.5)
        raise RuntimeError(f"cluster did not reach {agents} agent slots")

    def stop(self) -> None:
        for n in reversed(self.nodes):
            self.kill(n)
        self.nodes.clear()

    def kill(self, n: Node) -> None:
        """Kill a node: its `ray start` process group and every process it started (Ray
        workers run in sessions of their own), by pid."""
        import psutil

        pids = [n.proc.pid]
        with contextlib.suppress(psutil.Error):
            pids += [c.pid for c in psutil.Process(n.proc.pid).children(recursive=True)]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(n.proc.pid, signal.SIGKILL)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            n.proc.wait(timeout=10)

    def node_of(self, pid: int) -> Node | None:
        """The node whose processes include `pid` (an agent: child of a worker of a raylet)."""
        import psutil

        with contextlib.suppress(psutil.Error):
            ancestors = {p.pid for p in psutil.Process(pid).parents()}
            return next((n for n in self.nodes if n.proc.pid in ancestors), None)
        return None


def short_tmp() -> Path:
    """Ray's unix sockets live under --temp-dir: keep the path short (108-byte limit)."""
    return Path(tempfile.mkdtemp(prefix="sfray-", dir="/tmp"))
