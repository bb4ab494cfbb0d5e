"""`specflow demo`: the whole pipeline on the bundled example, offline, with the replay model."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from specflow.errors import InputError
from specflow.project import Feature, Project
from specflow.resources import builtin_examples_dir

MARKER = ".specflow-demo"
EXAMPLE = "unitconv"


@dataclass
class DemoResult:
    root: Path
    feature: str = ""
    steps: list[str] = field(default_factory=list)
    tests_passed: bool | None = None


def _git(root: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise InputError(f"git {args[0]} failed in the demo folder: {out.stderr.strip()[:200]}")
    return out.stdout


def prepare(target: Path) -> Path:
    """Copy the example repository into `target` (replacing an earlier demo, nothing else)."""
    if target.is_dir() and not any(target.iterdir()):
        target.rmdir()
    if target.exists():
        if not (target / MARKER).exists():
            raise InputError(
                f"{target} exists and is not an earlier specflow demo",
                "pass --dir with a new or empty folder",
            )
        shutil.rmtree(target)
    example = builtin_examples_dir() / EXAMPLE
    shutil.copytree(example / "repo", target)
    (target / MARKER).write_text("made by specflow demo; safe to delete\n")
    _git(target, "init", "-q", "-b", "main")
    _git(target, "config", "user.email", "demo@specflow.invalid")
    _git(target, "config", "user.name", "specflow demo")
    (target / ".gitignore").write_text(f"{MARKER}\n__pycache__/\n")
    _git(target, "add", "-A")
    _git(target, "commit", "-q", "-m", "unitconv: empty package")
    return example


def run_demo(
    target: Path, say: Callable[[str], None], *, implement: bool = True, parallel: int = 4
) -> DemoResult:
    from specflow.stages import pipeline
    from specflow.stages.clarify import open_questions, record_answers
    from specflow.stages.init import init_project

    target = target.resolve()
    example = prepare(target)
    recording = (example / "recording.jsonl").resolve()
    res = DemoResult(target)
    init_project(target, name="unitconv", test_command="python3 -m unittest discover -s tests -t .")
    config = target / "specflow.toml"
    config.write_text(
        config.read_text().replace(
            '# default = "openai/gpt-4o-mini"', f'default = "replay:{recording.as_posix()}"'
        )
    )
    say(f"$ specflow init            # in {target}, model: replay (offline, recorded answers)")
    project = Project.discover(target)
    assert project is not None
    feature_text = (example / "feature.md").read_text(encoding="utf-8")
    out = pipeline.specify(project, feature_text, source="feature.md")
    feat = out.feature
    res.feature = feat.name
    say(f"$ specflow specify feature.md   -> {feat.name}/spec.md ({_cost(out)})")
    qs = open_questions(project, feat)
    for q in qs:
        say(f"$ specflow clarify          -> {q.key}: {q.text}")
    if qs:
        record_answers(
            project, feat, {qs[0].key: "Yes: unit symbols are case-insensitive (c = C)."}
        )
        say(f"$ specflow clarify --answer {qs[0].key}='Yes: …'   -> recorded in spec.md")
    out = pipeline.plan(project, feat)
    say(f"$ specflow plan             -> {feat.name}/plan.md ({_cost(out)})")
    out = pipeline.tasks(project, feat)
    say(f"$ specflow tasks            -> {feat.name}/tasks.md ({_cost(out)})")
    _git(target, "add", "-A")
    _git(target, "commit", "-q", "-m", f"specs: {feat.name}")
    res.steps += ["specify", "clarify", "plan", "tasks"]
    if implement:
        res.tests_passed = _implement(project, feat, say, parallel)
        res.steps.append("implement")
    return res


def _cost(out: object) -> str:
    usage = out.usage  # type: ignore[attr-defined]
    return f"{usage.prompt_tokens}+{usage.completion_tokens} tokens, ${usage.cost_usd:.4f}"


def _implement(
    project: Project, feature: Feature, say: Callable[[str], None], parallel: int
) -> bool:
    """Run implement with the builtin agent on the replay model, then the example's tests on
    the integration branch (checked out in the demo folder so the result can be looked at)."""
    from specflow.stages.implement import ImplementOptions, run_implement

    say(f"$ specflow implement --parallel {parallel}   (builtin agent, replay model)")
    options = ImplementOptions(feature=feature.name, parallel=parallel, agent="builtin")
    summary = run_implement(project, options, observer=_printer(say))
    cost = sum(r.usage.get("cost_usd", 0.0) for r in summary.records.values())
    say(
        f"  run {summary.run_id}: {summary.count('merged')} tasks merged on "
        f"specflow/{feature.name} (${cost:.4f})"
    )
    _git(project.root, "checkout", "-q", f"specflow/{feature.name}")
    say(f"$ git log --oneline specflow/{feature.name}")
    for line in _git(project.root, "log", "--oneline", "-n", "9").splitlines():
        say(f"  {line}")
    out = subprocess.run(
        [sys.executable, "-m", "unittest", "discover", "-s", "tests", "-t", "."],
        cwd=project.root,
        capture_output=True,
        text=True,
        check=False,
    )
    last = (out.stderr.strip().splitlines() or ["?"])[-1]
    say(f"$ python -m unittest discover   (on specflow/{feature.name}) -> {last}")
    return out.returncode == 0


def _printer(say: Callable[[str], None]) -> Callable[[dict[str, object]], None]:
    shown = {"task_started", "task_merged", "task_failed", "task_blocked", "verify_failed"}

    def observe(event: dict[str, object]) -> None:
        kind = str(event.get("kind") or event.get("event") or "")
        if kind in shown:
            detail = event.get("reason") or (
                f"(agent slot {event['slot']})" if event.get("slot") is not None else ""
            )
            say(f"  {kind.replace('_', ' '):14} {event.get('task', '')} {detail}".rstrip())

    return observe


def python() -> str:
    return sys.executable
