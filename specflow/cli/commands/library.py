"""`specflow library add|list|update|remove|constitution`: shared spec libraries."""

from __future__ import annotations

from typing import Any, Optional

import typer

from specflow.cli.app import app_of
from specflow.cli.commands._shared import command_group


def _short(pin: str) -> str:
    return pin[:19] if pin.startswith("sha256:") else pin[:12]


def _source_arg(app_: Any, source: str) -> str:
    """A local path given relative to the current folder, made relative to the project root
    (where specflow.toml resolves it); URLs and absolute paths are kept as given."""
    import os
    from pathlib import Path

    if "://" in source or source.startswith("git@"):
        return source
    path = Path(source).expanduser()
    if path.is_absolute() or not (app_.cwd / path).exists():
        return source
    return Path(os.path.relpath((app_.cwd / path).resolve(), app_.project.root)).as_posix()


def register(app: typer.Typer) -> None:
    lib = command_group(
        app,
        "library",
        "Shared spec libraries: reusable constitutions, feature specs and templates.",
    )

    @lib.command("add")
    def add(
        ctx: typer.Context,
        name: str = typer.Argument(..., help="Your name for it, e.g. 'team'."),
        source: str = typer.Argument(..., help="A git URL, a git repository path, or a folder."),
        ref: Optional[str] = typer.Option(
            None, "--ref", help="Branch, tag or commit to pin (default: HEAD)."
        ),
    ) -> None:
        """Pin a library by commit (a plain folder: by content hash) in specflow.toml."""
        from specflow.library.core import add_library

        app_ = app_of(ctx)
        info = add_library(app_.project, name, _source_arg(app_, source), ref)
        feats = info.features()
        app_.echo(
            f"added library {info.name} at {_short(info.commit)} ({info.kind}); "
            f"{len(feats)} feature(s)" + (f": {', '.join(feats)}" if feats else "")
        )

    @lib.command("list")
    def list_(
        ctx: typer.Context,
        json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """The project's libraries, their pins and features."""
        from specflow.library.core import list_libraries

        app_ = app_of(ctx)
        infos = list_libraries(app_.project)
        if json_out:
            app_.print_json([i.to_dict() for i in infos])
            return
        if not infos:
            app_.echo("no libraries; add one with 'specflow library add NAME SOURCE'")
        for i in infos:
            ref = f" ({i.ref})" if i.ref else ""
            feats = ", ".join(i.features()) if i.path else "not fetched yet"
            app_.echo(f"{i.name}  {_short(i.commit)}{ref}  {i.source}  features: {feats or '-'}")

    @lib.command("update")
    def update(
        ctx: typer.Context,
        name: str = typer.Argument(..., help="The library."),
        ref: Optional[str] = typer.Option(
            None, "--ref", help="Follow this ref from now on (default: the recorded one, or HEAD)."
        ),
    ) -> None:
        """Re-pin to the newest commit (a plain folder: its current content)."""
        from specflow.library.core import update_library

        app_ = app_of(ctx)
        old, info = update_library(app_.project, name, ref)
        if old == info.commit:
            app_.echo(f"library {name} is up to date at {_short(info.commit)}")
        else:
            app_.echo(f"library {name}: {_short(old or '-')} -> {_short(info.commit)}")

    @lib.command("remove")
    def remove(ctx: typer.Context, name: str = typer.Argument(..., help="The library.")) -> None:
        """Drop the library from specflow.toml and its cached copies."""
        from specflow.library.core import remove_library

        app_ = app_of(ctx)
        remove_library(app_.project, name)
        app_.echo(f"removed library {name}")

    @lib.command("constitution")
    def constitution(
        ctx: typer.Context,
        name: str = typer.Argument(..., help="The library."),
        force: bool = typer.Option(False, "--force", help="Replace your own constitution."),
    ) -> None:
        """Start specs/constitution.md from the library's constitution.md."""
        from specflow.library.constitution import use_constitution

        app_ = app_of(ctx)
        path = use_constitution(app_.project, name, force=force)
        app_.echo(f"wrote {path.relative_to(app_.project.root)} from library {name}")
