"""Typos on the command line: the installed `specflow` says what is wrong in one line, exit 2.

These run the console script pip installed (not the entry function in-process), so the click
that the installed typer raises with is the one under test.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SPECFLOW = shutil.which("specflow", path=str(Path(sys.executable).parent)) or "specflow"


def specflow(args: list[str], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SPECFLOW, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "NO_COLOR": "1"},
        stdin=subprocess.DEVNULL,
    )


CASES = [
    (["bogus"], "no such command 'bogus'", "specflow --help"),
    (["init", "-x"], "no such option: -x", "specflow init --help"),
    (["implement", "--bogus"], "no such option: --bogus", "specflow implement --help"),
    (["implement", "--parallel"], "'--parallel' requires an argument", "specflow implement --help"),
    (["graph", "--format"], "'--format' requires an argument", "specflow graph --help"),
    (["implement", "--parallel", "0"], "'0' for '--parallel'", "specflow implement --help"),
    (["implement", "--parallel", "-1"], "'-1' for '--parallel'", "specflow implement --help"),
    (["implement", "-j", "abc"], "'abc' for '--parallel'", "specflow implement --help"),
    (["implement", "--parallel=1000000"], "'1000000'", "specflow implement --help"),
    (["implement", "--max-cost", "-1"], "'-1' for '--max-cost'", "specflow implement --help"),
    (["plan", "--max-cost", "x"], "'x' for '--max-cost'", "specflow plan --help"),
    (["demo", "--parallel", "-5"], "'-5' for '--parallel'", "specflow demo --help"),
    (["demo", "-j", "0"], "'0' for '--parallel'", "specflow demo --help"),
    (["library", "bogus"], "no such command 'bogus'", "specflow library --help"),
    (["export", "pr", "--draft=3"], "--draft", "specflow export pr --help"),
    (["status", "a", "b"], "unexpected extra argument", "specflow status --help"),
]


@pytest.mark.parametrize(("args", "says", "help_for"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_usage_error_is_one_line_exit_2(
    tmp_path: Path, args: list[str], says: str, help_for: str
) -> None:
    res = specflow(args, tmp_path, timeout=30)
    assert res.returncode == 2, (res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    line = lines[0]
    assert line.startswith("error: ") and "internal error" not in line, line
    assert says in line, line
    assert f"(see '{help_for}')" in line, line
    assert not list(tmp_path.iterdir()), "a usage error must not create anything"


def test_no_command_shows_help(tmp_path: Path) -> None:
    res = specflow([], tmp_path)
    assert res.returncode == 2
    assert "Usage: specflow" in res.stdout and "implement" in res.stdout


def test_feature_given_twice_differently(tmp_path: Path) -> None:
    res = specflow(["status", "1", "--feature", "2"], tmp_path)
    assert res.returncode == 2
    assert res.stderr.strip() == (
        "error: two features given: '1' and --feature '2' (give the feature once)"
    )


TYPE_NAME = re.compile(r"<(?:str|int|float|bool|path|file|list\[[^>]*\]|[a-z]+ range)>")


def test_help_names_values_in_words(tmp_path: Path) -> None:
    for command in (["implement"], ["approve"], ["plan"], ["export", "pr"], ["trace"]):
        out = specflow([*command, "--help"], tmp_path).stdout
        assert not TYPE_NAME.search(out), out
        assert "FEATURE" in out or "TASK" in out, out
