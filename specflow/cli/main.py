"""Entry point: builds the typer app from one thin module per command.

Command modules import only typer at module level; each command imports the stage it runs
inside its body, so `specflow --help` and `specflow status` never import litellm or mcp.
"""

from __future__ import annotations

import os
import sys

import typer

from specflow import __version__
from specflow.cli import vocabulary
from specflow.cli.app import App, debug_requested
from specflow.cli.commands import (
    approve,
    attach,
    change,
    check,
    clarify,
    cost,
    coverage,
    demo,
    describe,
    drift,
    export,
    graph,
    implement,
    import_,
    init,
    library,
    lint,
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
    describe,
    clarify,
    plan,
    tasks,
    implement,
    status,
    check,
    lint,
    graph,
    coverage,
    drift,
    change,
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


def _family(name: str) -> tuple[type[BaseException], ...]:
    """click's exception class `name` as the installed typer raises it.

    typer up to 0.2x raises click's own exceptions; later releases bundle a copy of click
    whose classes are not click's. Both are reached from typer's public BadParameter, so
    whichever typer the pins allow, its usage errors are caught here.
    """
    return tuple(c for c in typer.BadParameter.__mro__ if c.__name__ == name)


USAGE_ERRORS = _family("UsageError")
CLICK_ERRORS = _family("ClickException")


def usage_line(exc: BaseException, args: list[str]) -> str:
    """`error: invalid value '0' for '--parallel' / '-j': … (see 'specflow implement --help')`."""
    text = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    text = " ".join(text.split()).rstrip(".")
    given = _given_value(exc, args)
    if given is not None:
        text = text.replace("Invalid value for", f"Invalid value {given!r} for", 1)
    text = text[:1].lower() + text[1:]
    return f"error: {text} (see '{_command_path(exc, args)} --help')"


def _command_path(exc: BaseException, args: list[str]) -> str:
    """The command the user meant: the failing context's, else the words of `args` that name
    commands (an option without its value fails in the parent's context)."""
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", "") or "specflow"
    if path != "specflow":
        return path
    group = typer.main.get_command(app)
    words = ["specflow"]
    for arg in args:
        commands = getattr(group, "commands", {})
        if arg not in commands:
            break
        words.append(arg)
        group = commands[arg]
    return " ".join(words)


def _given_value(exc: BaseException, args: list[str]) -> str | None:
    """The value the user typed for the option a BadParameter names."""
    param = getattr(exc, "param", None)
    opts = [*getattr(param, "opts", []), *getattr(param, "secondary_opts", [])]
    for i, arg in enumerate(args):
        for opt in opts:
            if arg == opt and i + 1 < len(args):
                return args[i + 1]
            if opt.startswith("--") and arg.startswith(opt + "="):
                return arg[len(opt) + 1 :]
    return None


def _no_args_help(exc: BaseException) -> bool:
    """`specflow` or a group without a command: show its help (click's NoArgsIsHelpError)."""
    ctx = getattr(exc, "ctx", None)
    if type(exc).__name__ != "NoArgsIsHelpError" or ctx is None:
        return False
    sys.stdout.write(ctx.get_help() + "\n")
    return True


def run(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    debug = debug_requested(args)
    try:
        command = vocabulary.apply(typer.main.get_command(app))
        code = command.main(args=args, prog_name="specflow", standalone_mode=False)
    except SpecflowError as err:
        if debug:
            raise
        _print_error(err)
        sys.exit(err.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except USAGE_ERRORS as exc:
        if not _no_args_help(exc):
            sys.stderr.write(usage_line(exc, args) + "\n")
        sys.exit(2)
    except CLICK_ERRORS as exc:  # e.g. a file argument that cannot be opened
        text = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        sys.stderr.write(f"error: {' '.join(text.split())}\n")
        sys.exit(1)
    except OSError as exc:
        if debug:
            raise
        from specflow.errors import os_error

        fs_error = os_error(exc)
        _print_error(fs_error)
        sys.exit(fs_error.exit_code)
    except Exception as exc:
        if debug:
            raise
        first = str(exc).splitlines()[0] if str(exc) else ""
        sys.stderr.write(
            f"error: internal error: {type(exc).__name__}: {first} (rerun with --debug and report it)\n"
        )
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
