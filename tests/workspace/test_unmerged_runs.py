"""The user's checkout sees runs that are not merged yet: `status`, `cost` and
`export github` read the integration branches — in one batched git read for all features."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import GIT_ENV, git, run_cli

SPECFLOW = str(Path(sys.executable).parent / "specflow")
TASKS = """# Tasks: {name}

## Phase 1: Build

- [ ] T001 First part of {name}
  - files: {name}/a.txt
- [ ] T002 Second part of {name}
  - depends: T001
  - files: {name}/b.txt
"""
AGENT = """\
import os, pathlib
p = pathlib.Path(os.environ["SPECFLOW_FEATURE"]) / (os.environ["SPECFLOW_TASK_ID"] + ".txt")
p.parent.mkdir(exist_ok=True)
p.write_text("done\\n")
"""


def _git(repo: Path, *args: str) -> str:
    return git(repo, *args).strip()


def _sf(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SPECFLOW, *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **GIT_ENV},
    )


def _repo(tmp_path: Path, names: list[str]) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "specflow.toml").write_text("[project]\nname = 'two'\n")
    for name in names:
        (repo / "specs" / name).mkdir(parents=True)
        (repo / "specs" / name / "tasks.md").write_text(TASKS.format(name=name))
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "specs")
    return repo


def test_status_cost_and_export_see_runs_on_the_integration_branch(tmp_path: Path) -> None:
    repo = _repo(tmp_path, ["001-one", "002-two"])
    (tmp_path / "agent.py").write_text(AGENT)
    agent = f"cmd:{sys.executable} {tmp_path / 'agent.py'}"
    runs = []
    for feature in ("001-one", "002-two"):
        p = _sf(repo, "implement", feature, "--agent", agent, "-j", "2")
        assert p.returncode == 0, p.stdout + p.stderr
        runs.append(p.stdout.split("run ", 1)[1].split(":", 1)[0])
    status = _sf(repo, "status")
    assert status.returncode == 0, status.stderr
    for feature in ("001-one", "002-two"):
        assert (
            f"{feature}  (0/2 tasks done here; 2/2 merged on specflow/{feature}, not yet in main)"
            in status.stdout
        ), status.stdout
    data = json.loads(_sf(repo, "status", "--json").stdout)["features"]
    one = data[0]["integration"]
    assert one == {
        "branch": "specflow/001-one",
        "tasks_done": 2,
        "tasks_total": 2,
        "in_checkout": False,
        "runs": [runs[0]],
    }
    cost = json.loads(_sf(repo, "cost", "--json").stdout)
    assert sorted(cost["by_run"]) == sorted(runs)
    assert cost["unmerged_runs"] == {"specflow/001-one": [runs[0]], "specflow/002-two": [runs[1]]}
    text = _sf(repo, "cost").stdout
    assert f"recorded on specflow/001-one only, not merged here yet: {runs[0]}" in text
    # export: merged tasks are not exported as open issues
    exp = json.loads(_sf(repo, "export", "github", "001-one", "--dry-run", "--json").stdout)
    assert {i["task"]: i["action"] for i in exp["issues"]} == {"T001": "skipped", "T002": "skipped"}
    # log, trace and report read the run from the local run folder, on main
    assert "T002" in _sf(repo, "log", runs[0]).stdout
    assert "T002" in _sf(repo, "trace", runs[0]).stdout
    assert _sf(repo, "report", runs[0]).returncode == 0
    # once merged, the checkout has it all and nothing is counted twice
    _git(repo, "merge", "-q", "--ff-only", "specflow/001-one")
    status = _sf(repo, "status").stdout
    assert "001-one  (2/2 tasks done)" in status and "002-two  (0/2 tasks done here;" in status
    cost = json.loads(_sf(repo, "cost", "--json").stdout)
    assert sorted(cost["by_run"]) == sorted(runs)
    assert cost["unmerged_runs"] == {"specflow/002-two": [runs[1]]}


def test_one_batched_git_read_for_any_number_of_features(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [f"{i:03d}-f{i}" for i in range(1, 13)]
    repo = _repo(tmp_path, names)
    for name in names:  # each branch: its tasks ticked, as a run leaves it
        rel = f"specs/{name}/tasks.md"
        ticked = TASKS.format(name=name).replace("- [ ]", "- [x]")
        blob = subprocess.run(
            ["git", "hash-object", "-w", "--stdin"],
            cwd=repo,
            input=ticked,
            text=True,
            capture_output=True,
            check=True,
        ).stdout.strip()
        index = {"GIT_INDEX_FILE": str(tmp_path / "index")}
        env = {**os.environ, **GIT_ENV, **index}
        subprocess.run(["git", "read-tree", "main"], cwd=repo, env=env, check=True)
        subprocess.run(
            ["git", "update-index", "--cacheinfo", f"100644,{blob},{rel}"],
            cwd=repo,
            env=env,
            check=True,
        )
        tree = subprocess.run(
            ["git", "write-tree"], cwd=repo, env=env, capture_output=True, text=True, check=True
        ).stdout.strip()
        commit = _git(repo, "commit-tree", tree, "-p", "main", "-m", f"ticks {name}")
        _git(repo, "update-ref", f"refs/heads/specflow/{name}", commit)
    calls: list[list[str]] = []
    real_popen = subprocess.Popen

    class Popen(real_popen):  # type: ignore[misc,valid-type]
        def __init__(self, argv: Any, *a: Any, **kw: Any) -> None:
            calls.append(list(argv))
            super().__init__(argv, *a, **kw)

    monkeypatch.setattr(subprocess, "Popen", Popen)
    res = run_cli(["status"], repo)
    assert res.code == 0, res.stderr
    for name in names:
        assert f"2/2 merged on specflow/{name}, not yet in main" in res.stdout
    gits = [c for c in calls if c and Path(str(c[0])).name == "git"]
    assert len(gits) == 4, gits  # for-each-ref twice, cat-file once, the current branch


def test_a_run_with_nothing_to_do_is_reported_and_not_last(tmp_path: Path) -> None:
    repo = _repo(tmp_path, ["001-one"])
    (tmp_path / "agent.py").write_text(AGENT)
    agent = f"cmd:{sys.executable} {tmp_path / 'agent.py'}"
    first = _sf(repo, "implement", "--agent", agent)
    assert first.returncode == 0, first.stderr
    runs = sorted(p.name for p in (repo / ".specflow" / "runs").iterdir())
    again = _sf(repo, "implement", "--agent", agent)
    assert again.returncode == 0 and "nothing to do" in again.stdout, again.stdout
    assert sorted(p.name for p in (repo / ".specflow" / "runs").iterdir()) == runs
    trace = json.loads(_sf(repo, "trace", "last", "--json").stdout)
    assert trace["run"] == runs[0] and {t["id"] for t in trace["tasks"]} == {"T001", "T002"}
