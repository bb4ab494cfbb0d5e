"""Generated files get the mode users expect: the umask's normal mode, or the file's own."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from tests.cli.test_usage_errors import SPECFLOW
from tests.conftest import GIT_ENV, git


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _umask(mask: int) -> None:
    os.umask(mask)


def test_init_files_are_0644_under_umask_022(git_repo: Path) -> None:
    gitignore = git_repo / ".gitignore"
    gitignore.write_text("*.pyc\n")
    gitignore.chmod(0o644)
    res = subprocess.run(
        [SPECFLOW, "init"],
        cwd=git_repo,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV},
        preexec_fn=lambda: _umask(0o022),
    )
    assert res.returncode == 0, res.stderr
    assert _mode(gitignore) == 0o644  # an existing file keeps its mode
    assert ".specflow/" in gitignore.read_text()
    for made in ("specflow.toml", "specs/constitution.md"):
        assert _mode(git_repo / made) == 0o644, made
    git(git_repo, "status")


def test_atomic_write_keeps_an_existing_mode_and_follows_the_umask(tmp_path: Path) -> None:
    code = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from specflow.fsutil import atomic_write_text\n"
        "os.umask(int(sys.argv[2], 8))\n"
        "atomic_write_text(Path(sys.argv[1]), 'x\\n')\n"
    )
    new = tmp_path / "new.md"
    subprocess.run([sys.executable, "-c", code, str(new), "027"], check=True)
    assert _mode(new) == 0o640
    kept = tmp_path / "script.sh"
    kept.write_text("#!/bin/sh\n")
    kept.chmod(0o750)
    subprocess.run([sys.executable, "-c", code, str(kept), "077"], check=True)
    assert _mode(kept) == 0o750 and kept.read_text() == "x\n"
