"""Review by another vendor when one is configured; a plain warning naming the real implementer
when not."""

from __future__ import annotations

from pathlib import Path

import pytest

from specflow.config import Config, ModelsSection
from specflow.engine.routing import Implementer, choose_reviewer, implementer_of


def cfg(**models: str) -> Config:
    return Config(models=ModelsSection(**models))


@pytest.mark.parametrize(
    ("agent", "model", "expected"),
    [
        ("builtin", "openai/gpt-4o", Implementer("openai/gpt-4o", "openai")),
        (
            None,
            "anthropic/claude-sonnet-4-5",
            Implementer("anthropic/claude-sonnet-4-5", "anthropic"),
        ),
        ("claude", "openai/gpt-4o", Implementer("the claude agent", "anthropic")),
        ("codex", None, Implementer("the codex agent", "openai")),
        ("cmd:./agent.sh", "openai/gpt-4o", Implementer("cmd:./agent.sh", None)),
    ],
)
def test_implementer_is_the_agent_actually_writing(
    agent: str | None, model: str | None, expected: Implementer
) -> None:
    assert implementer_of(agent, model) == expected


def test_another_vendor_is_chosen_when_one_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    config = cfg(default="openai/gpt-4o-mini", plan="anthropic/claude-sonnet-4-5")
    choice = choose_reviewer(config, implementer_of("builtin", "openai/gpt-4o-mini"))
    assert (choice.model, choice.same_vendor, choice.how) == (
        "anthropic/claude-sonnet-4-5",
        False,
        "other vendor",
    )
    assert choice.warning(implementer_of("builtin", "openai/gpt-4o-mini")) is None
    # from the environment too
    monkeypatch.setenv("SPECFLOW_MODEL_ESCALATE", "gemini/gemini-2.5-pro")
    choice = choose_reviewer(
        cfg(default="anthropic/claude-haiku-4-5"), implementer_of("claude", None)
    )
    assert choice.model == "gemini/gemini-2.5-pro"


def test_one_vendor_only_warns_naming_both_and_how_to_add_another() -> None:
    impl = implementer_of("builtin", "openai/gpt-4o")
    choice = choose_reviewer(cfg(default="openai/gpt-4o", plan="openai/o3"), impl)
    assert choice.same_vendor is True and choice.how == "fallback"
    warning = choice.warning(impl)
    assert warning is not None
    assert "same-vendor" in warning and "openai/gpt-4o" in warning
    assert "[models].review" in warning and "another vendor" in warning


def test_an_explicit_reviewer_wins_even_if_same_vendor() -> None:
    impl = implementer_of("builtin", "openai/gpt-4o")
    choice = choose_reviewer(cfg(review="openai/o3", plan="anthropic/claude-sonnet-4-5"), impl)
    assert (choice.model, choice.same_vendor, choice.how) == ("openai/o3", True, "configured")
    assert "set [models].review to another vendor's model" in (choice.warning(impl) or "")


def test_a_cmd_agent_is_never_called_by_the_model_it_is_handed(tmp_path: Path) -> None:
    """The old warning named SPECFLOW_MODEL as the implementer of a cmd: agent."""
    from specflow.domain.tasks import Phase, Task, TaskGraph, TaskList
    from specflow.engine.trust import attach_trust, plan_trust
    from specflow.runs.events import EventLog, read_events
    from specflow.runs.state import RunPaths
    from specflow.workspace.git import Git

    graph = TaskGraph(
        TaskList(
            title="x", phases=[Phase(title="p", tasks=[Task(id="T001", title="a", risk="high")])]
        )
    )
    config = Config.model_validate(
        {"models": {"default": "openai/gpt-4o"}, "policy": {"high": "verify+review"}}
    )

    def warnings(agent: str) -> list[str]:
        impl = implementer_of(agent, "openai/gpt-4o")
        plan = plan_trust(config, graph, ["T001"], "openai/gpt-4o", None, implementer=impl)
        log = tmp_path / f"{agent.replace('/', '_')}.jsonl"
        events = EventLog(log)
        git = Git(tmp_path)
        paths = RunPaths(tmp_path / ".specflow", "r1")
        attach_trust(
            plan,
            config=config,
            feature="001-x",
            spec_text=None,
            project_root=tmp_path,
            git=git,
            events=events,
            paths=paths,
            records={},
            implementer="openai/gpt-4o",
        )
        events.close()
        return [str(e["message"]) for e in read_events(log) if e["kind"] == "warning"]

    import subprocess

    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    [builtin] = warnings("builtin")
    assert "implementer openai/gpt-4o" in builtin
    # its vendor is unknown: no false claim, and the agent is named, not the model it is handed
    [cmd] = warnings("cmd:./agent.sh")
    assert "implementer cmd:./agent.sh may use any vendor's model" in cmd
    assert "same-vendor is unknown" in cmd and "implementer openai/gpt-4o" not in cmd


AGENT_WRITES = {"name": "write_file", "arguments": {"path": "notes.txt", "content": "hi\n"}}
FINISH = {"name": "finish", "arguments": {"summary": "wrote notes.txt"}}
APPROVE = {"decision": "approve", "summary": "fine", "findings": []}


def test_implement_says_at_start_that_review_is_same_vendor(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One vendor configured: the builtin agent on openai/stub is reviewed by openai/stub, and
    `implement` says so before any task runs; the run's report lists it."""
    import json

    from tests.conftest import git, run_cli
    from tests.support.stub_llm import StubLLM, json_reply, tool_calls_reply

    feature = project / "specs" / "001-notes"
    feature.mkdir(parents=True)
    (feature / "tasks.md").write_text(
        "# Tasks: Notes\n\n## Phase 1\n\n- [ ] T001 Write notes.txt\n  - risk: high\n"
    )
    cfg = project / "specflow.toml"
    cfg.write_text(cfg.read_text() + '\n[policy]\nhigh = "verify+review"\n')
    git(project, "add", "-A")
    git(project, "commit", "-qm", "tasks")

    def answer(body: dict[str, object]) -> object:
        messages = json.dumps(body["messages"])
        if "review" in json.dumps(body.get("response_format") or {}) or '"decision"' in messages:
            return json_reply(APPROVE)
        return tool_calls_reply(
            [FINISH] if "notes.txt" in messages and '"tool"' in messages else [AGENT_WRITES, FINISH]
        )

    with StubLLM(default_reply=answer) as stub:  # type: ignore[arg-type]
        for k, v in stub.env().items():
            monkeypatch.setenv(k, v)
        monkeypatch.setenv("SPECFLOW_MODEL", "openai/stub")
        res = run_cli(["implement", "1", "--agent", "builtin"], project)
    out = res.stdout + res.stderr
    assert "review is same-vendor: reviewer openai/stub and implementer openai/stub" in out, out
    assert "SPECFLOW_MODEL_REVIEW" in out
    run = next((project / ".specflow" / "runs").iterdir())
    events = [json.loads(x) for x in (run / "events.jsonl").read_text().splitlines()]
    kinds = [e["kind"] for e in events]
    assert kinds.index("warning") < kinds.index("task_started")
    assert next(e for e in events if e["kind"] == "policy")["same_vendor"] is True
    report = run_cli(["report", run.name], project)
    assert report.code == 0, report.stderr
    page = next((project / ".specflow" / "reports").glob("*.html")).read_text()
    assert "review is same-vendor" in page
