"""The application object handed to every command: options, project, output."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specflow.errors import NotInitialized

if TYPE_CHECKING:
    import typer
    from rich.console import Console

    from specflow.project import Project


@dataclass
class App:
    cwd: Path = field(default_factory=Path.cwd)
    debug: bool = False
    quiet: bool = False

    @cached_property
    def project(self) -> Project:
        from specflow.project import Project

        project = Project.discover(self.cwd)
        if project is None:
            raise NotInitialized(
                "not a specflow project (no specflow.toml here or above)",
                "run 'specflow init' first",
            )
        return project

    @cached_property
    def console(self) -> Console:
        from rich.console import Console

        return Console(highlight=False, soft_wrap=True)

    @cached_property
    def err_console(self) -> Console:
        from rich.console import Console

        return Console(stderr=True, highlight=False, soft_wrap=True)

    def print(self, *objects: Any, **kwargs: Any) -> None:
        if not self.quiet:
            self.console.print(*objects, **kwargs)

    def echo(self, text: str = "") -> None:
        """Plain text to stdout, no markup interpretation."""
        if not self.quiet:
            sys.stdout.write(text + "\n")

    def print_json(self, data: Any) -> None:
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")

    def note(self, text: str) -> None:
        """Progress for humans: stderr, so stdout stays clean for pipes."""
        if not self.quiet:
            self.err_console.print(text)


def app_of(ctx: typer.Context) -> App:
    """The command's application object, typed (typer hands it over as `ctx.obj: Any`)."""
    obj = ctx.obj
    if not isinstance(obj, App):
        raise TypeError("a specflow command runs under the specflow app's callback")
    return obj


def debug_requested(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("SPECFLOW_DEBUG", "") not in ("", "0")
