"""`init`: set up specflow.toml, specs/, the constitution and the ignored .specflow/ folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from specflow.config import CONFIG_NAME, parse_config
from specflow.fsutil import atomic_write_text
from specflow.project import SPECKIT_CONSTITUTION
from specflow.resources import builtin_templates_dir
from specflow.templating import render


@dataclass
class InitResult:
    root: Path
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def _guess_test_command(root: Path) -> str | None:
    if (root / "pyproject.toml").is_file() or (root / "tests").is_dir():
        return "python -m pytest -q"
    if (root / "package.json").is_file():
        return "npm test"
    if (root / "go.mod").is_file():
        return "go test ./..."
    if (root / "Cargo.toml").is_file():
        return "cargo test"
    return None


def init_project(
    root: Path, *, name: str | None = None, test_command: str | None = None
) -> InitResult:
    root = root.resolve()
    result = InitResult(root)
    config = root / CONFIG_NAME
    if config.exists():
        result.kept.append(CONFIG_NAME)
    else:
        text = render(
            "init/specflow.toml.j2",
            None,
            name=name or root.name,
            test_command=test_command or _guess_test_command(root),
        )
        parse_config(text, config)  # the template must always produce a valid config
        atomic_write_text(config, text)
        result.created.append(CONFIG_NAME)
    constitution = root / "specs" / "constitution.md"
    if constitution.exists():
        result.kept.append("specs/constitution.md")
    elif (root / SPECKIT_CONSTITUTION).is_file():
        result.kept.append(SPECKIT_CONSTITUTION)
    else:
        source = builtin_templates_dir() / "init" / "constitution.md"
        atomic_write_text(constitution, source.read_text(encoding="utf-8"))
        result.created.append("specs/constitution.md")
    (root / ".specflow").mkdir(exist_ok=True)
    gitignore = root / ".gitignore"
    existing = gitignore.read_text(encoding="utf-8") if gitignore.is_file() else ""
    if ".specflow/*" not in existing.split() and ".specflow/" not in existing.split():
        sep = "" if not existing or existing.endswith("\n") else "\n"
        # Runtime state is ignored, but template overrides are shared with the team.
        entry = "# specflow runtime state\n.specflow/*\n!.specflow/templates/\n"
        atomic_write_text(gitignore, existing + sep + entry)
        result.created.append(".gitignore entry")
    return result
