"""End to end: the real CLI on real git repositories with fake agent programs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from engine_graphs import BASE_FILES, DAG12, dag12_script
from engine_helpers import PY, branch_tasks, cli, git, make_repo, script_agent

from specflow.runs.events import read_events

BRANCH = "specflow/001-calc"
ALL12 = [f"T{i:03d}" for i in range(1, 13)]


def events_of(repo: Path) -> list[dict[str, object]]:
    runs = sorted((repo / ".specflow" / "runs").iterdir())
    return [e for r in runs for e in read_events(r / "events.jsonl")]


def test_dag_lands_every_task_as_its_own_commit(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, DAG12, BASE_FILES, test_command=f"{PY} -m unittest -q")
    agent = script_agent(tmp_path, dag12_script(0.2))
    p = cli(repo, "implement", "-j", "3", "--agent", agent)
    assert p.returncode == 0, p.stderr
    assert "all 12 tasks merged" in p.stdout
    assert sorted(branch_tasks(repo, BRANCH)) == ALL12  # each exactly once
    # one commit per task, plus the run record; nothing else
    subjects = git(repo, "log", "--format=%s", f"main..{BRANCH}").splitlines()
    assert len(subjects) == 13 and subjects[0].startswith("specflow: run record")
    tasks_md = git(repo, "show", f"{BRANCH}:specs/001-calc/tasks.md")
    assert tasks_md.count("- [x] T") == 12 and "- [ ]" not in tasks_md
    runs = git(repo, "ls-tree", "--name-only", f"{BRANCH}:specs/001-calc/runs")
    record = json.loads(git(repo, "show", f"{BRANCH}:specs/001-calc/runs/{runs.splitlines()[0]}"))
    assert record["status"] == "ok" and set(record["tasks"]) == set(ALL12)
    # the repository's tests pass on the integration branch
    check = tmp_path / "check"
    git(repo, "worktree", "add", "-q", str(check), BRANCH)
    test = subprocess.run([PY, "-m", "unittest", "-q"], cwd=check, capture_output=True, text=True)
    assert test.returncode == 0 and "Ran 8 tests" in test.stderr, test.stderr
    # the user's checkout was never touched
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert git(repo, "status", "--porcelain") == ""
    assert "specflow-task/" not in git(repo, "branch", "--list")  # merged task branches removed
    # shared files: T002, T005, T009 (calc/core.py) never overlapped
    spans: dict[str, list[float]] = {}
    for ev in events_of(repo):
        if ev["kind"] in ("task_started", "task_merged"):
            spans.setdefault(str(ev["task"]), []).append(float(ev["t"]))  # type: ignore[arg-type]
    core = sorted(spans[t] for t in ("T002", "T005", "T009"))
    assert all(a[1] <= b[0] for a, b in zip(core, core[1:]))
    log = cli(repo, "log", "--task", "T005")
    assert log.returncode == 0 and "merged" in log.stdout and "T005: done" in log.stdout


def test_failed_task_blocks_only_its_dependents_then_resume(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, DAG12, BASE_FILES, test_command=f"{PY} -m unittest -q")
    calls = tmp_path / "calls.log"
    flag = tmp_path / "fixed"
    script = dag12_script(0.05, log=str(calls))
    script["T004"]["fail_unless"] = str(flag)  # type: ignore[index]
    agent = script_agent(tmp_path, script)
    p = cli(repo, "implement", "-j", "4", "--agent", agent, "--json")
    assert p.returncode == 1, p.stderr
    assert "1 failed (T004)" in p.stderr
    report = json.loads(p.stdout)
    assert report["tasks"]["T004"]["status"] == "failed"
    assert report["tasks"]["T006"] == {
        **report["tasks"]["T006"],
        "status": "blocked",
        "blocked_by": "T004",
    }
    blocked = ["T006", "T008", "T010", "T011", "T012"]
    assert f"5 blocked ({', '.join(blocked)})" in p.stderr
    assert "T006 blocked by T004" in p.stderr
    assert sorted(branch_tasks(repo, BRANCH)) == ["T001", "T002", "T003", "T005", "T007", "T009"]
    flag.write_text("ok")
    calls.write_text("")
    p = cli(repo, "implement", "--resume")
    assert p.returncode == 0, p.stderr
    ran = sorted({ln.split()[0] for ln in calls.read_text().splitlines()})
    assert ran == ["T004", *blocked]
    assert sorted(branch_tasks(repo, BRANCH)) == ALL12
    p = cli(repo, "implement", "--resume")  # nothing left: a no-op
    assert p.returncode == 0 and calls.read_text().count("\n") == 6


def test_merge_conflict_goes_back_to_the_agent(tmp_path: Path) -> None:
    # No files declared or named: the tasks run at once and collide in notes.txt.
    tasks = "# Tasks\n\n- [ ] T001 [P] First note\n- [ ] T002 [P] Second note\n"
    repo = make_repo(tmp_path, tasks, {"notes.txt": "notes\n"})
    script = {
        "default": {"sleep": 0.1, "append": {"notes.txt": "{task}"}},
        "T002": {"sleep": 0.5, "attempts": {"2": {"sleep": 0.0}}},
    }
    p = cli(repo, "implement", "-j", "2", "--agent", script_agent(tmp_path, script))
    assert p.returncode == 0, p.stderr
    evs = events_of(repo)
    conflicts = [e for e in evs if e["kind"] == "merge_conflict"]
    assert [(e["task"], e["files"]) for e in conflicts] == [("T002", ["notes.txt"])]
    assert any(e["kind"] == "agent_started" and e["attempt"] == 2 for e in evs)
    feedback = next(repo.glob(".specflow/runs/*/tasks/T002/feedback-2.md")).read_text()
    assert "notes.txt" in feedback and "+T002" in feedback  # the conflict and the old diff
    assert git(repo, "show", f"{BRANCH}:notes.txt").splitlines() == ["notes", "T001", "T002"]
    assert sorted(branch_tasks(repo, BRANCH)) == ["T001", "T002"]


def test_merge_conflict_retries_are_bounded(tmp_path: Path) -> None:
    tasks = "# Tasks\n\n- [ ] T001 [P] First note\n- [ ] T002 [P] Second note\n"
    repo = make_repo(tmp_path, tasks, {"notes.txt": "notes\n"}, conflict_retries=0)
    script = {"default": {"sleep": 0.1, "append": {"notes.txt": "{task}"}}, "T002": {"sleep": 0.5}}
    p = cli(repo, "implement", "-j", "2", "--agent", script_agent(tmp_path, script))
    assert p.returncode == 1 and "1 failed (T002)" in p.stderr
    log = cli(repo, "log", "--task", "T002")
    assert "merge conflict in notes.txt" in log.stdout
    assert branch_tasks(repo, BRANCH) == ["T001"]


def test_verify_failure_feedback_then_success(tmp_path: Path) -> None:
    tasks = "# Tasks\n\n- [ ] T001 Add calc.py\n  - files: calc.py\n  - verify: python3 -c 'import calc; assert calc.X == 2'\n"
    repo = make_repo(tmp_path, tasks, {"README.md": "x\n"})
    script = {
        "T001": {
            "write": {"calc.py": "X = 1\n"},
            "attempts": {"2": {"write": {"calc.py": "X = 2\n"}}},
        }
    }
    p = cli(repo, "implement", "--agent", script_agent(tmp_path, script))
    assert p.returncode == 0, p.stderr
    assert git(repo, "show", f"{BRANCH}:calc.py") == "X = 2"
    assert (
        len(git(repo, "log", "--format=%H", f"main..{BRANCH}").splitlines()) == 2
    )  # task + record
    briefs = list((repo / ".specflow" / "runs").glob("*/tasks/T001/feedback-2.md"))
    assert briefs and "AssertionError" in briefs[0].read_text()
    log = cli(repo, "log", "--task", "T001")
    assert "verify failed" in log.stdout and "AssertionError" in log.stdout


def test_no_changes_fails_and_agent_commits_are_squashed(tmp_path: Path) -> None:
    tasks = "# Tasks\n\n- [ ] T001 [P] Nothing to do\n- [ ] T002 [P] Commit on your own\n- [ ] T003 [P] Write outside\n"
    repo = make_repo(tmp_path, tasks, {"README.md": "x\n"})
    outside = tmp_path / "outside.txt"
    script = {
        "T002": {"write": {"a.txt": "a\n"}, "commit": True},
        "T003": {"write": {"b.txt": "b\n"}, "outside": str(outside)},
    }
    p = cli(repo, "implement", "-j", "3", "--agent", script_agent(tmp_path, script))
    assert p.returncode == 1 and "T001" in p.stderr
    log = cli(repo, "log", "--task", "T001")
    assert "agent made no changes" in log.stdout
    assert sorted(branch_tasks(repo, BRANCH)) == ["T002", "T003"]
    subjects = git(repo, "log", "--format=%s", f"main..{BRANCH}").splitlines()
    assert "agent T002" not in subjects and "Commit on your own" in subjects
    assert outside.exists() and "outside.txt" not in git(
        repo, "ls-tree", "-r", "--name-only", BRANCH
    )


def test_dry_run_only_and_from(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, DAG12, BASE_FILES)
    p = cli(repo, "implement", "--dry-run")
    assert p.returncode == 0, p.stderr
    assert "wave 1: T001" in p.stdout and "wave 2: T002, T003, T004, T005" in p.stdout
    p = cli(repo, "implement", "--only", "T004", "--agent", "cmd:true")
    assert p.returncode == 2 and "T004 needs T001" in p.stderr
    p = cli(repo, "implement", "--from", "Polish", "--dry-run")
    assert p.returncode == 0 and "wave 1: T009" in p.stdout and "not selected: T001" in p.stdout
    p = cli(repo, "implement", "--from", "9", "--dry-run")
    assert p.returncode == 2 and "no phase" in p.stderr
    script = {"default": {"write": {"{task}.txt": "x"}}, "T001": {"write": {"one.txt": "1"}}}
    p = cli(repo, "implement", "--only", "T001", "--agent", script_agent(tmp_path, script))
    assert p.returncode == 0, p.stderr
    assert branch_tasks(repo, BRANCH) == ["T001"]
    p = cli(repo, "implement", "--only", "T004", "--dry-run")
    assert p.returncode == 0 and "wave 1: T004" in p.stdout


def test_uncommitted_front_matter_tasks_md(tmp_path: Path) -> None:
    tasks = (
        "---\nspecflow:\n  artifact: tasks\n  version: 1\n---\n\n# Tasks\n\n"
        "- [ ] T001 Write hello.txt\n- [ ] T002 Write bye.txt\n"
    )
    repo = make_repo(tmp_path, "# placeholder\n", {"README.md": "x\n"})
    (repo / "specs" / "001-calc" / "tasks.md").write_text(tasks)  # edited, not committed
    script = {"T001": {"write": {"hello.txt": "hi\n"}}, "T002": {"write": {"bye.txt": "bye\n"}}}
    p = cli(repo, "implement", "--agent", script_agent(tmp_path, script))
    assert p.returncode == 0, p.stderr
    md = git(repo, "show", f"{BRANCH}:specs/001-calc/tasks.md")
    assert md.startswith("---\nspecflow:") and "- [x] T001" in md and "- [x] T002" in md
    assert git(repo, "status", "--porcelain") == "M specs/001-calc/tasks.md"


def test_merged_means_this_features_commits_and_noop_resume(tmp_path: Path) -> None:
    tasks = "# Tasks\n\n- [ ] T001 Write one.txt\n"
    repo = make_repo(tmp_path, tasks, {"README.md": "x\n"})
    script = {"default": {"append": {"log.txt": "{task}"}}}
    agent = script_agent(tmp_path, script)
    p = cli(repo, "implement", "--resume", "--agent", agent)  # no run yet: starts one
    assert p.returncode == 0, p.stderr
    tip = git(repo, "rev-parse", BRANCH)
    p = cli(repo, "implement", "--resume")
    assert p.returncode == 0 and "nothing to do" in p.stdout
    assert git(repo, "rev-parse", BRANCH) == tip  # a no-op leaves the branch alone
    git(repo, "checkout", "-q", BRANCH)  # the user looks at the result in their checkout
    p = cli(repo, "implement", "--resume")
    assert p.returncode == 2 and "specflow/001-calc is checked out in" in p.stderr
    git(repo, "checkout", "-q", "main")
    # Feature 001 lands on main; feature 002 also has a T001, which is not merged yet.
    git(repo, "merge", "-q", "--ff-only", BRANCH)
    other = repo / "specs" / "002-other"
    other.mkdir()
    (other / "tasks.md").write_text("# Tasks\n\n- [ ] T001 Write two.txt\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "feature 2")
    p = cli(repo, "implement", "002", "--agent", agent)
    assert p.returncode == 0, p.stderr
    assert "all 1 tasks merged" in p.stdout
    assert "Specflow-Feature: 002-other" in git(repo, "log", "-1", "specflow/002-other~1")
