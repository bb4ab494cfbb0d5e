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


class WorkFailed(SpecflowError):
    """The input was fine but the work failed (exit 1): a task, the model, git, the disk."""

    exit_code = 1


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


class ModelError(WorkFailed):
    """The model could not give a valid answer after retries and repair."""


class ModelConfigError(SpecflowError):
    """Authentication or configuration problem with the model provider."""


class BudgetExceeded(WorkFailed):
    """A run or stage would spend more than its --max-cost."""


class ConstitutionViolation(WorkFailed):
    """An artifact was written but breaks the project's constitution (a plan's failing gate
    without a justification): the work is kept for a person to fix, the command fails."""


class RunFailed(WorkFailed):
    """Some task failed; the run finished what it could."""


class LockHeld(SpecflowError):
    """Another run is implementing the feature (it holds the feature's lock)."""


class Interrupted(SpecflowError):
    exit_code = 130


class FileSystemError(WorkFailed):
    """The file system refused: no permission, a read-only or full disk, a missing folder."""


def os_error(exc: OSError) -> FileSystemError:
    """An OSError as one line naming the file and what to do: the CLI boundary's last resort
    for file-system failures no command anticipated (permissions, a full disk)."""
    import errno

    where = exc.filename if exc.filename is not None else "a file"
    if exc.filename2 is not None:
        where = f"{where} -> {exc.filename2}"
    reason = (exc.strerror or type(exc).__name__).lower()
    err = FileSystemError(f"{where}: {reason}")
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        err.hint = "free some disk space and run the command again; nothing was half-written"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        err.hint = "check the permissions of that file and its folder"
        err.exit_code = 2
    elif exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.ELOOP):
        err.exit_code = 2
    return err


class StaleChange(WorkFailed):
    """A change proposal made against a requirement text that has since changed: nothing is
    applied."""
