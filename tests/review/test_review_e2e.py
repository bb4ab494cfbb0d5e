"""End to end: the real CLI, a `cmd:` agent, and the reviewer on the stub LLM server (the real
litellm client, prices from litellm's table)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from review_helpers import (
    REVIEWER,
    approve,
    calls_log,
    events_of,
    kinds,
    request_changes,
    trust_repo,
)

from tests.engine.engine_helpers import branch_tasks, cli, git, script_agent
from tests.support.stub_llm import StubLLM

BRANCH = "specflow/001-calc"
TASKS = """# Tasks

- [ ] T001 Division
  - files: calc.py
  - covers: FR-002
  - risk: medium
- [ ] T002 [P] Docs
  - files: docs/calc.md
  - depends: none
  - risk: low
"""
POLICY = f"""[models]
review = "{REVIEWER}"
[policy]
medium = "verify+review"
"""


@pytest.fixture
def stub() -> object:
    with StubLLM() as s:
        yield s


def test_changes_requested_once_then_merged_and_cost_matches_calls(
    tmp_path: Path, stub: StubLLM
) -> None:
    repo = trust_repo(tmp_path, TASKS.replace("  - depends: none\n", ""), toml_extra=POLICY)
    usage1 = {"prompt_tokens": 1200, "completion_tokens": 300}
    usage2 = {"prompt_tokens": 1500, "completion_tokens": 100}
    stub.reply_json(request_changes("raise ZeroDivisionError with a message"), usage=usage1)
    stub.reply_json(approve(), usage=usage2)
    script = {
        "T001": {
            "write": {"calc.py": "def div(a, b):\n    return a / b\n"},
            "attempts": {"2": {"write": {"calc.py": "def div(a, b):\n    return a / b  # ok\n"}}},
        },
        "T002": {"write": {"docs/calc.md": "# calc\n"}},
    }
    p = cli(repo, "implement", "-j", "2", "--agent", script_agent(tmp_path, script), env=stub.env())
    assert p.returncode == 0, p.stderr
    assert sorted(branch_tasks(repo, BRANCH)) == ["T001", "T002"]
    evs = events_of(repo)
    verdicts = kinds(evs, "review_verdict")
    assert [(e["task"], e["decision"]) for e in verdicts] == [
        ("T001", "request_changes"),
        ("T001", "approve"),
    ]
    assert verdicts[0]["findings"][0]["message"] == "raise ZeroDivisionError with a message"
    assert [e["attempt"] for e in kinds(evs, "agent_started") if e["task"] == "T001"] == [1, 2]
    assert not [e for e in kinds(evs, "review_started") if e["task"] == "T002"]  # low: verify
    feedback = next(repo.glob(".specflow/runs/*/tasks/T001/feedback-2.md")).read_text()
    assert "calc.py:1 [major] raise ZeroDivisionError" in feedback
    # the reviewer read the diff, the task and the requirement text from spec.md
    first = stub.requests[0]["messages"][-1]["content"]
    assert "+    return a / b" in first and "FR-002**: The calculator MUST refuse" in first
    assert "previous review" in stub.requests[1]["messages"][-1]["content"]
    assert git(repo, "show", f"{BRANCH}:calc.py").endswith("# ok")
    # spend: `specflow cost` equals the recorded calls, priced by litellm's table
    calls = calls_log(repo)
    assert [c["purpose"] for c in calls] == ["review/T001", "review/T001"]
    logged = sum(c["usage"]["cost_usd"] for c in calls)
    assert logged > 0
    git(repo, "merge", "-q", "--ff-only", BRANCH)  # the record is committed on the branch
    c = cli(repo, "cost", "--json")
    assert c.returncode == 0, c.stderr
    cost = json.loads(c.stdout)
    assert cost["total"]["cost_usd"] == pytest.approx(logged, abs=2e-6)
    assert cost["by_stage"]["review"]["cost_usd"] == pytest.approx(logged, abs=2e-6)
    assert cost["by_stage"]["review"]["prompt_tokens"] == 2700
    assert cost["by_model"][REVIEWER]["completion_tokens"] == 400


def test_review_rejections_are_bounded_and_findings_kept(tmp_path: Path, stub: StubLLM) -> None:
    tasks = "# Tasks\n\n- [ ] T001 Division\n  - files: calc.py\n  - risk: medium\n"
    repo = trust_repo(tmp_path, tasks, toml_extra="review_retries = 0\n" + POLICY)
    stub.reply_json(request_changes("handle b == 0"))
    script = {"T001": {"write": {"calc.py": "def div(a, b):\n    return a / b\n"}}}
    p = cli(repo, "implement", "--agent", script_agent(tmp_path, script), env=stub.env())
    assert p.returncode == 1 and "1 failed (T001)" in p.stderr
    log = cli(repo, "log", "--task", "T001")
    assert "review requested changes 1 times" in log.stdout
    assert "handle b == 0" in log.stdout
    assert branch_tasks(repo, BRANCH) == []


def test_review_without_reviewer_model_is_a_config_error(tmp_path: Path) -> None:
    tasks = "# Tasks\n\n- [ ] T001 Division\n  - files: calc.py\n  - risk: high\n"
    repo = trust_repo(tmp_path, tasks, toml_extra='[policy]\nhigh = "verify+review"\n')
    p = cli(repo, "implement", "--agent", "cmd:true")
    assert p.returncode == 2
    assert "no reviewer model" in p.stderr and "[models].review" in p.stderr
