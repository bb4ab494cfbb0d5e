"""A run recorded by the version before the event catalogue (tests/fixtures/runs/make_v1_run.py)
still reads the same in `log`, `trace` and `why`, still reports, and `--resume` finishes it."""

from __future__ import annotations

import json
import sys
import tarfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))

from engine_helpers import branch_tasks, cli, script_agent

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "runs"
META = json.loads((FIXTURES / "v1-run.json").read_text())
RUN = META["run_id"]
OUTPUTS = {
    "log": ["log", RUN],
    "log-T002": ["log", RUN, "--task", "T002"],
    "trace": ["trace", RUN],
    "trace-T002": ["trace", RUN, "T002"],
    "why-T004": ["why", "T004"],
    "why-T002": ["why", "T002"],
}


@pytest.fixture
def old_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TZ", "UTC")  # the texts show times of day
    with tarfile.open(FIXTURES / "v1-run.tar.gz") as tar:
        tar.extractall(tmp_path, filter="data")
    return tmp_path / "repo"


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_old_run_reads_as_before(old_repo: Path, name: str) -> None:
    p = cli(old_repo, *OUTPUTS[name])
    assert p.returncode == 0, p.stderr
    expected = (FIXTURES / f"v1-{name}.txt").read_text()
    assert p.stdout.replace(str(old_repo), "<REPO>").replace(META["tmp"], "<TMP>") == expected


def test_old_run_reports_and_resumes(old_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    p = cli(old_repo, "report", RUN, "-o", str(out))
    assert p.returncode == 0, p.stderr
    html = out.read_text()
    for tid in ("T001", "T002", "T003", "T004", "T005"):
        assert tid in html
    assert "agent failed: exit code 1" in html

    agent = script_agent(
        tmp_path,
        {
            "T003": {"write": {"calc/sub.py": "X = 3\n"}},
            "T004": {"write": {"calc/mul.py": "X=4\n"}},
        },
    )
    p = cli(old_repo, "implement", "--resume", "--agent", agent)
    assert p.returncode == 0, p.stderr
    assert "2 tasks left" in p.stderr
    assert sorted(branch_tasks(old_repo, "specflow/001-calc")) == [f"T00{i}" for i in range(1, 6)]
    # the resumed run's events still read: the old ones and the new ones in one log
    log = cli(old_repo, "log", RUN)
    assert log.returncode == 0, log.stderr
    assert log.stdout.count("run resumed") == 2
    assert "T004  merged" in log.stdout
