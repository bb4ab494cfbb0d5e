"""`specflow replay`: the demo's recorded builtin-agent attempts, re-run offline."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli


def test_replay_reproduces_the_recorded_commits(demo_run: Path) -> None:
    res = run_cli(["replay", "last", "--json"], demo_run)
    assert res.code == 0, res.stderr
    results = json.loads(res.stdout)
    assert [r["task"] for r in results] == ["T001", "T002", "T003", "T004", "T005", "T006"]
    for r in results:
        assert r["matches"] is True and r["ok"] is True, r
        assert r["calls"] == r["answers"] > 0
        assert r["prompt_diff"] == ""  # same templates, same inputs: the same prompts


def test_replay_with_changed_template_shows_the_prompt_diff(demo_run: Path, tmp_path: Path) -> None:
    from specflow.resources import builtin_templates_dir

    src = (builtin_templates_dir() / "prompts" / "implement_system.md.j2").read_text()
    assert "Look before you change" in src
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "implement_system.md.j2").write_text(
        src.replace("Look before you change", "ALWAYS look before you change")
    )
    res = run_cli(["replay", "last", "T002", "--template-dir", str(tmp_path)], demo_run)
    assert res.code == 0, res.stderr
    assert "T002 attempt 1: MATCHES" in res.stdout
    assert "-- Look before you change" in res.stdout
    assert "+- ALWAYS look before you change" in res.stdout


def test_replay_of_a_cmd_agent_run_is_refused(failing_run: Path) -> None:
    res = run_cli(["replay", "last"], failing_run)
    assert res.code == 2 and "builtin" in res.stderr


def test_replay_prefers_logged_calls_and_falls_back_to_the_transcript(
    demo_run: Path, tmp_path: Path
) -> None:
    """The builtin agent's calls reach .specflow/logs/calls.jsonl (full requests): replay takes
    them from there, matched to the attempt by purpose and time; without the call log it uses
    the agent's transcript."""
    import shutil

    from specflow.observe.loading import open_run
    from specflow.observe.rerun import recorded_calls, replay_task
    from specflow.project import Project

    repo = tmp_path / "copy"
    shutil.copytree(demo_run, repo, symlinks=True, ignore=shutil.ignore_patterns("worktrees"))
    project = Project.discover(repo)
    assert project is not None
    opened = open_run(project, "last")
    tt = opened.trace.tasks["T003"]
    attempt = tt.attempts[0]
    logged, source = recorded_calls(opened, tt, attempt)
    assert source.endswith("calls.jsonl") and len(logged) == 4
    result = replay_task(opened, tt)
    assert result.source.endswith("calls.jsonl") and result.matches is True

    (repo / ".specflow" / "logs" / "calls.jsonl").unlink()
    from_transcript, source = recorded_calls(opened, tt, attempt)
    assert source.endswith("builtin-1.json") and len(from_transcript) == 4
    result = replay_task(opened, tt)
    assert result.source.endswith("builtin-1.json") and result.matches is True
