"""Entry point: builds the typer app from one thin module per command.

Command modules import only typer at module level; each command imports the stage it runs
inside its body, so `specflow --help` and `specflow status` never import litellm or mcp.
"""

from __future__ import annotations

import os
import sys

import typer

from specflow import __version__
from specflow.cli.app import App, debug_requested
from specflow.cli.commands import (
    approve,
    attach,
    check,
    clarify,
    cost,
    coverage,
    demo,
    export,
    graph,
    implement,
    import_,
    init,
    library,
    log,
    mcp,
    plan,
    replay,
    report,
    review,
    schema,
    specify,
    status,
    tasks,
    trace,
    why,
)
from specflow.errors import SpecflowError

# litellm would otherwise download its price map at first use: offline, private, fast.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

# In the order `specflow --help` lists them.
COMMANDS = (
    init,
    specify,
    clarify,
    plan,
    tasks,
    implement,
    status,
    check,
    graph,
    coverage,
    schema,
    log,
    cost,
    demo,
    export,
    library,
    import_,
    trace,
    why,
    report,
    replay,
    attach,
    review,
    approve,
    mcp,
)

app = typer.Typer(
    name="specflow",
    help="Spec-driven development: specs -> plan -> task graph -> parallel coding agents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"specflow {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def main(
    ctx: typer.Context,
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Less output."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    ctx.obj = App(debug=debug, quiet=quiet)


for _command in COMMANDS:
    _command.register(app)


def _print_error(err: SpecflowError) -> None:
    msg = f"error: {err.message}"
    if err.hint:
        msg += f" ({err.hint})"
    sys.stderr.write(msg.replace("\n", " ") + "\n")


def run(argv: list[str] | None = None) -> None:
    import click

    args = sys.argv[1:] if argv is None else argv
    debug = debug_requested(args)
    try:
        code = app(args=args, prog_name="specflow", standalone_mode=False)
    except SpecflowError as err:
        if debug:
            raise
        _print_error(err)
        sys.exit(err.exit_code)
    except click.exceptions.Abort:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except Exception as exc:
        if debug:
            raise
        first = str(exc).splitlines()[0] if str(exc) else ""
        sys.stderr.write(
            f"error: internal error: {type(exc).__name__}: {first} (rerun with --debug and report it)\n"
        )
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
