"""`--agent NAME` to an Agent object. Implementations are imported only when chosen.

- `cmd:<command>`: CmdAgent (any program).
- `builtin`: `specflow.agents.builtin:BuiltinAgent` (tool-using loop on a litellm model).
- `claude`, `codex`, `gemini`, `aider`: the users' own CLI agents run headless
  (`specflow.agents.clis`); they check their binary is on PATH when resolved, and run in tmux
  windows with `tmux=True`.
Further names register here as "module:attr" strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specflow.agents.clis import CLI_AGENTS
from specflow.errors import InputError

if TYPE_CHECKING:
    from specflow.agents.base import Agent
    from specflow.config import Config
    from specflow.sandbox import Confinement

AGENTS: dict[str, str] = {
    "builtin": "specflow.agents.builtin:BuiltinAgent",
    **CLI_AGENTS,
}


@dataclass
class AgentOptions:
    """What an agent implementation may need to construct itself."""

    config: Config
    model: str | None = None
    log_dir: Path | None = None  # where per-attempt output goes (the run's tasks/ folder)
    project_root: Path | None = None
    tmux: bool = False  # CLI agents: run each task in a tmux window (`--tmux`)
    confinement: Confinement | None = None  # the run's sandbox (None: from config)


def known_agents() -> list[str]:
    return [*sorted(AGENTS), "cmd:<command>"]


def check_agent(
    spec: str, *, invoked_from: Path, repo_root: Path | None = None, remote: bool = False
) -> None:
    """Refuse, before anything is created, an agent that cannot start: an unknown name or a
    `cmd:` program that is not there. The one check implement's preflight calls. `remote`:
    the agents run elsewhere (Ray), where the program is looked up, not here."""
    spec = spec.strip()
    if spec.startswith("cmd:") and not remote:
        from specflow.agents.cmd import check_command

        check_command(spec[4:], invoked_from, repo_root)
    elif not spec.startswith("cmd:") and spec not in AGENTS:
        raise InputError(f"unknown agent '{spec}'", "choose one of: " + ", ".join(known_agents()))


def resolve_agent(spec: str, options: AgentOptions) -> Agent:
    spec = spec.strip()
    if options.tmux and spec not in CLI_AGENTS:
        raise InputError(
            f"--tmux needs a CLI agent, not '{spec}'",
            "use --agent " + "|".join(CLI_AGENTS) + " with --tmux",
        )
    if spec.startswith("cmd:"):
        from specflow.agents.cmd import CmdAgent

        confine = options.config.sandbox.cmd_agents
        return CmdAgent(
            spec[4:], log_dir=options.log_dir, confinement=options.confinement if confine else None
        )
    target = AGENTS.get(spec)
    if target is None:
        raise InputError(f"unknown agent '{spec}'", "choose one of: " + ", ".join(known_agents()))
    module_name, _, attr = target.partition(":")
    try:
        cls: Any = getattr(import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise InputError(f"agent '{spec}' is not available: {exc}") from None
    factory = getattr(cls, "from_options", None)
    if callable(factory):
        agent: Agent = factory(options)
    else:
        agent = cls(config=options.config, model=options.model)
    return agent
