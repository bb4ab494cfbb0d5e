"""The one place that says how to add an optional extra (`ray`, `otel`) to this installation.

No release is on a package index, so `pip install 'specflow-sdd[ray]'` finds nothing; and a bare
`pip` may be another environment's. The hint is built from how *this* specflow was installed
(PEP 610 `direct_url.json`: a clone, editable or not; a git URL; an archive; else an index) and
names this interpreter, so the command adds the extra where the running `specflow` lives.
"""

from __future__ import annotations

import json
import shlex
import sys
from typing import Any
from urllib.parse import unquote, urlparse

DISTRIBUTION = "specflow-sdd"  # [project] name in pyproject.toml
EXTRAS = ("ray", "otel")  # [project.optional-dependencies] the CLI points users to


def install_hint(extra: str) -> str:
    """The command that installs `extra` into this specflow's environment."""
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}")
    origin, installer = _origin()
    target = requirement(extra, origin)
    python = shlex.quote(sys.executable)
    if installer == "uv":  # uv's environments (`uv tool install`) have no pip
        return f"uv pip install --python {python} {target}"
    return f"{python} -m pip install {target}"


def requirement(extra: str, origin: dict[str, Any] | None) -> str:
    """The pip arguments for this distribution with `extra`, from where it was installed."""
    named = f"{DISTRIBUTION}[{extra}]"
    origin = origin or {}
    url = str(origin.get("url") or "")
    if not url:
        return shlex.quote(named)
    if isinstance(origin.get("dir_info"), dict):
        path = unquote(urlparse(url).path) if url.startswith("file:") else url
        editable = "-e " if origin["dir_info"].get("editable") else ""
        return editable + shlex.quote(f"{path}[{extra}]")
    vcs = origin.get("vcs_info")
    if isinstance(vcs, dict):
        rev = vcs.get("requested_revision") or vcs.get("commit_id")
        at = f"@{rev}" if rev else ""
        return shlex.quote(f"{named} @ {vcs.get('vcs', 'git')}+{url}{at}")
    return shlex.quote(f"{named} @ {url}")


def _origin() -> tuple[dict[str, Any] | None, str]:
    """This distribution's direct_url.json (None: from an index) and its INSTALLER."""
    from importlib import metadata

    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # run from a source tree without installing
        return None, ""
    installer = (dist.read_text("INSTALLER") or "").strip()
    try:
        origin = json.loads(dist.read_text("direct_url.json") or "null")
    except ValueError:
        origin = None
    return (origin if isinstance(origin, dict) else None), installer
