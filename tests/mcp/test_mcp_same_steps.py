"""complete_task and claim_task take the same steps as `implement`: the branch catches up with
the base, a bugfix's fix task must reproduce the bug, checks run in the project's sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import anyio

from specflow.bugfix.model import BugfixSpec
from specflow.runs.events import read_events
from specflow.stages.bugfix import render_bugfix
from tests.bugfix.test_bugfix import BUG, CART_BUG, CART_FIXED, TEST
from tests.mcp.conftest import BRANCH, FEATURE, PY, connect, git, write_work

WEAK = "from cart import total\n\ndef test_empty():\n    assert total([]) == 0\n"


def session_events(repo: Path) -> list[dict]:
    return [e for f in repo.glob(".specflow/runs/*/events.jsonl") for e in read_events(f)]


def test_a_claim_brings_in_the_base_branchs_new_commits(repo: Path, tmp_path: Path) -> None:
    async def walk() -> None:
        async with connect(repo, tmp_path / "server.err") as c:
            wt = (await c.call("claim_task", feature=FEATURE, task_id="T001"))["worktree"]
            write_work(wt, "T001")
            done = await c.call("complete_task", feature=FEATURE, task_id="T001", summary="x")
            assert done["status"] == "merged"
            # the user goes on on main meanwhile
            (repo / "NOTES.md").write_text("notes\n")
            git(repo, "add", "NOTES.md")
            git(repo, "commit", "-qm", "notes on main")
            claim = await c.call("claim_task", feature=FEATURE, task_id="T002")
            assert (Path(claim["worktree"]) / "NOTES.md").is_file()  # starts from it
            write_work(claim["worktree"], "T002")
            done = await c.call("complete_task", feature=FEATURE, task_id="T002", summary="x")
            assert done["status"] == "merged"

    anyio.run(walk)
    main = git(repo, "rev-parse", "main")
    assert git(repo, "merge-base", "--is-ancestor", main, BRANCH) == ""  # exit 0: taken in
    updated = [e for e in session_events(repo) if e["kind"] == "branch_updated"]
    assert updated and updated[0]["how"] == "merge" and updated[0]["base"] == "main"


def test_a_claim_refuses_a_branch_specflow_did_not_make(repo: Path, tmp_path: Path) -> None:
    """As `implement` does: one line saying what to do; nothing claimed."""
    git(repo, "checkout", "-q", "--orphan", "elsewhere")
    git(repo, "commit", "-qm", "unrelated", "--allow-empty")
    git(repo, "branch", "-f", BRANCH, "elsewhere")
    git(repo, "checkout", "-q", "main")

    async def walk() -> None:
        async with connect(repo, tmp_path / "server.err") as c:
            msg = await c.error("claim_task", feature=FEATURE, task_id="T001")
            assert "no history in common" in msg, msg
            status = await c.call("feature_status", feature=FEATURE)
            assert status["tasks"][0]["state"] != "claimed"

    anyio.run(walk)


def test_checks_run_in_the_projects_sandbox(repo: Path, tmp_path: Path) -> None:
    """`[sandbox] pass_env` lets J19_PROBE into checks, for complete_task as for implement
    (the default sandbox would keep it out and fail the check)."""
    probe = "import os,sys; sys.exit(0 if os.environ.get('J19_PROBE') == 'yes' else 3)"
    toml = repo / "specflow.toml"
    toml.write_text(
        toml.read_text().replace(
            "test_command = ", f"test_command = {json.dumps(f'{PY} -c {json.dumps(probe)}')}\n#"
        )
        + "[sandbox]\npass_env = ['J19_PROBE']\n"
    )
    git(repo, "commit", "-qam", "probe")

    async def walk() -> None:
        async with connect(repo, tmp_path / "server.err", {"J19_PROBE": "yes"}) as c:
            wt = (await c.call("claim_task", feature=FEATURE, task_id="T001"))["worktree"]
            write_work(wt, "T001")
            done = await c.call("complete_task", feature=FEATURE, task_id="T001", summary="x")
            assert done["status"] == "merged", done

    anyio.run(walk)


TASKS = f"""# Tasks: Fix refunds

## Phase 1: Fix

- [ ] T001 Leave refunded lines out of the total
  - files: cart.py, tests/test_refund.py
  - covers: FR-001
  - verify: {PY} -m pytest -q -p no:cacheprovider tests/test_refund.py
"""


def test_a_fix_task_must_reproduce_the_bug(repo: Path, tmp_path: Path) -> None:
    command = f"{PY} -m pytest -q -p no:cacheprovider tests/test_refund.py"
    bug = BugfixSpec.model_validate(
        {**BUG, "reproduction": {"path": "tests/test_refund.py", "command": command}}
    )
    fdir = repo / "specs" / FEATURE
    (fdir / "spec.md").write_text(render_bugfix(bug))
    (fdir / "tasks.md").write_text(TASKS)
    (repo / "cart.py").write_text(CART_BUG)
    (repo / "specflow.toml").write_text("[project]\nname = 'shop'\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "bugfix spec")

    async def walk() -> None:
        async with connect(repo, tmp_path / "server.err") as c:
            wt = (await c.call("claim_task", feature=FEATURE, task_id="T001"))["worktree"]
            write_work(wt, "T001", {"cart.py": CART_FIXED, "tests/test_refund.py": WEAK})
            res = await c.call("complete_task", feature=FEATURE, task_id="T001", summary="x")
            assert res["status"] == "verify_failed", res
            assert "does not reproduce the bug" in res["reason"], res
            write_work(wt, "T001", {"tests/test_refund.py": TEST})
            res = await c.call("complete_task", feature=FEATURE, task_id="T001", summary="x")
            assert res["status"] == "merged", res

    anyio.run(walk)
    assert "def test_refund_left_out" in git(repo, "show", f"{BRANCH}:tests/test_refund.py")
