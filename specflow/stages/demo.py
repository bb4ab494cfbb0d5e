"""`specflow demo`: the whole pipeline on the bundled example, offline, with the replay model."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from specflow.errors import InputError
from specflow.templating import builtin_examples_dir

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
    from specflow.project import Project
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


def _implement(project: object, feature: object, say: Callable[[str], None], parallel: int) -> bool:
    try:
        from specflow.stages.implement import run_implement_for_demo
    except ImportError:
        say("(implement is not available in this build)")
        return False
    return bool(run_implement_for_demo(project, feature, say, parallel))


def python() -> str:
    return sys.executable
