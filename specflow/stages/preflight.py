"""What `implement` checks before it creates anything: a failed check is one line, exit 2, and
the repository is exactly as it was (no integration branch, no worktree, no run folder).

- the feature's artifacts (and specflow.toml, the constitution) are committed on the base
  branch, since the integration branch starts from the base's commits — else which files to
  commit, and the command;
- the commands that gate a merge (`test_command`, each task's `verify:`) parse;
- the builtin agent has a model and the model's key is set (the hint names SPECFLOW_MODEL);
- an existing integration branch is one specflow made from this base.

The agent itself (unknown name, missing CLI, `--tmux` without tmux or with an agent that
cannot use it) is checked by resolving it, first. `gh` for `--pr` is checked by the command
before it calls implement.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specflow.errors import InputError, ModelConfigError
from specflow.project import Feature, Project
from specflow.workspace.git import Git

if TYPE_CHECKING:
    from specflow.agents.base import Agent

MODEL_HINT = (
    "set SPECFLOW_MODEL to any litellm model name (e.g. export SPECFLOW_MODEL=openai/gpt-4o-mini), "
    "pass --model, or set [models] implement in specflow.toml"
)


@dataclass
class Checked:
    """What the checks established, for the run to use."""

    base: str  # the branch the integration branch starts from and catches up with
    base_tip: str
    agent: Agent


def preflight(
    project: Project,
    loaded: Any,  # stages.implement.Loaded
    *,
    agent_spec: str,
    model: str | None,
    tmux: bool,
    log_dir: Path,
    check_model: bool = True,
) -> Checked:
    """Every check `implement` can make before it creates a branch, a worktree or a run."""
    from specflow.agents.registry import AgentOptions, resolve_agent
    from specflow.workspace.integration import resolve_base

    git, graph, cfg = loaded.git, loaded.graph, project.config
    options = AgentOptions(
        config=cfg, model=model, log_dir=log_dir, project_root=project.root, tmux=tmux
    )
    agent = resolve_agent(agent_spec, options)  # unknown, not installed, --tmux misused
    base, base_tip = resolve_base(git, cfg.project.base_branch)
    check_committed(git, project, loaded.feature, base, base_tip)
    verifies = [(f"{t} verify:", graph.tasks[t].verify) for t in loaded.selected]
    check_commands(cfg.project.test_command, [v for v in verifies if v[1]])
    if check_model and agent_spec.strip() == "builtin":
        escalate = os.environ.get("SPECFLOW_MODEL_ESCALATE") or cfg.models.escalate
        task_models = [graph.tasks[t].model for t in loaded.selected if graph.tasks[t].model]
        check_models([model, *task_models, *([escalate] if escalate else [])])
    check_branch(git, loaded.ref, base, base_tip)
    return Checked(base, base_tip, agent)


def check_committed(git: Git, project: Project, feature: Feature, base: str, base_tip: str) -> None:
    """The feature's artifacts (and their inputs: feature.md, the constitution) and
    specflow.toml, as the base branch has them. Other files in the folder do not matter."""
    from specflow.artifacts import KINDS

    own = [feature.path / "feature.md", *(feature.artifact(k) for k in KINDS)]
    paths = [project.root / "specflow.toml", project.constitution_path, *own]
    rels = [_rel(project.root, p) for p in paths if p.exists()]
    untracked = git.out("ls-files", "--others", "--exclude-standard", "-z", "--", *rels)
    changed = git.out("diff", "--name-only", "--relative", "-z", base_tip, "--", *rels)
    files = sorted({f for f in (untracked + "\0" + changed).split("\0") if f})
    if not files:
        return
    shown = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
    here = git.current_branch()
    add = " ".join(shlex.quote(f) for f in files)
    commit = f'git add {add} && git commit -m "specs: {feature.name}"'
    hint = f"commit them first: {commit}"
    if here and here != base:  # [project] base_branch names another branch
        hint = (
            f"commit them ({commit}), then merge {here} into {base}, "
            f'or set [project] base_branch = "{here}" in specflow.toml'
        )
    raise InputError(
        f"{shown} not committed on {base}; implement builds "
        f"specflow/{feature.name} from {base}'s commits",
        hint,
    )


def check_commands(test_command: str | None, verifies: Iterable[tuple[str, str]]) -> None:
    """`test_command` and each (task, verify) split like a shell would (no shell runs them)."""
    for where, command in [("[project] test_command", test_command or ""), *verifies]:
        try:
            shlex.split(command)
        except ValueError as exc:
            raise InputError(
                f"{where} does not parse: {exc} in {command!r}",
                "fix the quoting (it is split like a shell would, and run without one)",
            ) from None


def check_models(models: Iterable[str | None]) -> None:
    """Every model the builtin agent may call is named and has its key set."""
    from specflow.llm.litellm_model import missing_credentials

    names = list(models)
    if not names or any(not m for m in names):
        raise ModelConfigError("no model for the implement stage", MODEL_HINT)
    for name in dict.fromkeys(n for n in names if n):
        if name.startswith("replay:"):
            from specflow.config import LLMSection
            from specflow.llm.registry import get_model

            get_model(name, LLMSection())  # the recording exists
            continue
        missing = missing_credentials(name)
        if missing:
            raise ModelConfigError(
                f"{name}: no API key found; set {' or '.join(missing)}",
                f"export {missing[0]}=…, or choose another model with SPECFLOW_MODEL or --model",
            )


def check_branch(git: Git, ref: str, base: str, base_tip: str) -> None:
    from specflow.workspace.integration import not_ours

    if git.rev_parse(ref) is None:
        return
    why = not_ours(git, ref, base_tip)
    if why is not None:
        branch = ref.removeprefix("refs/heads/")
        raise InputError(
            f"{branch} exists and specflow did not make it from {base}: it {why}",
            f"rename it (git branch -m {branch} NEW-NAME) or delete it, then run implement again",
        )


def _rel(root: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix() or "."
    except ValueError:
        return str(path)
