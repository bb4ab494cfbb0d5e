"""The Executor protocol is all an executor needs: one that knows nothing of the engine (no
agent process, its own commits through engine/attempt.py) runs a whole feature."""

from __future__ import annotations

import threading
from pathlib import Path

from engine_helpers import branch_tasks, git, make_repo

from specflow.engine.attempt import AttemptFailed, AttemptJob, AttemptResult, Emit, commit_work
from specflow.engine.executor import Executor
from specflow.errors import RunFailed
from specflow.project import Project
from specflow.runs.events import read_events
from specflow.stages.implement import ImplementOptions, run_implement

TASKS = """\
# Tasks: calc

- [ ] T001 Create calc/core.py
  - files: calc/core.py
- [ ] T002 Add calc/add.py
  - depends: T001
  - files: calc/add.py
  - verify: test -f calc/add.py
- [ ] T003 Add calc/sub.py
  - depends: T001
  - files: calc/sub.py
"""


class WritingExecutor:
    """Writes one file per task and commits it; fails T003 on purpose."""

    name = "writer"

    def __init__(self) -> None:
        self.jobs: list[tuple[str, int, str]] = []
        self.closed = False

    def capacity(self) -> int | None:
        return 2

    def run_attempt(self, job: AttemptJob, emit: Emit, cancel: threading.Event) -> AttemptResult:
        self.jobs.append((job.task.id, job.attempt, job.base))
        if job.task.id == "T003":
            raise AttemptFailed("agent failed: refused")
        target = job.worktree / job.task.files[0]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f"# {job.task.title}\n")

        def emit_attempt(kind: str, **data: object) -> None:
            emit(kind, attempt=job.attempt, **data)

        emit_attempt("agent_started", agent=self.name)
        emit_attempt("agent_finished", ok=True, steps=0, seconds=0.0)
        commit_work(job.git, job.base, job.message, emit_attempt)
        return AttemptResult(job.attempt)

    def close(self) -> None:
        self.closed = True


def test_an_executor_made_of_the_protocol_alone_runs_a_feature(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, TASKS, {"calc/__init__.py": ""})
    project = Project.discover(repo)
    assert project is not None
    writer = WritingExecutor()
    executor: Executor = writer
    try:
        run_implement(project, ImplementOptions(), executor=executor)
    except RunFailed as err:
        assert "T003" in str(err)
    else:
        raise AssertionError("T003 was to fail")
    assert sorted(branch_tasks(repo, "specflow/001-calc")) == ["T001", "T002"]
    assert git(repo, "show", "specflow/001-calc:calc/add.py") == "# Add calc/add.py"
    assert writer.closed and [j[0] for j in writer.jobs].count("T001") == 1
    events = read_events(next(repo.glob(".specflow/runs/*/events.jsonl")))
    first = events[0]
    assert first["kind"] == "run_started" and first["executor"] == "writer"
    assert first["parallel"] == 2  # from capacity()
    kinds = [(e["kind"], e.get("task")) for e in events]
    assert ("verify_passed", "T002") in kinds  # the engine still verifies what it lands
    assert ("task_failed", "T003") in kinds
