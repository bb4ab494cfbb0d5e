"""tools/corpus_check.py: the local checker for folders of real files."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO_ROOT

TOOL = REPO_ROOT / "tools" / "corpus_check.py"
FIXTURES = REPO_ROOT / "tests" / "fixtures"


def _run(*paths: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOL), *paths], capture_output=True, text=True, cwd=REPO_ROOT
    )


def test_reports_every_file_with_its_counts() -> None:
    res = _run(str(FIXTURES / "speckit"), str(FIXTURES / "importers" / "taskmaster"))
    assert res.returncode == 0, res.stdout + res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) == 6 + 4
    wild = next(line for line in lines if "ids-in-the-wild" in line)
    assert wild.endswith("speckit  seen 12  read 12  done 2")


def test_a_file_it_cannot_read_fails_the_run(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "specs" / "x").mkdir(parents=True)
    (tmp_path / "specs" / "x" / "tasks.md").write_text("# Tasks: X\n\n- [ ] T12 short id\n")
    res = _run(str(tmp_path), str(FIXTURES / "importers" / "not-taskmaster"))
    assert res.returncode == 1
    assert "malformed task id 'T12'" in res.stdout and "not a Task Master file" in res.stdout
