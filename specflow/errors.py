"""Typed errors. Core code raises these; only the CLI boundary prints them.

Exit codes follow DESIGN.md: 1 = the work failed (a task failed, check found problems,
the model could not produce a valid answer), 2 = bad usage or bad input.
"""

from __future__ import annotations


class SpecflowError(Exception):
    """An error with a one-line message and a hint saying what to do next."""

    exit_code: int = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class InputError(SpecflowError):
    """Bad input: a malformed file, an unknown feature, an invalid argument."""


class ParseError(InputError):
    """A Markdown artifact that cannot be parsed; names the file and line."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        where = path or ""
        if line is not None:
            where = f"{where}:{line}" if where else f"line {line}"
        super().__init__(f"{where}: {message}" if where else message, hint)
        self.path = path
        self.line = line
        self.detail = message


class ConfigError(InputError):
    """specflow.toml (or the environment) is missing or wrong."""


class NotInitialized(InputError):
    """The command needs a specflow project (or a git repository)."""


class ArtifactConflict(InputError):
    """Refusing to overwrite an artifact a person edited by hand."""


class ModelError(SpecflowError):
    """The model could not give a valid answer after retries and repair."""

    exit_code = 1


class ModelConfigError(SpecflowError):
    """Authentication or configuration problem with the model provider."""

    exit_code = 2


class BudgetExceeded(SpecflowError):
    exit_code = 1


class ConstitutionViolation(SpecflowError):
    """An artifact was written but breaks the project's constitution (a plan's failing gate
    without a justification): the work is kept for a person to fix, the command fails."""

    exit_code = 1


class RunFailed(SpecflowError):
    """Some task failed; the run finished what it could."""

    exit_code = 1


class LockHeld(SpecflowError):
    exit_code = 2


class Interrupted(SpecflowError):
    exit_code = 130
