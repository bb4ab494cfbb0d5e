"""The builtin agent's tools: OpenAI function schemas and their implementations.

Every tool takes the model's JSON arguments and returns a ToolResult; a problem (bad arguments,
a refused path, a missing file, no unique match) comes back as `ok=False` with a message the model
can act on — never as an exception escaping the loop.
"""

from __future__ import annotations

import fnmatch
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specflow.agents.builtin.runner import RunOutcome, bounded, describe, run_command, to_argv
from specflow.agents.builtin.sandbox import Sandbox, ToolError

if TYPE_CHECKING:
    from specflow.sandbox import Confinement

MAX_RESULT_CHARS = 12_000
MAX_LIST_ENTRIES = 400
MAX_READ_LINES = 800
MAX_GREP_MATCHES = 200
MAX_FILE_BYTES = 2_000_000
DEFAULT_RUN_TIMEOUT_S = 120.0
MAX_RUN_TIMEOUT_S = 1800.0
MAX_GREP_SECONDS = 15.0
SKIP_DIRS = frozenset(
    {".git", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".nox"}
    | {".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis", ".specflow"}
)
# Shell operators in a command given as a string: without a shell they would be plain arguments.
_SHELL_OPERATORS = frozenset({"&&", "||", "|", ">", ">>", "<", "2>", "2>&1", "&>", "&"})


def _fn(
    name: str, description: str, properties: dict[str, Any], required: list[str]
) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": required,
            },
        },
    }


_PATH = {"type": "string", "description": "path relative to the worktree root"}

TOOLS: list[dict[str, Any]] = [
    _fn(
        "list_files",
        "List files under a folder of the worktree (recursive, .git skipped).",
        {
            "path": {
                "type": "string",
                "description": "folder relative to the worktree root (default '.')",
            },
            "pattern": {"type": "string", "description": "glob on the relative path, e.g. '*.py'"},
        },
        [],
    ),
    _fn(
        "read_file",
        "Read a text file with line numbers. Use start_line/end_line (1-based, inclusive) for long files.",
        {"path": _PATH, "start_line": {"type": "integer"}, "end_line": {"type": "integer"}},
        ["path"],
    ),
    _fn(
        "write_file",
        "Create or overwrite a file with the full content given. Parent folders are created.",
        {"path": _PATH, "content": {"type": "string"}},
        ["path", "content"],
    ),
    _fn(
        "edit_file",
        "Replace one exact occurrence of `old` with `new` in a file. `old` must occur exactly once: "
        "include enough surrounding lines to make it unique.",
        {"path": _PATH, "old": {"type": "string"}, "new": {"type": "string"}},
        ["path", "old", "new"],
    ),
    _fn(
        "grep",
        "Search files for a Python regular expression; returns path:line: text.",
        {
            "pattern": {"type": "string"},
            "path": {"type": "string", "description": "file or folder to search (default '.')"},
        },
        ["pattern"],
    ),
    _fn(
        "run",
        'Run a command in the worktree root, e.g. ["python", "-m", "pytest", "-q"]. No shell: '
        "pipes, redirections and $(...) are not interpreted. Returns exit code and output.",
        {
            "command": {
                "type": "array",
                "items": {"type": "string"},
                "description": 'argv, e.g. ["python", "-m", "pytest", "-q"] (a plain string is '
                "also accepted and split like a shell would, without any expansion)",
            },
            "timeout_s": {"type": "number", "description": f"default {DEFAULT_RUN_TIMEOUT_S:.0f}"},
        },
        ["command"],
    ),
    _fn(
        "finish",
        "Call when the task is done (or cannot be done), with a short summary of what you changed.",
        {"summary": {"type": "string"}},
        ["summary"],
    ),
]

TOOL_NAMES = frozenset(t["function"]["name"] for t in TOOLS)


@dataclass
class ToolResult:
    ok: bool
    content: str
    finished: bool = False
    summary: str = ""
    changed: bool = False  # a file tool wrote to the worktree (commands may too, unseen)
    run: RunOutcome | None = None


def _str(args: Mapping[str, Any], key: str, default: str | None = None) -> str:
    value = args.get(key, default)
    if value is None:
        raise ToolError(f"missing required argument '{key}'")
    if not isinstance(value, str):
        raise ToolError(f"argument '{key}' must be a string, got {type(value).__name__}")
    return value


def _int(args: Mapping[str, Any], key: str) -> int | None:
    value = args.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ToolError(f"argument '{key}' must be an integer")
    try:
        return int(value)
    except ValueError:
        raise ToolError(f"argument '{key}' must be an integer") from None


def _number(args: Mapping[str, Any], key: str, default: float) -> float:
    value = args.get(key)
    if value is None:
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ToolError(f"argument '{key}' must be a positive number") from None
    if isinstance(value, bool) or not number > 0:
        raise ToolError(f"argument '{key}' must be a positive number")
    return number


class Toolbox:
    """The tools bound to one worktree, one cancel flag and one deadline."""

    def __init__(
        self,
        sandbox: Sandbox,
        *,
        cancel: threading.Event | None = None,
        deadline: float | None = None,
        environ: Mapping[str, str] | None = None,
        default_timeout_s: float = DEFAULT_RUN_TIMEOUT_S,
        confinement: Confinement | None = None,
    ) -> None:
        """`confinement`: where commands run (None: the default of `specflow.sandbox.resolve`);
        `environ`: what their allowlisted environment is taken from (default: this process's)."""
        from specflow.sandbox import resolve

        self.sandbox = sandbox
        self.cancel = cancel
        self.deadline = deadline  # time.monotonic() value
        self.env = dict(os.environ if environ is None else environ)
        self.default_timeout_s = default_timeout_s
        self.confinement = confinement if confinement is not None else resolve()
        self._impl: dict[str, Callable[[Mapping[str, Any]], ToolResult]] = {
            "list_files": self.list_files,
            "read_file": self.read_file,
            "write_file": self.write_file,
            "edit_file": self.edit_file,
            "grep": self.grep,
            "run": self.run,
            "finish": self.finish,
        }

    def call(self, name: str, args: Mapping[str, Any]) -> ToolResult:
        impl = self._impl.get(name)
        if impl is None:
            return ToolResult(
                False, f"error: unknown tool '{name}'; available: {', '.join(sorted(self._impl))}"
            )
        if not isinstance(args, Mapping):
            return ToolResult(False, "error: arguments must be a JSON object")
        try:
            return impl(args)
        except ToolError as exc:
            return ToolResult(False, f"error: {exc.message}")
        except (OSError, UnicodeError, re.error, ValueError) as exc:
            return ToolResult(False, f"error: {type(exc).__name__}: {exc}")

    # -- files ------------------------------------------------------------------------------

    def _walk(self, top: Path) -> list[Path]:
        """Files under `top`, sorted; .git, caches, virtualenvs and symlinked folders skipped
        (name such a folder as `path` to look inside it)."""
        found: list[Path] = []
        for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if d.lower() not in SKIP_DIRS)
            for name in sorted(filenames):
                if name.lower() != ".git":
                    found.append(Path(dirpath) / name)
        return found

    def list_files(self, args: Mapping[str, Any]) -> ToolResult:
        top = self.sandbox.resolve(_str(args, "path", "."))
        pattern = args.get("pattern")
        if pattern is not None and not isinstance(pattern, str):
            raise ToolError("argument 'pattern' must be a string")
        if top.is_file():
            return ToolResult(True, self.sandbox.display(top))
        if not top.is_dir():
            raise ToolError(f"{self.sandbox.display(top)}: no such folder")
        rels = [self.sandbox.display(p) for p in self._walk(top)]
        if pattern:
            rels = [
                r
                for r in rels
                if fnmatch.fnmatch(r, pattern) or fnmatch.fnmatch(Path(r).name, pattern)
            ]
        shown = rels[:MAX_LIST_ENTRIES]
        text = "\n".join(shown) if shown else "(no files)"
        if len(rels) > len(shown):
            text += f"\n[... {len(rels) - len(shown)} more; narrow with path or pattern]"
        return ToolResult(True, bounded(text, MAX_RESULT_CHARS))

    def _read_text(self, real: Path, errors: str = "replace") -> str:
        data = self.sandbox.read_bytes(real, MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise ToolError(f"{self.sandbox.display(real)}: larger than {MAX_FILE_BYTES} bytes")
        if b"\x00" in data[:8192]:
            raise ToolError(f"{self.sandbox.display(real)}: binary file")
        return data.decode("utf-8", errors=errors)

    def read_file(self, args: Mapping[str, Any]) -> ToolResult:
        real = self.sandbox.resolve(_str(args, "path"))
        lines = self._read_text(real).splitlines()
        start = max(1, _int(args, "start_line") or 1)
        end = _int(args, "end_line") or len(lines)
        end = min(end, len(lines), start + MAX_READ_LINES - 1)
        if not lines:
            return ToolResult(True, f"{self.sandbox.display(real)}: (empty file)")
        if start > len(lines):
            raise ToolError(f"start_line {start} is past the end ({len(lines)} lines)")
        if end < start:
            raise ToolError(f"end_line {end} is before start_line {start}")
        width = len(str(end))
        body = "\n".join(f"{n:>{width}}  {lines[n - 1]}" for n in range(start, end + 1))
        if end < len(lines):
            body += f"\n[... lines {end + 1}-{len(lines)} not shown; use start_line]"
        return ToolResult(True, bounded(body, MAX_RESULT_CHARS, head_share=0.7))

    def write_file(self, args: Mapping[str, Any]) -> ToolResult:
        path = _str(args, "path")
        content = _str(args, "content")
        real = self.sandbox.resolve(path)
        existed = self.sandbox.write_bytes(real, content.encode("utf-8"))
        verb = "overwrote" if existed else "created"
        lines = content.count("\n") + (0 if content.endswith("\n") or not content else 1)
        return ToolResult(
            True, f"{verb} {self.sandbox.display(real)} ({lines} lines)", changed=True
        )

    def edit_file(self, args: Mapping[str, Any]) -> ToolResult:
        real = self.sandbox.resolve(_str(args, "path"))
        old = _str(args, "old")
        new = _str(args, "new")
        if not old:
            raise ToolError("'old' is empty; use write_file to create a file")
        # surrogateescape: bytes that are not UTF-8 are written back exactly as they were.
        text = self._read_text(real, errors="surrogateescape")
        count = text.count(old)
        if count == 0 and "\r\n" in text and "\n" in old:  # the model sees lines, not CRLF
            old, new = old.replace("\n", "\r\n"), new.replace("\n", "\r\n")
            count = text.count(old)
        rel = self.sandbox.display(real)
        if count == 0:
            near = old.strip() and old.strip() in text
            hint = " (whitespace or indentation differs?)" if near else ""
            raise ToolError(f"{rel}: 'old' not found{hint}; read_file it and copy the exact text")
        if count > 1:
            raise ToolError(
                f"{rel}: 'old' occurs {count} times; it must occur exactly once — "
                "include more surrounding lines to make it unique"
            )
        updated = text.replace(old, new, 1)
        self.sandbox.write_bytes(real, updated.encode("utf-8", errors="surrogateescape"))
        line = text[: text.index(old)].count("\n") + 1
        return ToolResult(True, f"edited {rel} at line {line}", changed=True)

    def grep(self, args: Mapping[str, Any]) -> ToolResult:
        try:
            regex = re.compile(_str(args, "pattern"))
        except re.error as exc:
            raise ToolError(f"invalid regular expression: {exc}") from None
        top = self.sandbox.resolve(_str(args, "path", "."))
        files = [top] if top.is_file() else self._walk(top)
        hits: list[str] = []
        give_up = time.monotonic() + MAX_GREP_SECONDS
        for file in files:
            if time.monotonic() > give_up:
                hits.append(f"[... stopped after {MAX_GREP_SECONDS:g}s; narrow the path]")
                break
            try:
                real = self.sandbox.resolve(str(file))
                text = self._read_text(real)
            except ToolError:
                continue  # binary, too large, or a symlink pointing out: not searchable
            for n, line in enumerate(text.splitlines(), 1):
                if regex.search(line):
                    hits.append(f"{self.sandbox.display(file)}:{n}: {line[:300]}")
                    if len(hits) > MAX_GREP_MATCHES:
                        break
            if len(hits) > MAX_GREP_MATCHES:
                break
        if not hits:
            return ToolResult(True, "(no matches)")
        text = "\n".join(hits[:MAX_GREP_MATCHES])
        if len(hits) > MAX_GREP_MATCHES:
            text += f"\n[... more than {MAX_GREP_MATCHES} matches; narrow the pattern or path]"
        return ToolResult(True, bounded(text, MAX_RESULT_CHARS))

    # -- commands ---------------------------------------------------------------------------

    def run(self, args: Mapping[str, Any]) -> ToolResult:
        if "command" not in args:
            raise ToolError("missing required argument 'command'")
        argv = to_argv(args["command"])
        if isinstance(args["command"], str) and _SHELL_OPERATORS.intersection(argv):
            ops = " ".join(sorted(_SHELL_OPERATORS.intersection(argv)))
            raise ToolError(
                f"no shell runs your command, so {ops} would be passed as plain arguments; "
                "run one command per call (use grep/read_file instead of pipes)"
            )
        if argv[0] == "cd":
            raise ToolError("no cd: every command runs in the worktree root; pass paths instead")
        timeout = _number(args, "timeout_s", self.default_timeout_s)
        timeout = min(timeout, MAX_RUN_TIMEOUT_S)
        if self.deadline is not None:
            timeout = min(timeout, max(0.1, self.deadline - time.monotonic()))
        outcome = run_command(
            argv,
            cwd=self.sandbox.root,
            env=self.env,
            timeout_s=timeout,
            cancel=self.cancel,
            max_output=MAX_RESULT_CHARS,
            confinement=self.confinement,
        )
        return ToolResult(outcome.ok, describe(outcome), run=outcome)

    def finish(self, args: Mapping[str, Any]) -> ToolResult:
        summary = args.get("summary", "")
        if not isinstance(summary, str):
            summary = str(summary)
        return ToolResult(True, "finished", finished=True, summary=summary.strip())
