"""Claims across clients and restarts, fail_task, and the lock shared with `specflow implement`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import anyio

from specflow.runs.events import read_events
from specflow.runs.state import FeatureLock
from tests.mcp.conftest import (
    BRANCH,
    FEATURE,
    PY,
    ROOT,
    branch_tasks,
    connect,
    git,
    write_work,
)


def implement(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "-m", "specflow", "implement", FEATURE, "--agent", "cmd:true"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"},
    )


def test_claims_survive_restart_and_exclude_other_clients(repo: Path, tmp_path: Path) -> None:
    errlog = tmp_path / "server.err"

    async def first_sessions() -> str:
        async with connect(repo, errlog) as a, connect(repo, errlog) as b:
            wt = (await a.call("claim_task", feature=FEATURE, task_id="T001"))["worktree"]
            write_work(wt, "T001")
            msg = await b.error("claim_task", feature=FEATURE, task_id="T001")
            assert "already claimed by another MCP session" in msg
            msg = await b.error("complete_task", feature=FEATURE, task_id="T001")
            assert "claimed by another MCP session" in msg and "next_task" in msg
            nxt = await b.call("next_task", feature=FEATURE)
            assert nxt["task"] is None and "T001 by another MCP session" in nxt["why"]
            # while a session holds claims, `specflow implement` refuses the feature
            p = await anyio.to_thread.run_sync(implement, repo)
            assert p.returncode == 2 and "already being implemented by run mcp:" in p.stderr
            return str(wt)

    wt = anyio.run(first_sessions)

    async def after_restart() -> None:
        async with connect(repo, errlog, elsewhere=True) as c:
            status = await c.call("feature_status", feature=FEATURE)
            t1 = status["tasks"][0]
            assert t1["state"] == "claimed" and "stopped session" in t1["claimed_by"]
            # the claim (and the edits in its worktree) survived: adopt it and finish
            claim = await c.call("claim_task", feature=FEATURE, task_id="T001")
            assert claim["adopted"] is True and claim["worktree"] == wt
            done = await c.call("complete_task", feature=FEATURE, task_id="T001")
            assert done["status"] == "merged"

            # fail_task releases the claim and blocks the dependents
            await c.call("claim_task", feature=FEATURE, task_id="T002")
            msg = await c.error("fail_task", feature=FEATURE, task_id="T003", reason="x")
            assert "T003 is not claimed" in msg
            failed = await c.call("fail_task", feature=FEATURE, task_id="T002", reason="no idea")
            assert failed["status"] == "failed" and failed["blocked"] == ["T004"]
            msg = await c.error("claim_task", feature=FEATURE, task_id="T004")
            assert "T004 is blocked: T002 failed" in msg and "claim T002 again" in msg
            nxt = await c.call("next_task", feature=FEATURE)
            assert nxt["task"] == "T003"
            # with no claim left, the lock is free again for `specflow implement` ...
            lock = FeatureLock(repo / ".specflow", FEATURE)
            lock.acquire("run-x")
            try:  # ... and while implement holds it, claims are refused
                msg = await c.error("claim_task", feature=FEATURE, task_id="T003")
                assert "being implemented by 'specflow implement' run run-x" in msg
            finally:
                lock.release()
            # a failed task can be claimed again (retry), which unblocks its dependents
            wt2 = (await c.call("claim_task", feature=FEATURE, task_id="T002"))["worktree"]
            write_work(wt2, "T002")
            assert (await c.call("complete_task", feature=FEATURE, task_id="T002"))["status"] == (
                "merged"
            )
            status = await c.call("feature_status", feature=FEATURE)
            assert {t["id"]: t["state"] for t in status["tasks"]}["T004"] == "waiting"

            # git is the truth: T003 lands behind the log's back (a server killed right after
            # landing); its claim is closed, and T004 becomes ready
            await c.call("claim_task", feature=FEATURE, task_id="T003")
            land_behind_the_back(repo, "T003")
            msg = await c.error("complete_task", feature=FEATURE, task_id="T003")
            assert "T003 is already merged" in msg
            assert (await c.call("claim_task", feature=FEATURE, task_id="T004"))["task"] == "T004"
            status = await c.call("feature_status", feature=FEATURE)
            states = {t["id"]: t["state"] for t in status["tasks"]}
            assert states == {
                "T001": "merged",
                "T002": "merged",
                "T003": "merged",
                "T004": "claimed",
            }

    anyio.run(after_restart)
    assert branch_tasks(repo) == ["T001", "T002", "T003"]
    events = [
        e for r in (repo / ".specflow" / "runs").iterdir() for e in read_events(r / "events.jsonl")
    ]
    healed = [e for e in events if e["kind"] == "task_merged" and e["task"] == "T003"]
    assert healed and healed[0]["reason"] == "found merged on the branch"


def land_behind_the_back(repo: Path, task: str) -> None:
    tip = git(repo, "rev-parse", BRANCH)
    msg = f"{task} by hand\n\nSpecflow-Task: {task}\nSpecflow-Feature: {FEATURE}\n"
    tree = git(repo, "rev-parse", f"{tip}^{{tree}}")
    commit = git(repo, "commit-tree", tree, "-p", tip, "-m", msg)
    git(repo, "update-ref", f"refs/heads/{BRANCH}", commit, tip)
