"""Where the data shipped with specflow lives: built-in templates and the demo's examples.

In a wheel they are `specflow/_templates` and `specflow/_examples` (copied from the top-level
`templates/` and `examples/` folders at build time); in a source checkout, those folders.
"""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _shipped(name: str, source: str) -> Path:
    shipped = _PKG / name
    return shipped if shipped.is_dir() else _PKG.parent / source


def builtin_templates_dir() -> Path:
    return _shipped("_templates", "templates")


def builtin_examples_dir() -> Path:
    return _shipped("_examples", "examples")
