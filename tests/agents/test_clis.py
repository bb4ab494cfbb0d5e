"""The CLI agents end to end: `specflow implement --agent claude|codex|gemini|aider` on a real git
repository, with fake executables on PATH that check their arguments and print what the real
CLIs print (tests/fixtures/fake_clis). One run per adapter covers every outcome at once: each
task of the run gets its own FAKE_MODE (ok, fail, hang, garbage, auth)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import cast

import pytest

from specflow.runs.events import read_events
from tests.engine.engine_helpers import ROOT, branch_tasks, cli, git, make_repo

FAKES = ROOT / "tests" / "fixtures" / "fake_clis"
BRANCH = "specflow/001-calc"
LIMIT_S = 2

TASKS = """# Tasks

## Phase 1: Everything

- [ ] T001 [P] Write the first note in notes/t1.md
- [ ] T002 [P] Write the second note in notes/t2.md
- [ ] T003 [P] Write the third note in notes/t3.md
- [ ] T004 [P] Write the fourth note in notes/t4.md
- [ ] T005 [P] Write the fifth note in notes/t5.md
"""
MODES = {"T002": "fail", "T003": "hang", "T004": "garbage", "T005": "auth"}

# What each adapter must pass (the headless flags), and what its fake reports for T001.
EXPECTED: dict[str, dict[str, object]] = {
    "claude": {
        "flags": [
            "-p",
            "--output-format",
            "stream-json",
            "--verbose",
            "--permission-mode",
            "acceptEdits",
            "--max-turns",
            "--model",
            "m-test",
        ],
        "usage": {
            "prompt_tokens": 1312,
            "completion_tokens": 150,
            "cost_usd": 0.0123,
            "cached_tokens": 1000,  # cache_read_input_tokens
        },
        "fail": "claude exited with code 1",
        "auth": "claude /login",
    },
    "codex": {
        "flags": ["exec", "--json", "--sandbox", "workspace-write", "--model", "m-test"],
        "usage": {
            "prompt_tokens": 24763,
            "completion_tokens": 122,
            "cost_usd": 0.0,
            "cached_tokens": 24448,  # cached_input_tokens
        },
        "fail": "codex reported an error: stream disconnected",
        "auth": "codex login",
    },
    "gemini": {
        "flags": [
            "--output-format",
            "json",
            "--approval-mode",
            "auto_edit",
            "--model",
            "m-test",
            "-p",
        ],
        "usage": {"prompt_tokens": 9021, "completion_tokens": 510, "cost_usd": 0.0},
        "fail": "gemini reported an error: ApiError",
        "auth": "GEMINI_API_KEY",
    },
    "aider": {
        "flags": [
            "--message",
            "--yes-always",
            "--no-auto-commits",
            "--no-pretty",
            "--no-gitignore",
            "--model",
            "m-test",
            "notes/t1.md",
        ],
        "usage": {"prompt_tokens": 2100, "completion_tokens": 312, "cost_usd": 0.0042},
        "fail": "aider reported an error: RuntimeError: boom",
        "auth": "API key",
    },
}


def fake_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": f"{FAKES}{os.pathsep}{os.environ['PATH']}",
        "FAKE_LOG": str(tmp_path / "calls.jsonl"),
        **{f"FAKE_MODE_{t}": m for t, m in MODES.items()},
        **extra,
    }


def repo_with_limit(tmp_path: Path, tasks: str = TASKS, limit: float = LIMIT_S) -> Path:
    repo = make_repo(tmp_path, tasks)
    with open(repo / "specflow.toml", "a") as fh:
        fh.write(f"max_seconds = {limit}\n")  # [implement] is the last table
    git(repo, "commit", "-qam", "time limit")
    return repo


def calls(tmp_path: Path) -> list[dict[str, object]]:
    path = tmp_path / "calls.jsonl"
    return [json.loads(ln) for ln in path.read_text().splitlines()] if path.exists() else []


def run_events(repo: Path) -> list[dict[str, object]]:
    runs = sorted((repo / ".specflow" / "runs").iterdir())
    return [e for r in runs for e in read_events(r / "events.jsonl")]


@pytest.mark.parametrize("agent", sorted(EXPECTED))
def test_adapter_merges_one_task_and_fails_the_others_with_reasons(
    agent: str, tmp_path: Path
) -> None:
    exp = EXPECTED[agent]
    repo = repo_with_limit(tmp_path)
    p = cli(
        repo,
        "implement",
        "-j",
        "5",
        "--agent",
        agent,
        "--model",
        "m-test",
        env=fake_env(tmp_path),
        timeout=60,
    )
    assert p.returncode == 1, p.stderr
    assert "4 failed (T002, T003, T004, T005)" in p.stderr
    assert "internal error" not in p.stderr
    # T001 landed as one commit holding just its note (and its [x]): no agent leftovers
    assert branch_tasks(repo, BRANCH) == ["T001"]
    changed = git(repo, "show", "--name-only", "--format=", f"{BRANCH}~1").split()
    assert sorted(changed) == ["notes/t1.md", "specs/001-calc/tasks.md"]
    note = git(repo, "show", f"{BRANCH}:notes/t1.md")
    assert note == f"# T001: Write the first note in notes/t1.md (by fake {agent})"
    # the real command line: headless flags, model, the brief as the prompt, in the worktree
    first = next(c for c in calls(tmp_path) if "# Task T001:" in str(c["prompt"]))
    argv = [str(a) for a in cast("list[object]", first["argv"])]
    for flag in cast("list[str]", exp["flags"]):
        assert flag in argv, (flag, argv)
    brief = next((repo / ".specflow" / "runs").glob("*/briefs/T001.md")).read_text()
    assert first["prompt"] == brief and brief in argv
    assert "worktrees" in str(first["cwd"])
    evs = run_events(repo)
    report = next(e for e in evs if e["kind"] == "agent_report" and e["task"] == "T001")
    usage = {
        k: report[k]
        for k in ("prompt_tokens", "completion_tokens", "cost_usd")
        + (("cached_tokens",) if "cached_tokens" in report else ())
    }
    assert usage == exp["usage"]
    assert report["ok"] is True and report["text"]
    finished = next(e for e in evs if e["kind"] == "agent_finished" and e["task"] == "T001")
    assert finished["usage"] == exp["usage"]
    reasons = {str(e["task"]): str(e["reason"]) for e in evs if e["kind"] == "task_failed"}
    assert str(exp["fail"]) in reasons["T002"], reasons["T002"]
    assert f"time limit ({LIMIT_S} s)" in reasons["T003"], reasons["T003"]
    assert "malformed output" in reasons["T004"], reasons["T004"]
    assert "could not authenticate" in reasons["T005"], reasons["T005"]
    assert str(exp["auth"]) in reasons["T005"], reasons["T005"]
    log = cli(repo, "log", "--task", "T001")
    assert log.returncode == 0 and "merged" in log.stdout


@pytest.mark.parametrize(
    ("agent", "hint"),
    [
        ("claude", "npm i -g @anthropic-ai/claude-code"),
        ("codex", "npm i -g @openai/codex"),
        ("gemini", "npm i -g @google/gemini-cli"),
        ("aider", "aider-install"),
    ],
)
def test_missing_binary_is_a_one_line_usage_error_before_any_task(
    agent: str, hint: str, tmp_path: Path
) -> None:
    bare = tmp_path / "bin"
    bare.mkdir()
    git_exe = shutil.which("git")
    assert git_exe
    os.symlink(git_exe, bare / "git")
    repo = repo_with_limit(tmp_path)
    p = cli(repo, "implement", "--agent", agent, env={"PATH": str(bare)})
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {agent} not found on PATH (install ")
    assert hint in lines[0]
    runs = repo / ".specflow" / "runs"
    started = [e for e in run_events(repo) if e["kind"] == "task_started"] if runs.exists() else []
    assert started == []


def test_tmux_needs_a_cli_agent(tmp_path: Path) -> None:
    repo = repo_with_limit(tmp_path)
    p = cli(repo, "implement", "--agent", "builtin", "--tmux")
    assert p.returncode == 2
    assert "--tmux needs a CLI agent" in p.stderr


def test_fakes_reject_what_the_real_clis_reject(tmp_path: Path) -> None:
    """The fakes are strict the way the real tools are, so the adapter tests mean something."""
    env = {**os.environ, "FAKE_LOG": str(tmp_path / "calls.jsonl")}

    def fake(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(FAKES / argv[0]), *argv[1:]],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    res = fake("claude", "-p", "--output-format", "stream-json", "hi")
    assert res.returncode == 1 and "requires --verbose" in res.stderr
    assert fake("claude", "-p", "--bogus", "hi").returncode == 1
    res = fake("codex", "exec", "--json", "hi")  # tmp_path is not a git repository
    assert res.returncode == 1 and "skip-git-repo-check" in res.stderr
    res = fake("gemini", "--yolo", "--approval-mode", "auto_edit", "-p", "hi")
    assert res.returncode == 42
    res = fake("aider", "--no-such-flag", "--message", "hi")
    assert res.returncode == 2
    assert calls(tmp_path) == []
