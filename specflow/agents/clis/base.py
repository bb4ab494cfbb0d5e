"""What the CLI agents (claude, codex, gemini, aider) share: find the binary, run it headless in
the task's worktree with a wall-time limit, read its output as it comes, and turn what it reported
into events and an AgentResult.

Each adapter says three things: its command line (`arguments`), how to read its output (a
`Parser`), and how to recognise and fix a failed login (`auth_patterns`, `auth_hint`).
The brief is the prompt, passed as one argv element (or, if very long, on stdin): never through
a shell string.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from specflow.agents.base import AgentResult, AgentTask, EventSink
from specflow.agents.clis.proc import LOST, Handle, Launch, LineTail, PlainHandle
from specflow.agents.cmd import CmdAgent, _tail
from specflow.errors import InputError
from specflow.llm.base import Usage

if TYPE_CHECKING:
    from specflow.agents.registry import AgentOptions
    from specflow.agents.tmux import TmuxLauncher

POLL_S = 0.05
MAX_ARG_BYTES = 100_000  # Linux caps one argv string at 128 KiB; longer briefs go on stdin
TEXT_CHARS = 2000  # result text kept in events and the summary


@dataclass
class Report:
    """What the agent's output said, as far as it could be read."""

    valid: bool = False  # at least one record in the expected format was seen
    done: bool = False  # the agent reported its final result
    error: str | None = None  # the agent reported a failure
    text: str = ""  # its final message
    turns: int = 0
    steps: int = 0
    usage: Usage = field(default_factory=Usage)
    model: str | None = None
    first_bad: str | None = None  # the first line that was not in the expected format


class Parser:
    """Reads an agent's output line by line; emits steps; `finish` gives the Report."""

    def __init__(self, emit: EventSink) -> None:
        self.emit = emit
        self.report = Report()

    def feed(self, line: str) -> None:
        raise NotImplementedError

    def finish(self, output: str) -> Report:
        return self.report

    def bad(self, line: str) -> None:
        if self.report.first_bad is None and line.strip():
            self.report.first_bad = bounded(line.strip(), 200)

    def step(self, tool: str, args: str, result: str = "", ok: bool = True) -> None:
        self.report.steps += 1
        self.emit(
            "agent_step",
            step=self.report.steps,
            tool=tool,
            args=bounded(args, 300),
            result=bounded(result, 500),
            ok=ok,
            usage={},
        )


class JsonLinesParser(Parser):
    """Output of one JSON object a line, each with a string `type` (claude, codex): a line that
    is not one is noted as bad, each record goes to `record`."""

    def feed(self, line: str) -> None:
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict) or not isinstance(record.get("type"), str):
            self.bad(line)
            return
        self.report.valid = True
        self.record(record["type"], record)

    def record(self, kind: str, record: dict[str, Any]) -> None:
        raise NotImplementedError


class CliAgent(CmdAgent):
    """Base of the CLI adapters. Reuses CmdAgent's environment (SPECFLOW_*) and log paths."""

    binary: ClassVar[str]
    install_hint: ClassVar[str]
    auth_hint: ClassVar[str]
    auth_patterns: ClassVar[tuple[str, ...]] = ()
    auth_exit_codes: ClassVar[tuple[int, ...]] = ()

    def __init__(
        self,
        *,
        executable: str | None = None,
        log_dir: Path | None = None,
        model: str | None = None,
        tmux: bool = False,
    ) -> None:
        found = executable or shutil.which(self.binary)
        if not found:
            raise InputError(f"{self.binary} not found on PATH", self.install_hint)
        self.executable = found
        self.name = self.binary
        self.argv = [found]
        self.log_dir = log_dir
        self.model = model
        self.tmux: TmuxLauncher | None = None
        if tmux:
            from specflow.agents.tmux import TmuxLauncher

            self.tmux = TmuxLauncher.create()

    @classmethod
    def from_options(cls, options: AgentOptions) -> CliAgent:
        return cls(
            log_dir=options.log_dir, model=options.model, tmux=getattr(options, "tmux", False)
        )

    # -- what each adapter provides ----------------------------------------------------------

    def arguments(self, job: AgentTask, prompt: str | None) -> list[str]:
        """argv after the executable; `prompt` is None when the brief goes on stdin."""
        raise NotImplementedError

    def parser(self, emit: EventSink) -> Parser:
        raise NotImplementedError

    def model_args(self, job: AgentTask) -> list[str]:
        """`--model M` when the task or the agent names a model (every adapter spells it so)."""
        model = job.model or self.model
        return ["--model", str(model)] if model else []

    def prepare(self, job: AgentTask) -> None:
        """Anything to set up in the worktree before the run (default: nothing)."""

    # -- the run -----------------------------------------------------------------------------

    def run(self, job: AgentTask, emit: EventSink, cancel: threading.Event) -> AgentResult:
        log = self._log_path(job)
        log.parent.mkdir(parents=True, exist_ok=True)
        via_stdin = len(job.brief.encode("utf-8")) > MAX_ARG_BYTES
        argv = [self.executable, *self.arguments(job, None if via_stdin else job.brief)]
        launch = Launch(
            argv=argv,
            cwd=job.worktree,
            env=self.env_for(job),
            log=log,
            stdin=job.brief_path if via_stdin else None,
        )
        start = time.monotonic()
        try:
            self.prepare(job)
            handle: Handle = (
                self.tmux.start(launch, job, emit) if self.tmux else PlainHandle(launch)
            )
        except (OSError, InputError) as exc:
            return AgentResult(ok=False, reason=f"cannot start {self.binary}: {exc}")
        shown = [a if a != job.brief else "<brief>" for a in argv]
        emit("agent_process", pid=handle.pid, command=shlex.join(shown), log=str(log))
        parser = self.parser(emit)
        tail = LineTail(log)
        stopped: str | None = None
        code: int | None = None
        try:
            while True:
                self._feed(parser, tail.lines())
                code = handle.poll()
                if code is not None:
                    break
                if cancel.is_set():
                    stopped = "cancelled"
                elif time.monotonic() - start > job.limits.max_seconds:
                    stopped = f"time limit ({job.limits.max_seconds:g} s)"
                if stopped:
                    handle.stop()
                    code = handle.poll()
                    break
                time.sleep(POLL_S)
        finally:
            handle.reap()
        self._feed(parser, tail.lines(final=True))
        output = _tail(log, 64_000)
        try:
            report = parser.finish(output)
        except Exception as exc:  # output of a shape no adapter foresaw is a failed task
            parser.bad(f"{last_line(output)} ({type(exc).__name__}: {exc})")
            report = parser.report
            report.done = False
        reason = stopped or self.failure(report, code, output)
        emit(
            "agent_report",
            ok=reason is None,
            exit_code=code,
            text=bounded(report.text, TEXT_CHARS),
            turns=report.turns,
            model=report.model,
            **report.usage.to_dict(),
        )
        return AgentResult(
            ok=reason is None,
            summary=report.text or output[-TEXT_CHARS:],
            reason=reason,
            steps=max(report.steps, report.turns, 1),
            usage=report.usage,
        )

    def _feed(self, parser: Parser, lines: list[str]) -> None:
        for line in lines:
            try:
                parser.feed(line)
            except Exception as exc:  # a record of an unexpected shape must not end the run
                parser.bad(f"{line} ({type(exc).__name__})")

    def failure(self, report: Report, code: int | None, output: str) -> str | None:
        """Why this run failed, or None when it did its job."""
        clean = code == 0 and report.error is None and report.valid
        if not clean and self.is_auth_failure(code, report, output):
            return f"{self.binary} could not authenticate: {self.auth_hint}"
        if report.error:
            return f"{self.binary} reported an error: {bounded(report.error, 300)}"
        if code is None:
            return f"{self.binary} ended without an exit status"
        if code == LOST:
            return f"{self.binary}'s tmux window closed before it finished"
        if code < 0:
            return f"{self.binary} was killed by {_signal_name(-code)}: {last_line(output)}"
        if code != 0:
            return f"{self.binary} exited with code {code}: {last_line(output)}"
        if not report.valid or not report.done:
            what = report.first_bad or last_line(output) or "no output"
            return f"{self.binary} printed malformed output (no final result): {what}"
        return None

    def is_auth_failure(self, code: int | None, report: Report, output: str) -> bool:
        if code is not None and code in self.auth_exit_codes:
            return True
        text = f"{report.error or ''}\n{output[-8000:]}"
        return any(re.search(p, text, re.IGNORECASE) for p in self.auth_patterns)


_CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x08\x0b-\x1f\x7f]")


def bounded(text: str, limit: int) -> str:
    text = _CONTROL.sub("", text or "")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def last_line(output: str) -> str:
    for line in reversed(output.strip().splitlines()):
        if line.strip():
            return bounded(line.strip(), 300)
    return ""


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def obj(value: Any) -> dict[str, Any]:
    """A JSON object, or {} for anything else (records of an unexpected shape are skipped)."""
    return value if isinstance(value, dict) else {}


def as_int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0
