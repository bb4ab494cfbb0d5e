"""Real local Ray clusters for the tests: a head and worker nodes, all on 127.0.0.1.

Each cluster lives under its own folder ROOT: its token in ROOT/home/.ray/auth_token (HOME is
ROOT/home, so this is Ray's default token file), its sessions under RAY_TMPDIR=ROOT/tmp. Every
process a cluster starts inherits that RAY_TMPDIR, which is how `processes` finds them all (Ray
workers run in sessions of their own and outlive their parents). Teardown kills exactly those,
by pid — never `ray stop`, which would stop every Ray on the machine — and `stop` reports any
that survived.

Authentication is Ray's default: a token exists (`ray get-auth-token --generate`), so the head
turns token authentication on by itself; worker nodes join with RAY_AUTH_MODE=token, as Ray
requires of every node of such a cluster. `auth="disabled"` starts a cluster without it.
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

import psutil

BIN = Path(sys.executable).parent
RAY_BIN = BIN / "ray"
if not RAY_BIN.exists():  # ray installed outside this interpreter's bin folder
    RAY_BIN = Path(shutil.which("ray") or "ray")
RAY_START = Path(__file__).with_name("ray_start.py")
# Ray on 127.0.0.1 only (see ray_start.py); no usage stats.
LOOPBACK_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}


def clean_env() -> dict[str, str]:
    """This process's environment without Ray settings a test or the user may have left."""
    drop = ("RAY_ADDRESS", "RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH")
    return {k: v for k, v in os.environ.items() if k not in drop}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ray_env(root: Path) -> dict[str, str]:
    """The environment of a cluster's nodes and of the drivers that use it."""
    return {**LOOPBACK_ENV, "HOME": str(root / "home"), "RAY_TMPDIR": str(root / "tmp")}


def wrapper_bin(root: Path) -> Path:
    """A folder whose `ray` is ray_start.py, for running documented `ray` commands as typed."""
    bin_dir = root / "bin"
    bin_dir.mkdir(exist_ok=True)
    ray = bin_dir / "ray"
    ray.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{RAY_START}" "$@"\n')
    ray.chmod(0o755)
    return bin_dir


def processes(root: Path) -> list[psutil.Process]:
    """Every live process started for the cluster under `root` (they carry its RAY_TMPDIR)."""
    mark = str(root / "tmp")
    found = []
    for p in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if p.environ().get("RAY_TMPDIR") == mark and p.status() != psutil.STATUS_ZOMBIE:
                found.append(p)
    return found


def loopback_only(root: Path) -> list[str]:
    """The cluster's listening sockets that are NOT on a loopback address (should be none)."""
    bad = []
    for p in processes(root):
        with contextlib.suppress(psutil.Error):
            for c in p.net_connections(kind="inet"):
                ip = c.laddr.ip.removeprefix("::ffff:")
                if c.status == psutil.CONN_LISTEN and ip not in ("127.0.0.1", "::1"):
                    bad.append(f"{p.name()} {ip}:{c.laddr.port}")
    return bad


@dataclass
class Node:
    name: str
    proc: subprocess.Popen[bytes]
    cache: Path
    log: Path


@dataclass
class LocalCluster:
    root: Path
    auth: str = "token"  # Ray's default once a token exists; or "disabled"
    address: str = ""
    nodes: list[Node] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        """For drivers: Ray on loopback, the cluster's HOME (its token) and marker."""
        return ray_env(self.root)

    def _start(self, name: str, argv: list[str], agents: int, env: dict[str, str]) -> Node:
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
            *argv, "--block", *ports, "--node-ip-address=127.0.0.1", "--num-cpus=1",
            *([f"--resources={{\"agent\": {agents}}}"] if agents else []),
            "--object-store-memory=100000000", "--disable-usage-stats",
            f"--min-worker-port={lo}", f"--max-worker-port={lo + 40}",
        ]  # fmt: skip
        env = {**clean_env(), **env, "SPECFLOW_RAY_CACHE": str(cache)}
        with open(log, "wb") as fh:
            proc = subprocess.Popen(
                argv, stdout=fh, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        node = Node(name, proc, cache, log)
        self.nodes.append(node)
        return node

    def start(
        self, workers: int = 1, agents: int = 2, head_agents: int | None = None, timeout: float = 90
    ) -> None:
        head = agents if head_agents is None else head_agents
        (self.root / "home").mkdir(parents=True, exist_ok=True)
        env = ray_env(self.root)
        if self.auth == "token":
            subprocess.run(
                [str(RAY_BIN), "get-auth-token", "--generate"],
                env={**clean_env(), **env},
                check=True,
                capture_output=True,
            )
        else:
            env["RAY_AUTH_MODE"] = self.auth
        port = free_port()
        self.address = f"127.0.0.1:{port}"
        argv = [str(RAY_BIN), "start", "--head", f"--port={port}", "--include-dashboard=false"]
        self._start("head", argv, head, env)
        self.wait_for(head, timeout)
        for _ in range(workers):
            self.add_worker(agents, timeout)

    def add_worker(self, agents: int, timeout: float = 90) -> None:
        """One more node (one at a time: a loaded 2-core machine is slow to join)."""
        env = {**ray_env(self.root), "RAY_AUTH_MODE": self.auth}
        want = self.agents() + agents
        i = sum(n.name.startswith("worker") for n in self.nodes) + 1
        argv = [sys.executable, str(RAY_START), "start", f"--address={self.address}"]
        for retry in range(2):
            node = self._start(f"worker{i}-{retry}", argv, agents, env)
            try:
                self.wait_for(want, timeout)
                return
            except RuntimeError:
                self.nodes.remove(node)
                self.kill(node)
                if retry:
                    raise

    def agents(self) -> int:
        """The cluster's `agent` slots, or -1 while its head does not answer yet."""
        host, port = self.address.rsplit(":", 1)
        try:  # Ray's own client would retry an absent head for minutes
            socket.create_connection((host, int(port)), timeout=2).close()
        except OSError:
            return -1
        probe = (
            f"import ray,logging;ray.init(address={self.address!r},logging_level=logging.ERROR);"
            "print(int(ray.cluster_resources().get('agent',0)))"
        )
        env = {**clean_env(), **ray_env(self.root), "RAY_AUTH_MODE": self.auth}
        try:
            p = subprocess.run(
                [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60
            )
        except subprocess.TimeoutExpired:
            return -1
        out = p.stdout.strip().splitlines()
        return int(out[-1]) if p.returncode == 0 and out and out[-1].isdigit() else -1

    def wait_for(self, agents: int, timeout: float) -> None:
        """Until the cluster offers `agents` slots (nodes registered)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for n in self.nodes:
                if n.proc.poll() is not None:
                    raise RuntimeError(f"{n.name} exited: {n.log.read_text()[-2000:]}")
            if self.agents() == agents:
                return
            time.sleep(0.5)
        raise RuntimeError(f"cluster did not reach {agents} agent slots")

    def stop(self) -> list[str]:
        """Kill every process of the cluster; returns those still alive after (none)."""
        for n in reversed(self.nodes):
            self.kill(n)
        self.nodes.clear()
        return sweep(self.root)

    def kill(self, n: Node) -> None:
        """Kill a node: its `ray start` process group and every process it started (Ray
        workers run in sessions of their own), by pid."""
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
        with contextlib.suppress(psutil.Error):
            ancestors = {p.pid for p in psutil.Process(pid).parents()}
            return next((n for n in self.nodes if n.proc.pid in ancestors), None)
        return None


def sweep(root: Path) -> list[str]:
    """Kill the processes `processes(root)` finds; returns what is still alive afterwards."""
    procs = processes(root)
    for p in procs:
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(procs, timeout=10)
    return [" ".join(p.cmdline()[:2]) or str(p.pid) for p in processes(root)]


def short_tmp() -> Path:
    """Ray's unix sockets live under its temp dir: keep the path short (108-byte limit)."""
    return Path(tempfile.mkdtemp(prefix="sfray-", dir="/tmp"))
