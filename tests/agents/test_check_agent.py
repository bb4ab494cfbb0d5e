"""check_agent: an agent that cannot start is refused before anything exists; one that can
start is never refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from specflow.agents.registry import check_agent
from specflow.errors import InputError
from specflow.stages.implement import ImplementOptions


@pytest.mark.parametrize(
    "spec",
    [
        "builtin",
        "cmd:true",
        "cmd:python3 -m json.tool",
        "cmd:bash -c 'exit 0'",
        "cmd:uv run agent.py",
        "cmd:./agent.sh",
        "cmd:python3 tools/agent.py --fast",
        "cmd:sh in-repo.sh",
    ],
)
def test_agents_that_can_start_pass(
    tmp_path: Path, spec: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "uv").write_text("#!/bin/sh\n")
    (bin_dir / "uv").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    here, repo = tmp_path / "here", tmp_path / "repo"
    (repo / "tools").mkdir(parents=True)
    here.mkdir()
    (here / "agent.sh").write_text("#!/bin/sh\n")
    (repo / "tools" / "agent.py").write_text("")
    (repo / "in-repo.sh").write_text("")
    check_agent(spec, invoked_from=here, repo_root=repo)


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("cmd:/nonexistent/agent", "agent program '/nonexistent/agent' does not exist"),
        ("cmd:./missing.sh", "agent program './missing.sh' does not exist"),
        ("cmd:python3 missing.py", "agent script 'missing.py' does not exist"),
        ("cmd:no-such-program-xyz --go", "'no-such-program-xyz' is not on PATH"),
        ("cmd:'unclosed", "cannot parse agent command"),
        ("claude-code", "unknown agent 'claude-code'"),
    ],
)
def test_agents_that_cannot_start_are_refused(tmp_path: Path, spec: str, says: str) -> None:
    with pytest.raises(InputError, match=says):
        check_agent(spec, invoked_from=tmp_path, repo_root=tmp_path)


def test_a_remote_executor_looks_programs_up_there(tmp_path: Path) -> None:
    check_agent("cmd:/only/on/the/cluster", invoked_from=tmp_path, remote=True)


@pytest.mark.parametrize("parallel", [0, -5, 257])
def test_parallel_is_bounded_for_every_caller(parallel: int) -> None:
    with pytest.raises(InputError, match="parallel must be between 1 and 256"):
        ImplementOptions(parallel=parallel)
