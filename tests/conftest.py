"""Shared fixtures: real git repositories in temp dirs, the real CLI run in-process."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
# Every event the code emits, here and in the CLI subprocesses, is checked against the catalogue.
os.environ["SPECFLOW_STRICT_EVENTS"] = "1"
REPO_ROOT = Path(__file__).resolve().parent.parent

GIT_ENV = {
    "GIT_AUTHOR_NAME": "specflow tests",
    "GIT_AUTHOR_EMAIL": "tests@specflow.invalid",
    "GIT_COMMITTER_NAME": "specflow tests",
    "GIT_COMMITTER_EMAIL": "tests@specflow.invalid",
}


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("SPECFLOW_MODEL"):
            monkeypatch.delenv(key, raising=False)
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)


def git(cwd: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **GIT_ENV},
    )
    return out.stdout


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "README.md").write_text("# demo repo\n")
    (root / "app.py").write_text("def hello() -> str:\n    return 'hi'\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


def run_cli(args: list[str], cwd: Path, stdin: str | None = None) -> Result:
    """Run the real CLI entry point in this process (litellm is imported once per worker)."""
    from specflow.cli.main import run

    out, err = io.StringIO(), io.StringIO()
    old_cwd = os.getcwd()
    old_stdin = sys.stdin
    os.chdir(cwd)
    if stdin is not None:
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin.encode("utf-8")))
    code = 0
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                run(args)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        os.chdir(old_cwd)
        sys.stdin = old_stdin
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli() -> Iterator[object]:
    yield run_cli


@pytest.fixture
def project(git_repo: Path) -> Path:
    res = run_cli(["init"], git_repo)
    assert res.code == 0, res.stderr
    return git_repo


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under root (but .git), for byte-for-byte 'nothing changed' checks."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and ".git" not in p.relative_to(root).parts
        and ".specflow" not in p.relative_to(root).parts
    }
