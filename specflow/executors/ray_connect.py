"""The driver's connection to a Ray cluster, checked before anything is created.

`ray.init(address=...)` on its own is a poor first contact: a closed port or a wrong host
retries for minutes, a cluster with token authentication (Ray's default once a token exists)
rejects a driver that does not send one, and every failed attempt prints Ray's C++ log lines.
So `connect` asks first, quickly, in this order, and turns each failure into one line (an
InputError, exit 2) naming what to fix:

1. the address is HOST:PORT, and something listens there (a TCP connect, a few seconds);
2. it speaks gRPC (HTTP/2), as a Ray head's GCS port does;
3. whether the cluster wants a token, and if so, that the one found here (where Ray looks for
   it: `RAY_AUTH_TOKEN`, the file named by `RAY_AUTH_TOKEN_PATH`, `~/.ray/auth_token`) is
   accepted. This process then runs with the cluster's `RAY_AUTH_MODE`, as Ray requires;
4. this machine runs a node of that cluster (Ray drivers attach to a local node);

and only then calls `ray.init`, with Ray's C++ log lines kept off the terminal.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import re
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from specflow.errors import InputError

PROBE_TIMEOUT_S = 3.0
AUTH_MODE = "RAY_AUTH_MODE"
_HEAD_HINT = "use the head's address and port (`ray start --head --port=PORT`)"
_ENABLE_CLUSTER = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
_LOCAL_HINT = f"set {_ENABLE_CLUSTER}=0 for specflow too, as for its nodes"


@dataclass(frozen=True)
class Token:
    value: str
    source: str  # where it was found, for messages (never the token itself)


def find_token(env: dict[str, str] | None = None) -> Token | None:
    """The token Ray would send, looked up in Ray's documented order."""
    env = dict(os.environ) if env is None else env
    if env.get("RAY_AUTH_TOKEN", "").strip():
        return Token(env["RAY_AUTH_TOKEN"].strip(), "RAY_AUTH_TOKEN")
    named = env.get("RAY_AUTH_TOKEN_PATH")
    if named:
        try:
            text = Path(named).expanduser().read_text().strip()
        except OSError as exc:
            raise InputError(
                f"RAY_AUTH_TOKEN_PATH names {named}, which cannot be read ({exc.strerror})",
                "point RAY_AUTH_TOKEN_PATH at the cluster's token file, or unset it",
            ) from None
        if not text:
            raise InputError(
                f"RAY_AUTH_TOKEN_PATH names {named}, which is empty",
                "point RAY_AUTH_TOKEN_PATH at the cluster's token file, or unset it",
            )
        return Token(text, named)
    default = Path(env.get("HOME") or Path.home()) / ".ray" / "auth_token"
    with contextlib.suppress(OSError):
        text = default.read_text().strip()
        if text:
            return Token(text, "~/.ray/auth_token")
    return None


def parse_address(address: str) -> tuple[str, int]:
    text = address.strip()
    if text.startswith("ray://"):
        raise InputError(
            f"--ray-address {address}: a Ray Client address; specflow connects as a driver",
            "give the head's GCS address, HOST:PORT (`ray start --head --port=PORT`)",
        )
    m = re.fullmatch(r"\[?([^\[\]\s]+?)\]?:(\d{1,5})", text)
    if not m or not 0 < int(m.group(2)) < 65536:
        raise InputError(
            f"--ray-address {address!r} is not HOST:PORT", "e.g. --ray-address head.internal:6379"
        )
    return m.group(1), int(m.group(2))


def probe_listener(host: str, port: int, shown: str, timeout: float = PROBE_TIMEOUT_S) -> None:
    """Something listens at host:port and answers HTTP/2 (gRPC), as a Ray head's GCS does."""
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except socket.gaierror:
        raise InputError(f"Ray address {shown}: unknown host {host}", _HEAD_HINT) from None
    except ConnectionRefusedError:
        raise InputError(
            f"nothing listens at {shown}: no Ray head there",
            f"start one (`ray start --head --port={port}`) or fix --ray-address",
        ) from None
    except OSError as exc:  # timed out, no route, network down
        why = "timed out" if isinstance(exc, TimeoutError) else exc.strerror or str(exc)
        raise InputError(f"cannot reach the Ray head at {shown} ({why})", _HEAD_HINT) from None
    with sock:
        tls = os.environ.get("RAY_USE_TLS", "").lower() in ("1", "true")
        if not tls and not _speaks_http2(sock):
            raise InputError(f"{shown} answers, but not as a Ray head (no gRPC)", _HEAD_HINT)


def _speaks_http2(sock: socket.socket) -> bool:
    """Send the HTTP/2 client preface and an empty SETTINGS frame; a gRPC server answers with
    a SETTINGS frame of its own (frame type 4)."""
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
    try:
        sock.sendall(preface)
        head = b""
        while len(head) < 9:
            chunk = sock.recv(9 - len(head))
            if not chunk:
                return False
            head += chunk
    except OSError:
        return False
    return head[3] == 4


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Keep what Ray's C++ code writes to file descriptor 2 (its connection retries, one line
    each) off the terminal while connecting."""
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all: nothing to keep quiet
        yield
        return
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    with open(os.devnull, "wb") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _local(host: str) -> bool:
    """host names this machine (an address of it can be bound here)."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return False
    for family, _, _, _, sockaddr in infos:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            try:
                s.bind((sockaddr[0], 0))
                return True
            except OSError:
                continue
    return False


def ray_target(host: str, port: int) -> tuple[str, int]:
    """Where `ray.init` will really connect: Ray turns 127.0.0.1 into this machine's address
    (on Linux, unless RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0)."""
    try:
        from ray._private.services import canonicalize_bootstrap_address

        out = canonicalize_bootstrap_address(f"{host}:{port}")
        h, _, p = str(out).rpartition(":")
        return h.strip("[]") or host, int(p)
    except Exception:  # another Ray's internals: connect where we were told
        return host, port


def _raylet(name: str) -> Any:
    """A name from Ray's compiled core, or None when this Ray has no such thing."""
    try:
        return getattr(importlib.import_module("ray._raylet"), name, None)
    except ImportError:
        return None


def _set_auth_mode(mode: str) -> None:
    """Run this process with the cluster's RAY_AUTH_MODE (Ray reads it from the environment,
    once: its configuration and its token cache are refreshed, as Ray itself does)."""
    os.environ[AUTH_MODE] = mode
    with contextlib.suppress(Exception):
        _raylet("Config").initialize("")
        _raylet("AuthenticationTokenLoader").instance().reset_cache()


def _gcs_answer(client: Any, address: str) -> Exception | None:
    """Ask the cluster's GCS for its id; None when it answered."""
    with quiet_stderr():
        try:
            client.standalone(address, None, int(PROBE_TIMEOUT_S * 1000))
        except Exception as exc:
            return exc
    return None


def _auth_refused(exc: Exception) -> bool:
    return type(exc).__name__ == "AuthenticationError" or "Unauthenticated" in str(exc)


def _first_line(exc: BaseException) -> str:
    line = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), "")
    return line if line.rstrip(":").strip() not in ("", "RPC error") else type(exc).__name__


def settle_auth(target: str, shown: str) -> str:
    """Find out whether the cluster wants a token, check ours, and set this process's
    RAY_AUTH_MODE to match. Returns the mode ("disabled" or "token")."""
    client = _raylet("InnerGcsClient")
    if client is None:  # a Ray without this client: follow Ray's own rule (token if found)
        if AUTH_MODE not in os.environ and find_token() is not None:
            _set_auth_mode("token")
        return os.environ.get(AUTH_MODE, "disabled")
    _set_auth_mode("disabled")
    err = _gcs_answer(client, target)
    if err is None:
        return "disabled"
    if not _auth_refused(err):
        raise InputError(f"no Ray head answers at {shown} ({_first_line(err)})", _HEAD_HINT)
    token = find_token()
    if token is None:
        raise InputError(
            f"the Ray cluster at {shown} wants a token, and none is set here",
            "copy the head's ~/.ray/auth_token here, or set RAY_AUTH_TOKEN "
            "(`ray get-auth-token` on the head prints it)",
        )
    _set_auth_mode("token")
    err = _gcs_answer(client, target)
    if err is None:
        return "token"
    if _auth_refused(err):
        raise InputError(
            f"the Ray cluster at {shown} refused the token from {token.source}",
            "use the head's token (`ray get-auth-token` on the head prints it)",
        )
    raise InputError(f"no Ray head answers at {shown} ({_first_line(err)})", _HEAD_HINT)


def check_local_node(target: tuple[str, int], shown: str, mode: str) -> None:
    """Ray drivers attach to a node on their own machine: one of this cluster's raylets must
    run here (their command lines name the cluster's GCS address)."""
    try:
        from ray._private.services import find_gcs_addresses

        found = [a.rpartition(":") for a in find_gcs_addresses()]
    except Exception:  # another Ray's internals: let ray.init decide
        return
    host, port = target
    for h, _, p in found:
        if p == str(port) and (h.strip("[]") == host or (_local(h.strip("[]")) and _local(host))):
            return
    env = "RAY_AUTH_MODE=token " if mode == "token" else ""
    raise InputError(
        f"this machine runs no node of the Ray cluster at {shown}",
        f"run specflow on a cluster node, or join this machine: {env}ray start --address={shown}",
    )


def loopback_only() -> None:
    """Keep the Ray that specflow starts on 127.0.0.1: on Linux, Ray otherwise swaps 127.0.0.1
    for the machine's network address and listens on every interface. Its processes read the
    same setting from the environment they inherit."""
    os.environ[_ENABLE_CLUSTER] = "0"
    with contextlib.suppress(Exception):  # read once, when Ray was imported
        constants = importlib.import_module("ray._private.ray_constants")
        constants.ENABLE_RAY_CLUSTER = False  # type: ignore[attr-defined]


def connect(ray: ModuleType, address: str | None, *, slots_per_node: int) -> str | None:
    """Connect this process to the cluster at `address` (or RAY_ADDRESS), checked first; with
    neither, start a one-machine Ray for the run. Returns the address connected to."""
    common: dict[str, Any] = {
        "logging_level": logging.WARNING,
        "log_to_driver": False,
        "include_dashboard": False,
    }
    # Ray's own notes at connect time (token auth, ...) would break the live view.
    logging.getLogger("ray._private.authentication").setLevel(logging.ERROR)
    address = (address or os.environ.get("RAY_ADDRESS") or "").strip() or None
    if address is None:  # a one-node Ray started for this run: agents on this machine
        loopback_only()
        ray.init(
            resources={"agent": slots_per_node},
            num_cpus=1,
            object_store_memory=100_000_000,
            _node_ip_address="127.0.0.1",  # nothing to serve beyond this machine
            **common,
        )
        return None
    host, port = parse_address(address)
    probe_listener(host, port, address)
    target = ray_target(host, port)
    if target != (host, port):
        try:
            probe_listener(*target, address)
        except InputError:
            raise InputError(
                f"Ray connects to {target[0]}:{target[1]} for {address} (this machine's "
                "address), and the head does not answer there",
                _LOCAL_HINT,
            ) from None
    mode = settle_auth(f"{target[0]}:{target[1]}", address)
    check_local_node(target, address, mode)
    with quiet_stderr():
        try:
            ray.init(address=f"{host}:{port}", **common)
        except Exception as exc:
            raise InputError(
                f"cannot connect to the Ray cluster at {address}: {_first_line(exc)}", _HEAD_HINT
            ) from None
    return address
