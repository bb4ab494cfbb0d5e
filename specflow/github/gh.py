"""Running the GitHub CLI (`gh`): argument lists only, never a shell string.

A `Runner` takes an argv (`["gh", "issue", "create", …]` or `["git", "push", …]`) and returns
its stdout, raising `GhFailed` on a non-zero exit. `GhCli` is the real one; tests put a fake
`gh` executable on PATH, so the real runner is exercised end to end.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from specflow.errors import SpecflowError, WorkFailed
from specflow.workspace.git import run_captured

Runner = Callable[[list[str]], str]

INSTALL_HINT = "install the GitHub CLI from https://cli.github.com, then run 'gh auth login'"
_NUMBER_RE = re.compile(r"/(?:issues|pull)/(?P<n>\d+)\s*$")
_URL_RE = re.compile(r"https?://\S+/(?:issues|pull)/\d+")


class GhNotFound(SpecflowError):
    """`gh` is not installed (or not on PATH): bad setup, exit 2."""

    exit_code = 2


class GhFailed(WorkFailed):
    """A gh (or git) call exited non-zero; carries its stderr."""

    def __init__(self, argv: list[str], returncode: int, stderr: str) -> None:
        first = next((ln.strip() for ln in stderr.splitlines() if ln.strip()), "")
        what = " ".join(argv[:3])
        super().__init__(
            f"{what}: {first or f'exit code {returncode}'}",
            "check 'gh auth status' and the repository (--repo OWNER/NAME)",
        )
        self.argv = argv
        self.returncode = returncode
        self.stderr = stderr


def require_gh() -> str:
    """The path of `gh`, or a one-line error saying how to get it."""
    path = shutil.which("gh")
    if path is None:
        raise GhNotFound("the GitHub CLI 'gh' is not on PATH", INSTALL_HINT)
    return path


class GhCli:
    """Runs argvs in the project folder, non-interactively."""

    def __init__(self, cwd: Path, timeout: float = 120.0) -> None:
        self.cwd = cwd
        self.timeout = timeout

    def __call__(self, argv: list[str]) -> str:
        exe = require_gh() if argv[0] == "gh" else (shutil.which(argv[0]) or argv[0])
        env = {
            **os.environ,
            "GH_PROMPT_DISABLED": "1",
            "GH_NO_UPDATE_NOTIFIER": "1",
            "NO_COLOR": "1",
        }
        try:
            proc = run_captured([exe, *argv[1:]], self.cwd, env=env, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            raise GhFailed(argv, -1, f"timed out after {self.timeout:.0f} s") from None
        except FileNotFoundError:
            if argv[0] == "gh":
                raise GhNotFound("the GitHub CLI 'gh' is not on PATH", INSTALL_HINT) from None
            raise GhFailed(argv, -1, f"{argv[0]}: command not found") from None
        if proc.returncode != 0:
            raise GhFailed(argv, proc.returncode, proc.stderr or proc.stdout)
        return proc.stdout


def default_runner(cwd: Path) -> Runner:
    return GhCli(cwd)


def number_from_url(output: str) -> int | None:
    """`https://github.com/o/r/issues/12` (gh's output on create) -> 12."""
    for line in reversed(output.strip().splitlines()):
        m = _NUMBER_RE.search(line.strip())
        if m:
            return int(m.group("n"))
    return None


def url_in(text: str) -> str | None:
    m = _URL_RE.search(text)
    return m.group(0) if m else None


def argv_lines(calls: list[list[str]]) -> str:
    """Dry-run output: one JSON array (an exact argv) per line."""
    return "\n".join(json.dumps(c, ensure_ascii=False) for c in calls)
