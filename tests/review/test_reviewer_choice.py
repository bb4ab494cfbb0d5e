"""Review by another vendor when one is configured; a plain warning naming the real implementer
when not."""

from __future__ import annotations

from pathlib import Path

import pytest

from specflow.config import Config, ModelsSection
from specflow.engine.policy import Implementer, choose_reviewer, implementer_of


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
    from specflow.engine.events import EventLog, read_events
    from specflow.engine.state import RunPaths
    from specflow.engine.trust import attach_trust, plan_trust
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
    assert warnings("cmd:./agent.sh") == []  # its vendor is unknown: no false claim
