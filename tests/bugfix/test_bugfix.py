"""`specify --bugfix`: the spec, its task rules, and the reproduction verify hook."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import git, run_cli, snapshot
from tests.support.schema_stub import by_schema
from tests.support.stage_stub import FAST
from tests.support.stub_llm import StubLLM

BUG = {
    "title": "Cart total ignores refunds",
    "summary": "A refunded line still counts in the cart total.",
    "current": ["A cart with a 10.00 line refunded shows a total of 10.00"],
    "steps": ["Add a 10.00 item", "Refund it", "Read the total"],
    "expected": [{"id": "FR-001", "text": "System MUST leave refunded lines out of the total."}],
    "unchanged": [
        {"id": "FR-002", "text": "System MUST show the total of a cart with no refunds."},
        {"id": "FR-003", "text": "System MUST show 0.00 for an empty cart."},
    ],
    "reproduction": {
        "path": "tests/test_refund.py",
        "command": "python -m pytest tests/test_refund.py -q",
    },
    "success_criteria": [{"id": "SC-001", "text": "100% of carts with refunds total correctly."}],
}
PLAN = {"title": "Fix refunds in totals", "summary": "Skip refunded lines in total()."}


def task(tid: str, covers: list[str], files: list[str], verify: str | None = None) -> dict:
    return {
        "id": tid,
        "title": f"Task {tid}",
        "parallel": False,
        "story": None,
        "depends": [],
        "files": files,
        "covers": covers,
        "verify": verify,
        "risk": "low",
    }


def tasks(*items: dict) -> dict:
    return {"title": "Fix refunds", "phases": [{"title": "Fix", "tasks": list(items)}]}


GOOD_TASKS = tasks(
    task("T001", ["FR-002"], ["tests/test_totals.py"], "python -m pytest tests/test_totals.py"),
    task("T002", ["FR-003"], ["tests/test_empty.py"], "python -m pytest tests/test_empty.py"),
    task(
        "T003",
        ["FR-001"],
        ["cart.py", "tests/test_refund.py"],
        "python -m pytest tests/test_refund.py -q",
    ),
)


@pytest.fixture
def proj(project: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    cfg = project / "specflow.toml"
    cfg.write_text(cfg.read_text() + FAST)
    with StubLLM() as server:
        for k, v in server.env().items():
            monkeypatch.setenv(k, v)
        yield project, server


def m(*args: str) -> list[str]:
    return [*args, "-m", "openai/stub"]


def test_bugfix_spec_sections_and_check(proj: Any) -> None:
    root, stub = proj
    stub.default_reply = by_schema({"BugfixSpec": BUG})
    res = run_cli(m("specify", "--bugfix", "Refunded lines still count in the total"), root)
    assert res.code == 0, res.stderr
    spec = next((root / "specs").glob("001-fix-cart-total-ignores-refunds")) / "spec.md"
    body = spec.read_text()
    for section in ("## Current Behaviour", "## Expected Behaviour", "## Unchanged Behaviour"):
        assert section in body
    assert "- **Test**: `tests/test_refund.py`" in body
    assert run_cli(["check"], root).code == 0
    lint = json.loads(run_cli(["lint", "--json"], root).stdout)
    assert lint["findings"] == []


def test_tasks_need_regression_tasks_and_the_reproducing_test(proj: Any) -> None:
    root, stub = proj
    bad = tasks(task("T001", ["FR-001", "FR-002", "FR-003"], ["cart.py"], "python -m pytest"))
    answers: dict[str, Any] = {"BugfixSpec": BUG, "Plan": PLAN, "TaskList": bad}
    stub.default_reply = by_schema(answers)
    assert run_cli(m("specify", "--bugfix", "Refunds still count"), root).code == 0
    assert run_cli(m("plan"), root).code == 0
    before = snapshot(root)
    res = run_cli(m("tasks"), root)
    assert res.code == 1 and "regression task" in res.stderr
    assert snapshot(root) == before
    repair = stub.requests[-1]["messages"][-1]["content"]
    assert "FR-002 needs its own regression task" in repair
    assert "must list the reproducing test tests/test_refund.py" in repair
    answers["TaskList"] = GOOD_TASKS
    res = run_cli(m("tasks"), root)
    assert res.code == 0, res.stderr
    assert run_cli(["check"], root).code == 0


# -- the verify hook, on a real repository ----------------------------------------------

CART_BUG = "def total(lines):\n    return sum(price for price, refunded in lines)\n"
CART_FIXED = (
    "def total(lines):\n    return sum(price for price, refunded in lines if not refunded)\n"
)
TEST = (
    "from cart import total\n\n"
    "def test_refund_left_out():\n    assert total([(10, True), (5, False)]) == 5\n"
)


def _repo(tmp_path: Path, fix: str, test: str = TEST) -> tuple[Path, str, str]:
    repo = tmp_path / "shop"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "cart.py").write_text(CART_BUG)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    base = git(repo, "rev-parse", "HEAD").strip()
    (repo / "cart.py").write_text(fix)
    (repo / "tests").mkdir()
    (repo / "tests" / "test_refund.py").write_text(test)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "fix")
    return repo, base, git(repo, "rev-parse", "HEAD").strip()


COMMAND = f"{sys.executable} -m pytest -q -p no:cacheprovider tests/test_refund.py"


def test_reproduction_fails_on_base_and_passes_with_fix(tmp_path: Path) -> None:
    from specflow.engine.reproduce import check_reproduction
    from specflow.workspace.git import Git

    repo, base, fixed = _repo(tmp_path, CART_FIXED)
    result = check_reproduction(Git(repo), base, fixed, ["tests/test_refund.py"], COMMAND)
    assert result.ok and result.failed_on_base and result.passed_with_fix, result.reason
    assert "assert 10 == 5" in result.base_output or "AssertionError" in result.base_output
    assert git(repo, "worktree", "list").count("\n") == 1  # the throwaway worktree is gone
    assert git(repo, "status", "--porcelain") == ""


def test_a_test_that_passes_on_base_does_not_reproduce(tmp_path: Path) -> None:
    from specflow.engine.reproduce import check_reproduction
    from specflow.workspace.git import Git

    weak = "from cart import total\n\ndef test_empty():\n    assert total([]) == 0\n"
    repo, base, fixed = _repo(tmp_path, CART_FIXED, weak)
    result = check_reproduction(Git(repo), base, fixed, ["tests/test_refund.py"], COMMAND)
    assert not result.ok and not result.failed_on_base
    assert "does not reproduce the bug" in result.reason


def test_a_fix_that_does_not_fix_fails(tmp_path: Path) -> None:
    from specflow.engine.reproduce import check_reproduction
    from specflow.workspace.git import Git

    repo, base, fixed = _repo(tmp_path, CART_BUG + "# touched\n")
    result = check_reproduction(Git(repo), base, fixed, ["tests/test_refund.py"], COMMAND)
    assert not result.ok and result.failed_on_base and not result.passed_with_fix
    assert "fails with the fix" in result.reason
