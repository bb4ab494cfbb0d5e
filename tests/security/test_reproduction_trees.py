"""A bugfix's reproducing test is the agent's code, and it runs (confined) in the trees the
reproduction check makes. It may rewrite the tree's `.git` to point at a gitdir of its own whose
config runs a filter; no git command of specflow's may read it afterwards (the trees are made
from the slot's git, and nothing is run in them but the check)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from specflow.engine.reproduce import check_reproduction
from specflow.sandbox.core import bwrap_works, landlock_abi
from specflow.workspace.git import Git
from tests.engine.engine_helpers import git, init_repo

pytestmark = pytest.mark.skipif(
    bwrap_works() is not None and landlock_abi() < 2, reason="no confinement on this machine"
)

REPRO = """\
import pathlib, subprocess, sys

here = pathlib.Path.cwd()
dot = here / ".git"
if dot.is_file():  # a worktree: make a gitdir of our own and point .git at it
    gitdir = pathlib.Path(dot.read_text().split(":", 1)[1].strip())
    common = gitdir.parent.parent  # <repo>/.git/worktrees/<name>: no need to read it
    evil = here / "evilgit"
    subprocess.run(["git", "init", "-q", "--bare", str(evil)], check=True)
    (evil / "objects" / "info" / "alternates").write_text(f"{common / 'objects'}\\n")
    with open(evil / "config", "a") as f:
        f.write("[core]\\n\\tbare = false\\n[filter \\"x\\"]\\n\\tsmudge = touch MARKER\\n")
    dot.write_text(f"gitdir: {evil}\\n")
sys.exit(1)
"""


def test_a_rewritten_dot_git_in_a_reproduction_tree_is_never_read(tmp_path: Path) -> None:
    marker = tmp_path / "outside" / "PWNED-repro"
    marker.parent.mkdir()
    repo = init_repo(tmp_path / "repo", {"app.py": "BUG = True\n"}, "base")
    base = git(repo, "rev-parse", "HEAD")
    (repo / "app.py").write_text("BUG = False\n")
    (repo / ".gitattributes").write_text("* filter=x\n")
    (repo / "tests").mkdir()
    (repo / "tests" / "repro.py").write_text(REPRO.replace("MARKER", str(marker)))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "fix")
    fixed = git(repo, "rev-parse", "HEAD")
    res = check_reproduction(
        Git(repo), base, fixed, ["tests/repro.py"], f"{sys.executable} tests/repro.py", timeout=60
    )
    assert res.failed_on_base  # the test ran (and rewrote .git) …
    assert not marker.exists()  # … and specflow's git never read what it wrote
    assert git(repo, "worktree", "list").count("\n") == 0  # the throwaway trees are gone
