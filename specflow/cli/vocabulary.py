"""One CLI vocabulary: what each short option means and how help names each value.

docs/cli.md shows these tables to people; tests/cli/test_vocabulary.py walks every command
and fails when a command uses a short option for something else, or takes a value this
module cannot name in words. A new option either reuses a name below or adds a row here.
"""

from __future__ import annotations

from typing import Any

# short option -> the one long option it stands for, in every command that has it
SHORT_OPTIONS: dict[str, str] = {
    "-h": "--help",
    "-q": "--quiet",
    "-F": "--feature",
    "-j": "--parallel",
    "-f": "--format",
    "-m": "--model",
    "-t": "--task",
    "-o": "--output",
    "-a": "--answer",
    "-p": "--project",
    "-R": "--repo",
}

# parameter name (as the command function spells it) -> the word help shows for its value
VALUE_NAMES: dict[str, str] = {
    "feature": "FEATURE",
    "feature_opt": "FEATURE",
    "regenerate": "FEATURE",
    "tasks": "TASK",
    "task": "TASK",
    "run": "RUN",
    "run_id": "RUN",
    "parallel": "N",
    "attempt": "N",
    "max_cost": "USD",
    "model": "MODEL",
    "agent": "AGENT",
    "executor": "EXECUTOR",
    "ray_address": "ADDRESS",
    "endpoint": "URL",
    "otel": "EXPORTER",
    "only": "TASKS",
    "from_phase": "PHASE",
    "from_library": "LIBRARY/FEATURE",
    "fmt": "FORMAT",
    "answer": "ANSWER",
    "name": "NAME",
    "source": "SOURCE",
    "path": "FOLDER",
    "directory": "FOLDER",
    "project": "FOLDER",
    "template_dir": "FOLDER",
    "output": "FILE",
    "report": "FILE",
    "test_command": "COMMAND",
    "branch": "BRANCH",
    "base": "BRANCH",
    "repo": "OWNER/REPO",
    "ref": "REF",
    "update": "FEATURE",
    "paths": "PATHS",
    "budget": "TOKENS",
    "modify": "ID",
    "remove": "ID",
    "rename": "RENAMING",
    "why": "TEXT",
    "change": "CHANGE",
    "targets": "FEATURE/FILE",
}


def apply(command: Any) -> Any:
    """Name every value of `command` and its subcommands in words (in place)."""
    for param in getattr(command, "params", []):
        word = VALUE_NAMES.get(param.name or "")
        if word is None or getattr(param, "is_flag", False):
            continue
        param.metavar = word
        if getattr(param, "param_type_name", "") == "argument" and hasattr(
            param, "display_type_rich"
        ):
            # typer >= 0.26 prints a type after an argument's name ("FEATURE <str>"): the
            # name alone says it.
            param.display_type_rich = lambda ctx: None
    for sub in getattr(command, "commands", {}).values():
        apply(sub)
    return command
