"""A real MCP client session over stdio walks a feature from next_task to done."""

from __future__ import annotations

from pathlib import Path

import anyio

from tests.mcp.conftest import BRANCH, FEATURE, WORK, branch_tasks, connect, git, write_work

TOOLS = {
    "list_features",
    "feature_status",
    "read_artifact",
    "run_stage",
    "next_task",
    "claim_task",
    "complete_task",
    "fail_task",
    "run_log",
}


def test_walk_feature_to_done(repo: Path, tmp_path: Path) -> None:
    anyio.run(_walk, repo, tmp_path / "server.err")
    assert branch_tasks(repo) == ["T001", "T002", "T003", "T004"]
    subjects = git(repo, "log", "--format=%s", f"main..{BRANCH}").splitlines()
    assert len(subjects) == 5 and subjects[0].startswith("specflow: run record")
    body = git(repo, "log", "-1", "--format=%B", f"{BRANCH}~1")
    assert "Specflow-Task: T004" in body and "Specflow-Feature: 001-calc" in body
    assert "power by repeated mul" in body  # the client's summary is in the commit
    tasks_md = git(repo, "show", f"{BRANCH}:specs/{FEATURE}/tasks.md")
    assert tasks_md.count("- [x] T") == 4 and "- [ ]" not in tasks_md
    # the user's checkout is untouched; merged task branches are gone
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert git(repo, "status", "--porcelain") == ""
    assert "specflow-task/" not in git(repo, "branch", "--list")


async def _walk(repo: Path, errlog: Path) -> None:
    async with connect(repo, errlog) as c:
        tools = await c.session.list_tools()
        assert {t.name for t in tools.tools} == TOOLS

        features = (await c.call("list_features"))["features"]
        assert [f["feature"] for f in features] == [FEATURE]
        assert features[0]["tasks_total"] == 4 and features[0]["tasks_done"] == 0
        art = await c.call("read_artifact", feature="1", kind="tasks")
        assert "T004" in art["text"] and art["state"] == "hand-written"

        resources = {str(r.uri) for r in (await c.session.list_resources()).resources}
        assert f"specflow://features/{FEATURE}/tasks" in resources
        assert f"specflow://features/{FEATURE}/spec" in resources
        read = await c.session.read_resource(f"specflow://features/{FEATURE}/spec")
        assert "FR-001" in read.contents[0].text

        # out of order and bad ids: one-line tool errors saying what to do
        assert "no feature matches 'nope'" in await c.error("next_task", feature="nope")
        assert "no task T999" in await c.error("claim_task", feature=FEATURE, task_id="T999")
        msg = await c.error("claim_task", feature=FEATURE, task_id="T004")
        assert "depends on T002, T003, not merged yet" in msg
        msg = await c.error("complete_task", feature=FEATURE, task_id="T001", summary="x")
        assert "T001 is not claimed" in msg and "claim_task first" in msg
        assert "unknown artifact kind" in await c.error("read_artifact", feature="1", kind="x")

        # T001
        nxt = await c.call("next_task", feature=FEATURE)
        assert nxt["task"] == "T001" and "# Task T001" in nxt["brief"]
        claim = await c.call("claim_task", feature=FEATURE, task_id="t001")
        wt = claim["worktree"]
        assert claim["branch"] == f"specflow-task/{FEATURE}/T001" and Path(wt).is_dir()
        msg = await c.error("claim_task", feature=FEATURE, task_id="T001")
        assert "already claimed by this session" in msg and wt in msg
        msg = await c.error("complete_task", feature=FEATURE, task_id="T001", summary="x")
        assert "no changes in" in msg and "then call complete_task again" in msg
        write_work(wt, "T001")
        done = await c.call("complete_task", feature=FEATURE, task_id="T001", summary="package")
        assert done["status"] == "merged" and done["remaining"] == ["T002", "T003", "T004"]
        assert "already merged" in await c.error("claim_task", feature=FEATURE, task_id="T001")

        # T002 and T003 claimed side by side; T002 first fails its verify, then is fixed
        nxt = await c.call("next_task", feature=FEATURE)
        assert nxt["task"] == "T002" and nxt["also_ready"] == ["T003"]
        wt2 = (await c.call("claim_task", feature=FEATURE, task_id="T002"))["worktree"]
        wt3 = (await c.call("claim_task", feature=FEATURE, task_id="T003"))["worktree"]
        assert wt2 != wt3
        assert (await c.call("next_task", feature=FEATURE))["task"] is None
        write_work(wt2, "T002", {"calc/add.py": "def add(a, b):\n    return a - b\n"})
        bad = await c.call("complete_task", feature=FEATURE, task_id="T002", summary="add")
        assert bad["status"] == "verify_failed" and "AssertionError: -1" in bad["output"]
        assert "call complete_task again" in bad["next"]
        status = await c.call("feature_status", feature=FEATURE)
        states = {t["id"]: t["state"] for t in status["tasks"]}
        assert states == {"T001": "merged", "T002": "claimed", "T003": "claimed", "T004": "waiting"}
        write_work(wt2, "T002", {**WORK["T002"], "NOTES.md": "add\n"})
        done = await c.call("complete_task", feature=FEATURE, task_id="T002")
        assert done["status"] == "merged"
        # T003 also wrote NOTES.md, which T002 merged meanwhile (neither named it): a conflict
        write_work(wt3, "T003", {**WORK["T003"], "NOTES.md": "mul\n"})
        clash = await c.call("complete_task", feature=FEATURE, task_id="T003")
        assert clash["status"] == "conflict" and clash["files"] == ["NOTES.md"]
        assert "+mul" in clash["output"] and "redo the change" in clash["next"]
        assert (Path(wt3) / "NOTES.md").read_text() == "add\n"  # the worktree is at the tip
        write_work(wt3, "T003")  # redone on the new tip: verified, merged
        done = await c.call("complete_task", feature=FEATURE, task_id="T003")
        assert done["status"] == "merged"

        # T004, then nothing is left
        nxt = await c.call("next_task", feature=FEATURE)
        claim = await c.call("claim_task", feature=FEATURE, task_id=nxt["task"])
        assert claim["task"] == "T004"
        write_work(claim["worktree"], "T004")
        done = await c.call(
            "complete_task", feature=FEATURE, task_id="T004", summary="power by repeated mul"
        )
        assert done["status"] == "merged" and done["feature_done"] is True
        nxt = await c.call("next_task", feature=FEATURE)
        assert nxt["task"] is None and "all 4 tasks are merged" in nxt["why"]

        log = (await c.call("run_log", feature=FEATURE))["log"]
        assert "verify failed" in log and "T004  merged" in log
        log = (await c.call("run_log", feature=FEATURE, task="T002"))["log"]
        assert "AssertionError" in log and "T003" not in log
