"""The reproduction check inside `implement`: a fix task's test must fail on the base commit."""

from __future__ import annotations

from pathlib import Path

from specflow.bugfix.model import BugfixSpec
from specflow.stages.bugfix import render_bugfix
from tests.bugfix.test_bugfix import BUG, CART_BUG, CART_FIXED, TEST
from tests.engine.engine_helpers import PY, cli, git, make_repo, script_agent

COMMAND = f"{PY} -m pytest -q -p no:cacheprovider tests/test_refund.py"
WEAK = "from cart import total\n\ndef test_empty():\n    assert total([]) == 0\n"
TASKS = f"""# Tasks: Fix refunds

## Phase 1: Fix

- [ ] T001 Guard totals without refunds
  - files: tests/test_totals.py
  - covers: FR-002, FR-003
- [ ] T002 Leave refunded lines out of the total
  - depends: T001
  - files: cart.py, tests/test_refund.py
  - covers: FR-001
  - verify: {COMMAND}
"""


def test_fix_task_must_reproduce_the_bug(tmp_path: Path) -> None:
    bug = BugfixSpec.model_validate(
        {**BUG, "reproduction": {"path": "tests/test_refund.py", "command": COMMAND}}
    )
    repo = make_repo(tmp_path, TASKS, {"cart.py": CART_BUG}, feature="001-fix-refunds")
    (repo / "specs" / "001-fix-refunds" / "spec.md").write_text(render_bugfix(bug))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "bugfix spec")
    totals = "from cart import total\n\ndef test_plain():\n    assert total([(3, False)]) == 3\n"
    script = {
        "T001": {"write": {"tests/test_totals.py": totals}},
        # attempt 1: a test that passes with or without the fix; attempt 2: the real one
        "T002": {
            "write": {"cart.py": CART_FIXED, "tests/test_refund.py": WEAK},
            "attempts": {"2": {"write": {"cart.py": CART_FIXED, "tests/test_refund.py": TEST}}},
        },
    }
    p = cli(repo, "implement", "--agent", script_agent(tmp_path, script), timeout=240)
    assert p.returncode == 0, p.stdout + p.stderr
    feedback = next((repo / ".specflow" / "runs").glob("*/tasks/T002/feedback-2.md")).read_text()
    assert "passes on the base commit: the test does not reproduce the bug" in feedback
    log = cli(repo, "log", "--task", "T002").stdout
    assert "verify failed: `" in log and "does not reproduce the bug" in log
    assert "def test_refund_left_out" in git(
        repo, "show", "specflow/001-fix-refunds:tests/test_refund.py"
    )
    # T001 (a regression task) is not held to reproduction: one attempt
    assert not list((repo / ".specflow" / "runs").glob("*/tasks/T001/feedback-2.md"))
