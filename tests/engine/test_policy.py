"""Trust policy: risk inference, gates per risk, vendors, routing and escalation, approvals."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_helpers import PY, branch_tasks, cli, make_repo, script_agent

from specflow.config import Config, PolicySection
from specflow.domain.tasks import Task
from specflow.engine.approvals import approval_for, read_approvals, record_approval
from specflow.engine.risk import gates_for, infer_risk, with_inferred_risks
from specflow.engine.routing import ModelRouter, vendor_of
from specflow.errors import ConfigError
from specflow.runs.events import read_events


@pytest.mark.parametrize(
    ("files", "risk"),
    [
        (["tests/test_calc.py"], "low"),
        (["docs/guide.md", "README.md"], "low"),
        (["calc/core.py", "tests/test_core.py"], "medium"),
        ([], "medium"),
        (["db/migrations/0003_users.py"], "high"),
        (["src/auth/session.py"], "high"),
        (["app/user_auth.py"], "high"),
        (["api/routes.py"], "high"),
        (["openapi.yaml"], "high"),
        (["src/tokenizer.py"], "medium"),
    ],
)
def test_infer_risk_from_files(files: list[str], risk: str) -> None:
    assert infer_risk(files) == risk


def test_risk_sub_bullet_beats_inference_and_defaults_keep_verify_only() -> None:
    policy = PolicySection(infer_risk=True)
    t = Task(id="T001", title="x", files=["src/auth/login.py"])
    assert gates_for(t, policy).describe() == "verify+approve"
    # by default a task list without `risk:` (hand-written, imported) never waits for approval
    assert gates_for(t, PolicySection()).describe() == "verify"
    low = Task(id="T002", title="x", files=["src/auth/login.py"], risk="low")
    assert gates_for(low, policy).describe() == "verify"
    medium = Task(id="T003", title="x", files=["calc.py"])
    assert gates_for(medium, policy).describe() == "verify"  # today's behaviour by default
    assert gates_for(t, PolicySection(infer_risk=False)).risk == "medium"
    strict = PolicySection(medium="review+verify", high="verify+review+approve")
    assert strict.medium == "verify+review"
    assert gates_for(medium, strict).review and not gates_for(medium, strict).approve
    with pytest.raises(ValueError):
        PolicySection(low="review")  # verify is always a gate


def test_unknown_gate_in_specflow_toml_is_a_config_error(tmp_path: Path) -> None:
    from specflow.config import parse_config

    with pytest.raises(ConfigError, match="policy.high"):
        parse_config('[policy]\nhigh = "verify+pray"\n', tmp_path / "specflow.toml")
    cfg = parse_config(
        '[policy]\nmedium = "verify+review"\n[budget]\nmax_cost_usd = 2.5\n'
        "[implement]\nreview_retries = 3\n",
        tmp_path / "specflow.toml",
    )
    assert cfg.policy.gates("medium") == {"verify", "review"}
    assert cfg.budget.max_cost_usd == 2.5 and cfg.implement.review_retries == 3
    assert Config().policy.gates("high") == {"verify", "approve"}


def test_tasks_stage_fills_in_missing_risks() -> None:
    from specflow.domain.tasks import Phase, TaskList

    tl = TaskList(
        title="t",
        phases=[
            Phase(
                title="p",
                tasks=[
                    Task(id="T001", title="a", files=["tests/test_a.py"]),
                    Task(id="T002", title="b", files=["tests/test_b.py"], risk="high"),
                ],
            )
        ],
    )
    out = with_inferred_risks(tl)
    assert [t.risk for t in out.all_tasks()] == ["low", "high"]


@pytest.mark.parametrize(
    ("model", "vendor"),
    [
        ("openai/gpt-4o-mini", "openai"),
        ("gpt-4o", "openai"),
        ("anthropic/claude-sonnet-4", "anthropic"),
        ("bedrock/anthropic.claude-3-haiku", "anthropic"),
        ("gemini/gemini-2.0-flash", "google"),
        ("openrouter/google/gemini-pro", "google"),
        ("azure/my-deployment", "openai"),
        ("ollama/llama3", "meta"),
        ("replay:rec.jsonl", "replay"),
        (None, None),
    ],
)
def test_vendor_of(model: str | None, vendor: str | None) -> None:
    assert vendor_of(model) == vendor


def test_router_task_model_beats_default_and_escalates_once() -> None:
    r = ModelRouter("cheap", "strong")
    t = Task(id="T001", title="x")
    o = Task(id="T002", title="y", model="special")
    assert r.model_for(t) == "cheap" and r.model_for(o) == "special"
    assert r.failed(t) == ("cheap", "strong")
    assert r.model_for(t) == "strong" and r.failed(t) is None
    assert ModelRouter("cheap", None).failed(t) is None


def test_approvals_file(tmp_path: Path) -> None:
    record_approval(tmp_path, "001-x", "T002", "abc")
    record_approval(tmp_path, "001-x", "T003", None)
    entries = read_approvals(tmp_path, "001-x")
    assert approval_for(entries, "T002", "abc") is not None
    assert approval_for(entries, "T002", "def") is None  # approved other work
    assert approval_for(entries, "T003", "anything") is not None


def test_escalation_after_failed_attempts(tmp_path: Path) -> None:
    check = f"{PY} -c \"import sys; sys.exit('good' not in open('out.txt').read())\""
    tasks = (
        "# Tasks\n\n"
        f"- [ ] T001 [P] Verify fails once\n  - files: out.txt\n  - verify: {check}\n"
        "- [ ] T002 [P] Agent fails once\n  - files: b.txt\n  - model: special/model\n"
        "- [ ] T003 [P] Fine\n  - files: c.txt\n"
    )
    repo = make_repo(tmp_path, tasks)
    toml = repo / "specflow.toml"
    toml.write_text(toml.read_text() + '[models]\nimplement = "cheap/m"\nescalate = "strong/m"\n')
    script = {
        "T001": {"write": {"out.txt": "bad\n"}, "attempts": {"2": {"write": {"out.txt": "good"}}}},
        "T002": {"exit": 1, "attempts": {"2": {"exit": 0, "write": {"b.txt": "b\n"}}}},
        "T003": {"write": {"c.txt": "c\n"}},
    }
    p = cli(repo, "implement", "-j", "3", "--agent", script_agent(tmp_path, script))
    assert p.returncode == 0, p.stderr
    assert sorted(branch_tasks(repo, "specflow/001-calc")) == ["T001", "T002", "T003"]
    run = next((repo / ".specflow" / "runs").iterdir())
    evs = read_events(run / "events.jsonl")
    started = {(e["task"], e["attempt"]): e["model"] for e in evs if e["kind"] == "agent_started"}
    assert started == {
        ("T001", 1): "cheap/m",
        ("T001", 2): "strong/m",
        ("T002", 1): "special/model",
        ("T002", 2): "strong/m",
        ("T003", 1): "cheap/m",
    }
    esc = {e["task"]: (e["from"], e["to"]) for e in evs if e["kind"] == "model_escalated"}
    assert esc == {"T001": ("cheap/m", "strong/m"), "T002": ("special/model", "strong/m")}
    log = cli(repo, "log", "--task", "T002")
    assert "model escalated special/model -> strong/m" in log.stdout


def test_views_show_policy_events() -> None:
    import io

    from specflow.observe.live import PlainView
    from specflow.observe.text import log_line

    out = io.StringIO()
    view = PlainView(out)
    view({"t": 0, "kind": "awaiting_approval", "task": "T002", "risk": "high", "hint": "h"})
    view({"t": 0, "kind": "budget_exhausted", "spent": 0.01, "limit": 0.02, "waiting": ["T3"]})
    text = out.getvalue()
    assert "T002 AWAITING APPROVAL (risk high): run 'h'" in text
    assert "budget exhausted: spent $0.01 of $0.02; not starting T3" in text
    verdict = {
        "kind": "review_verdict",
        "decision": "approve",
        "summary": "fine",
        "findings": [],
        "usage": {"cost_usd": 0.0012},
    }
    assert log_line(verdict) == "review: approve (0 findings, $0.0012): fine"
