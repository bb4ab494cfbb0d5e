"""`specflow demo` end to end: the whole pipeline offline, and honest accounting."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import run_cli


def test_demo_runs_the_pipeline_and_costs_add_up(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    res = run_cli(["demo", "--dir", str(target)], tmp_path)
    assert res.code == 0, res.stdout + res.stderr
    assert "example tests on the integration branch: passed" in res.stdout
    feature = next((target / "specs").glob("001-*"))
    branch = f"specflow/{feature.name}"
    log = subprocess.run(
        ["git", "log", "--format=%(trailers:key=Specflow-Task,valueonly)", branch],
        cwd=target,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert sorted(log) == ["T001", "T002", "T003", "T004", "T005", "T006"]  # one commit each
    tasks = subprocess.run(
        ["git", "show", f"{branch}:specs/{feature.name}/tasks.md"],
        cwd=target,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert tasks.count("- [x] T0") == 6
    # what `cost` reports is what the model calls cost, call by call
    calls = [json.loads(line) for line in (target / ".specflow/logs/calls.jsonl").open()]
    spent = sum(c["usage"]["cost_usd"] for c in calls)
    cost = json.loads(run_cli(["cost", "--json"], target).stdout)
    assert abs(cost["total"]["cost_usd"] - spent) < 1e-5
    assert cost["total"]["prompt_tokens"] == sum(c["usage"]["prompt_tokens"] for c in calls)
    # a second demo replaces the first, and refuses a folder that is not a demo
    assert run_cli(["demo", "--dir", str(target), "--no-implement"], tmp_path).code == 0
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "thesis.tex").write_text("years of work")
    assert run_cli(["demo", "--dir", str(tmp_path / "precious")], tmp_path).code == 2


def test_demo_hint_works_as_printed_without_an_activated_venv(tmp_path: Path) -> None:
    """`make demo` runs `.venv/bin/specflow`, which is not on PATH: the last hint must name a
    command a shell finds, and running it as printed must work."""
    import os
    import re
    import sys

    installed = Path(sys.executable).parent / "specflow"
    env = {
        **os.environ,
        "PATH": "/usr/local/bin:/usr/bin:/bin",  # no virtualenv on PATH, as after `make demo`
    }
    env.pop("VIRTUAL_ENV", None)
    out = subprocess.run(
        [str(installed), "demo", "--dir", "demo-output", "--no-implement"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    hint = re.search(r"try: (cd \S+ && \S+ status)", out.stdout)
    assert hint, out.stdout
    assert (
        "specflow status" in hint.group(1) and hint.group(1) != "cd demo-output && specflow status"
    )
    ran = subprocess.run(
        ["sh", "-c", hint.group(1)],
        cwd="/",
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert "tasks.md" in ran.stdout
