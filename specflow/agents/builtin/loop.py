"""The builtin agent: a tool-using loop on any Model, with step, time and cost limits.

One attempt = one conversation: the system prompt, the brief (plus feedback from the previous
attempt) as the user message, then model turn -> tool calls -> tool results until the model calls
`finish` or a limit, a loop, a cancel or a model error stops it. The agent never commits; the
engine commits whatever changed in the worktree.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specflow.agents.base import AgentResult, AgentTask, EventSink, Limits
from specflow.agents.builtin.guards import LoopGuard, argument_error, compact, money
from specflow.agents.builtin.runner import bounded
from specflow.agents.builtin.sandbox import Sandbox, ToolError
from specflow.agents.builtin.tools import TOOLS, Toolbox, ToolResult
from specflow.agents.builtin.transcript import Transcript
from specflow.errors import ModelConfigError, SpecflowError
from specflow.llm.base import Completion, Message, Model, ToolCall, Usage
from specflow.llm.prompt_cache import mark_cache_breakpoints
from specflow.redact import env_secrets, redact
from specflow.sandbox import resolve

if TYPE_CHECKING:
    from specflow.agents.registry import AgentOptions
    from specflow.config import Config, LLMSection
    from specflow.llm.base import CallObserver
    from specflow.sandbox import Confinement

ModelFactory = Callable[[str | None], Model]

NUDGE = (
    "You did not call a tool. Call a tool to continue working, or call `finish` with a summary "
    "if the task is done."
)
EVENT_ARGS_CHARS = 1_000
EVENT_RESULT_CHARS = 2_000


def default_model_factory(
    name: str | None,
    settings: LLMSection | None = None,
    observer: CallObserver | None = None,
) -> Model:
    """`job.model`, else the `implement` stage model from the environment, through the registry."""
    from specflow.config import Config, LLMSection

    if not name:
        name = Config().model_for("implement")
    if not name:
        raise ModelConfigError(
            "no model for the implement stage",
            hint="set [models].implement in specflow.toml or SPECFLOW_MODEL_IMPLEMENT",
        )
    from specflow.llm.registry import get_model  # imports litellm only when a model is needed

    return get_model(name, settings or LLMSection(), observer=observer)


class BuiltinAgent:
    """The `builtin` agent. Construct once; `run` may be called from several threads at once."""

    name = "builtin"

    def __init__(
        self,
        model_factory: ModelFactory | None = None,
        *,
        model: str | None = None,
        config: Config | None = None,
        settings: LLMSection | None = None,
        observer: CallObserver | None = None,
        project_root: Path | None = None,
        log_dir: Path | None = None,
        environ: Mapping[str, str] | None = None,
        max_context_chars: int = 240_000,
        confinement: Confinement | None = None,
    ) -> None:
        """`model` is the fallback when a job names none (default: `config`'s implement model);
        `settings` (default: `config.llm`) and `observer` go to the default model factory;
        `project_root` enables `.specflow/templates` overrides of the prompts; `log_dir` receives,
        per attempt, `<task>/agent-<attempt>.log` (readable, what `specflow log` shows) and
        `<task>/builtin-<attempt>.json` (the conversation); `environ` is what commands start
        from (scrubbed of secrets either way; default: this process's)."""
        if config is not None:
            model = model or config.model_for("implement")
            settings = settings or config.llm
        if model_factory is None:

            def model_factory(name: str | None) -> Model:
                return default_model_factory(name, settings, observer)

        self.model_factory: ModelFactory = model_factory
        self.default_model = model
        self.project_root = project_root
        self.log_dir = log_dir
        self.environ = environ
        self.max_context_chars = max_context_chars
        self.confinement = confinement
        self.sandbox_settings = config.sandbox if config is not None else None

    @classmethod
    def from_options(cls, options: AgentOptions) -> BuiltinAgent:
        """How `specflow.agents.registry.resolve_agent` builds it."""
        observer = None
        if options.project_root is not None:
            from specflow.llm.calls import CallLog

            # Every call in the project's call log too, as the stages' calls are.
            observer = CallLog(options.project_root / ".specflow" / "logs" / "calls.jsonl")
        return cls(
            model=options.model,
            config=options.config,
            project_root=options.project_root,
            log_dir=options.log_dir,
            observer=observer,
            confinement=options.confinement,
        )

    def run(self, job: AgentTask, emit: EventSink, cancel: threading.Event) -> AgentResult:
        return _Session(self, job, emit, cancel).run()


class _Session:
    """One attempt of one task."""

    def __init__(
        self, agent: BuiltinAgent, job: AgentTask, emit: EventSink, cancel: threading.Event
    ) -> None:
        self.agent = agent
        self.job = job
        self.emit = emit
        self.cancel = cancel
        self.limits = job.limits
        self.started = time.monotonic()
        self.deadline = self.started + self.limits.max_seconds
        self.steps = 0
        self.usage = Usage()
        self.guard = LoopGuard()
        self.messages: list[Message] = []
        self.transcript = Transcript(None, job.attempt)
        self.unreported = Usage()  # model usage not yet attached to an agent_step event
        self.secrets = env_secrets()  # redacted from every tool result before the model sees it

    # -- outcome ----------------------------------------------------------------------------

    def _result(self, ok: bool, reason: str | None = None, summary: str = "") -> AgentResult:
        return AgentResult(
            ok=ok, summary=summary, reason=reason, steps=self.steps, usage=self.usage
        )

    def _limit_reached(self) -> str | None:
        if self.cancel.is_set():
            return "cancelled"
        if time.monotonic() >= self.deadline:
            return f"time limit ({self.limits.max_seconds:g}s) reached"
        if self.steps >= self.limits.max_steps:
            return f"step limit ({self.limits.max_steps}) reached"
        cap = self.limits.max_cost_usd
        if cap is not None and self.usage.cost_usd >= cap:
            return f"cost limit ${money(cap)} reached (spent ${money(self.usage.cost_usd)})"
        return None

    # -- the loop ---------------------------------------------------------------------------

    def _messages(self) -> list[Message]:
        messages = implement_prompts(self.agent.project_root, self.job, self.limits)
        # The brief quotes worktree files: a key in one of them is not passed on either.
        for m in messages:
            m["content"] = redact(str(m.get("content") or ""), secrets=self.secrets)
        return messages

    def run(self) -> AgentResult:
        try:
            sandbox = Sandbox(self.job.worktree)
            model = self.agent.model_factory(self.job.model or self.agent.default_model)
            self.messages = self._messages()
        except SpecflowError as exc:
            hint = f" ({exc.hint})" if exc.hint else ""
            return self._result(False, f"cannot start: {exc.message}{hint}")
        except Exception as exc:  # e.g. an unknown provider: this attempt fails, the run goes on
            return self._result(False, f"cannot start: {type(exc).__name__}: {exc}")
        try:
            confinement = self.agent.confinement or resolve(self.agent.sandbox_settings)
        except SpecflowError as exc:
            return self._result(False, f"cannot start: {exc.message}")
        toolbox = Toolbox(
            sandbox,
            cancel=self.cancel,
            deadline=self.deadline,
            environ=self.agent.environ,
            confinement=confinement,
        )
        folder = self.agent.log_dir / self.job.task.id if self.agent.log_dir else None
        self.transcript = Transcript(folder, self.job.attempt)
        log = self.transcript.log_path
        self._emit(
            "agent_model",
            model=getattr(model, "name", ""),
            log=str(log) if log else None,
            confined=confinement.describe(),
        )
        result = self._result(False, "interrupted")
        try:
            result = self._loop(model, toolbox)
            return result
        finally:
            self.transcript.finish(result.ok, result.reason, result.summary, self.messages)

    def _emit(self, kind: str, **data: Any) -> None:
        self.transcript.event(kind, data)
        self.emit(kind, **data)

    def _loop(self, model: Model, toolbox: Toolbox) -> AgentResult:
        messages = self.messages
        purpose = f"implement/{self.job.task.id}"
        while True:
            stop = self._limit_reached()
            if stop:
                return self._result(False, stop)
            compact(messages, self.agent.max_context_chars)
            sent = list(messages)
            outcome = self._complete(model, messages, purpose)
            if isinstance(outcome, str):
                self._emit(
                    "model_call",
                    step=self.steps,
                    purpose=purpose,
                    error=outcome,
                    request_ref=self._blob({"messages": sent}),
                )
                return self._result(False, outcome)
            completion = outcome
            self._account(model, completion, sent, purpose)
            messages.append(completion.as_message())
            if completion.content and completion.content.strip():
                self._emit(
                    "agent_note",
                    step=self.steps,
                    text=bounded(completion.content, EVENT_RESULT_CHARS),
                )
            if not completion.tool_calls:
                stop = self._no_tool_call()
                if stop:
                    return self._result(False, stop)
                messages.append({"role": "user", "content": NUDGE})
                continue
            for call in completion.tool_calls:
                # `finish` costs nothing, so a step limit reached mid-reply does not refuse it.
                stop = None if call.name == "finish" else self._limit_reached()
                stop = stop or self.guard.before(call)
                if stop:
                    return self._result(False, stop)
                self.steps += 1
                result = self._execute(toolbox, call)
                messages.append(
                    {"role": "tool", "tool_call_id": call.id, "content": result.content}
                )
                if result.finished:
                    return self._result(True, summary=result.summary or (completion.content or ""))
                stop = self.guard.after(result)
                if stop:
                    return self._result(False, stop)

    def _complete(self, model: Model, messages: list[Message], purpose: str) -> Completion | str:
        """The model's answer, or why there is none. The call runs in a helper thread so that a
        cancel or the time limit ends the attempt at once, not after the provider's timeout and
        retries; an abandoned call finishes in the background and is ignored."""
        box: list[Completion | BaseException] = []
        done = threading.Event()

        def call() -> None:
            try:
                # The fixed prefix and the conversation so far: cache breakpoints.
                sent = mark_cache_breakpoints(messages)
                box.append(model.complete(sent, purpose=purpose, tools=TOOLS))
            except BaseException as exc:
                box.append(exc)
            finally:
                done.set()

        threading.Thread(target=call, name=f"model-{purpose}", daemon=True).start()
        while not done.wait(0.05):
            stop = self._limit_reached()
            if stop:
                return stop
        outcome = box[0]
        if isinstance(outcome, Completion):
            return outcome
        if isinstance(outcome, SpecflowError):
            return f"model error: {outcome.message}"
        return f"model error: {type(outcome).__name__}: {outcome}"

    def _blob(self, payload: Any) -> str | None:
        """Store a large payload once under the run's blobs/ and return its reference."""
        if self.agent.log_dir is None:
            return None
        from specflow.runs.blobs import store_blob

        return store_blob(self.agent.log_dir.parent / "blobs", payload)

    def _account(
        self, model: Model, completion: Completion, sent: list[Message], purpose: str
    ) -> None:
        usage = completion.usage
        self.usage = self.usage + usage + Usage(calls=0 if usage.calls else 1)
        self.unreported = self.unreported + usage
        self._emit(
            "model_call",
            step=self.steps,
            model=completion.model or getattr(model, "name", ""),
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cached_tokens=usage.cached_tokens,
            cost_usd=round(usage.cost_usd, 6),
            total_cost_usd=round(self.usage.cost_usd, 6),
            latency_s=round(completion.latency_s, 3),
            tool_calls=len(completion.tool_calls),
            purpose=purpose,
            retries=completion.retries,
            finish_reason=completion.finish_reason,
            request_ref=self._blob(
                {"messages": sent, "tools": [t["function"]["name"] for t in TOOLS]}
            ),
            response_ref=self._blob(completion.as_message()),
        )

    def _no_tool_call(self) -> str | None:
        """A reply without a tool call: the first is nudged for free, later ones cost a step."""
        stop = self.guard.silent()
        if self.guard.silent_replies >= 2:
            self.steps += 1
            self._emit(
                "agent_step",
                step=self.steps,
                tool=None,
                args="",
                result="no tool call",
                ok=False,
                usage=self._take_usage(),
            )
        return stop

    def _take_usage(self) -> dict[str, Any]:
        """The model usage since the last step (for live views that sum steps)."""
        usage, self.unreported = self.unreported, Usage()
        return usage.to_dict()

    def _execute(self, toolbox: Toolbox, call: ToolCall) -> ToolResult:
        error = argument_error(call)
        if error is not None:
            result = ToolResult(False, error)
        else:
            try:
                result = toolbox.call(call.name, call.arguments)
            except ToolError as exc:  # Toolbox.call already converts; belt and braces
                result = ToolResult(False, f"error: {exc.message}")
            except Exception as exc:  # a bug in a tool must not end the run
                result = ToolResult(False, f"error: the tool failed: {type(exc).__name__}: {exc}")
        # A command may print a key (a file it read, a server's banner): never to the model.
        result.content = redact(result.content, secrets=self.secrets)
        raw = call.raw_arguments if call.error or not call.arguments else ""
        args = raw or json.dumps(call.arguments, default=str)
        self._emit(
            "agent_step",
            step=self.steps,
            tool=call.name,
            args=bounded(args, EVENT_ARGS_CHARS),
            result=bounded(result.content, EVENT_RESULT_CHARS),
            ok=result.ok,
            usage=self._take_usage(),
        )
        return result


def implement_prompts(root: Path | None, job: AgentTask, limits: Limits) -> list[Message]:
    """The system and user prompts of an attempt, from the templates found from `root`
    (`specflow replay` renders them again to compare)."""
    from specflow.templating import render

    ctx: dict[str, Any] = {"task": job.task, "limits": limits, "job": job}
    system = render("prompts/implement_system.md.j2", root, **ctx)
    brief = job.brief or ""
    feedback = job.feedback
    if feedback and feedback.strip()[-200:] in brief:
        feedback = None  # the brief already carries it
    user = render(
        "prompts/implement_user.md.j2",
        root,
        brief=brief,
        with_heading=not brief.lstrip().startswith("# "),
        feedback=feedback,
        attempt=job.attempt,
        **ctx,
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]
