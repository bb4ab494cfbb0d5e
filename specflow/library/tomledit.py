"""Editing `[libraries.NAME]` in specflow.toml (or `[tool.specflow.libraries.NAME]` in
pyproject.toml) in place: one table replaced or appended, every other line kept as written."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from specflow.config import CONFIG_NAME, parse_config
from specflow.errors import ConfigError
from specflow.fsutil import atomic_write_text

_HEADER_RE = re.compile(r"^\s*\[")


def config_file(root: Path) -> tuple[Path, str]:
    """The file holding the project's config and the key prefix its tables use."""
    path = root / CONFIG_NAME
    if path.is_file():
        return path, ""
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and "[tool.specflow" in pyproject.read_text(encoding="utf-8"):
        return pyproject, "tool.specflow."
    return path, ""


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return json.dumps(str(v), ensure_ascii=False)  # a JSON string is a TOML basic string


def _table_re(prefix: str, name: str) -> re.Pattern[str]:
    key = rf"{re.escape(prefix)}libraries\.(?:{re.escape(name)}|\"{re.escape(name)}\")"
    return re.compile(rf"^\s*\[\s*{key}\s*\]\s*(#.*)?$")


def set_library(root: Path, name: str, entry: dict[str, Any]) -> Path:
    """Write `[libraries.<name>]` with `entry` (None values left out), replacing the old table."""
    path, prefix = config_file(root)
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    table = [f"[{prefix}libraries.{name}]"]
    table += [f"{k} = {_value(v)}" for k, v in entry.items() if v is not None]
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if _table_re(prefix, name).match(ln)), None)
    if start is None:
        out = [*lines, *([""] if lines and lines[-1].strip() else []), *table]
    else:
        end = start + 1
        while end < len(lines) and not _HEADER_RE.match(lines[end]):
            end += 1
        keep = end  # comments and blank lines just before the next table belong to it
        while keep > start + 1 and (
            not lines[keep - 1].strip() or lines[keep - 1].lstrip().startswith("#")
        ):
            keep -= 1
        out = [*lines[:start], *table, *lines[keep:]]
    _save_checked(path, "\n".join(out) + "\n", prefix, name, entry)
    return path


def remove_library(root: Path, name: str) -> Path:
    path, prefix = config_file(root)
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next((i for i, ln in enumerate(lines) if _table_re(prefix, name).match(ln)), None)
    if start is None:
        raise ConfigError(
            f"{path.name} has no [{prefix}libraries.{name}] table", f"edit {path.name} by hand"
        )
    end = start + 1
    while end < len(lines) and not _HEADER_RE.match(lines[end]):
        end += 1
    out = lines[:start] + lines[end:]
    while out and not out[-1].strip():
        out.pop()
    _save_checked(path, "\n".join(out) + "\n", prefix, name, None)
    return path


def _save_checked(
    path: Path, text: str, prefix: str, name: str, entry: dict[str, Any] | None
) -> None:
    """Refuse to write a file that no longer parses, or lost/kept the table unexpectedly
    (e.g. the library was defined inline, which this editor does not rewrite)."""
    try:
        config = parse_config(text, path, in_pyproject=bool(prefix))
    except ConfigError:
        config = None
    got = config.libraries.get(name) if config else None
    ok = config is not None and (
        got is None
        if entry is None
        else got is not None
        and all(getattr(got, k) == v for k, v in entry.items() if v is not None)
    )
    if not ok:
        wanted = "\n".join(f"{k} = {_value(v)}" for k, v in (entry or {}).items() if v is not None)
        raise ConfigError(
            f"could not update [{prefix}libraries.{name}] in {path.name} automatically",
            f"edit it by hand: [{prefix}libraries.{name}] {wanted}".replace("\n", "; "),
        )
    atomic_write_text(path, text)
