"""Failing to reach a cluster, with no cluster needed: one line, exit 2, quickly, before any
branch, worktree or run exists. And where the driver finds Ray's token."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("ray")

from specflow.errors import InputError
from specflow.executors.ray_connect import find_token, parse_address

from .ray_cluster import free_port, short_tmp
from .ray_project import ray_repo, snapshot, specflow

pytestmark = [pytest.mark.ray]


@pytest.fixture
def http_port() -> Iterator[int]:
    """A port where something listens that is not a Ray head: a plain HTTP server."""
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def _fails(repo: Path, address: str, says: str, env: dict[str, str] | None = None) -> None:
    before = snapshot(repo)
    t0 = time.monotonic()
    p = specflow(repo, env or {}, "implement", "--executor", "ray", "--ray-address", address)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2 and len(lines) == 1 and says in lines[0], p.stderr
    assert "Traceback" not in p.stderr and p.stdout == ""
    assert time.monotonic() - t0 < 30  # no waiting on Ray's retries
    assert snapshot(repo) == before  # no branch, worktree, run folder or ref


def test_unreachable_addresses_are_one_line(tmp_path: Path, http_port: int) -> None:
    repo, _ = ray_repo(tmp_path)
    home = short_tmp()  # no token, no Ray settings: whatever this machine has is not used
    env = {"HOME": str(home), "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
    _fails(repo, f"127.0.0.1:{free_port()}", "nothing listens at 127.0.0.1:", env)
    _fails(repo, f"127.0.0.1:{http_port}", "answers, but not as a Ray head", env)
    _fails(repo, "no-such-host.invalid:6379", "unknown host no-such-host.invalid", env)


def test_unreachable_remote_is_one_line(tmp_path: Path) -> None:
    """The git remote is checked first: a cluster is no use without it."""
    repo, _ = ray_repo(tmp_path, remote=False)  # ../remote.git does not exist
    _fails(repo, f"127.0.0.1:{free_port()}", "cannot reach the git remote")


def test_find_token_looks_where_ray_does(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".ray").mkdir(parents=True)
    assert find_token({"HOME": str(home)}) is None
    (home / ".ray" / "auth_token").write_text("from-home\n")
    named = tmp_path / "token"
    named.write_text("from-path")
    env = {"HOME": str(home)}
    found = find_token(env)
    assert found is not None and (found.value, found.source) == ("from-home", "~/.ray/auth_token")
    found = find_token({**env, "RAY_AUTH_TOKEN_PATH": str(named)})
    assert found is not None and found.value == "from-path"
    found = find_token({**env, "RAY_AUTH_TOKEN_PATH": str(named), "RAY_AUTH_TOKEN": "env"})
    assert found is not None and (found.value, found.source) == ("env", "RAY_AUTH_TOKEN")
    with pytest.raises(InputError, match="cannot be read"):
        find_token({**env, "RAY_AUTH_TOKEN_PATH": str(tmp_path / "missing")})


def test_parse_address() -> None:
    assert parse_address("head.internal:6379") == ("head.internal", 6379)
    assert parse_address(" [::1]:6379 ") == ("::1", 6379)
    for bad in ("head", "6379", "head:0", "head:99999", ":6379"):
        with pytest.raises(InputError, match="is not HOST:PORT"):
            parse_address(bad)
    with pytest.raises(InputError, match="a Ray Client address"):
        parse_address("ray://head:10001")
