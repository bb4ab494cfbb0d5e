"""`ray start ...` for the tests, with Ray kept on 127.0.0.1.

On Linux, Ray replaces 127.0.0.1 with the machine's network address (and listens on every
interface) unless RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0; with that set, its CLI refuses to start
a second node ("multi-node clusters are not supported on Windows and OSX"). This runs Ray's
own `ray` command with that one check lifted, so a head and worker nodes can share a machine
while every socket stays on the loopback address. Everything else is Ray's CLI, unchanged.
"""

from __future__ import annotations

import sys
import types

import ray._private.ray_constants as constants
import ray.scripts.scripts as cli

if __name__ == "__main__":
    # Only the CLI's own check sees the flag on; Ray's address handling still keeps 127.0.0.1.
    cli.ray_constants = types.SimpleNamespace(**{**vars(constants), "ENABLE_RAY_CLUSTER": True})  # type: ignore[assignment]
    sys.argv = ["ray", *sys.argv[1:]]
    cli.main()
