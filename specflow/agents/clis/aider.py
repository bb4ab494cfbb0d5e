"""`--agent aider`: Aider in scripting mode.

    aider --message BRIEF --yes-always --no-auto-commits --no-dirty-commits --no-pretty
          --no-stream --no-gitignore --no-check-update --no-show-release-notes
          --analytics-disable --no-restore-chat-history --chat-history-file RUN/…
          --input-history-file RUN/… [--model M] [FILES…]

`--message` does that one thing and exits; `--yes-always` answers its confirmations (add a
file to the chat, create a file). Aider commits by itself unless told not to: specflow commits.
Its history files go to the run folder and `.aider*` is excluded in the repository's
info/exclude, so neither lands in the task's commit. Aider prints text, not JSON: what is read
is `Applied edit to PATH` and the report after each message,
`Tokens: 2.1k sent, 312 received. Cost: $0.0042 message, $0.0042 session.`
Docs: https://aider.chat/docs/scripting.html, https://aider.chat/docs/config/options.html
"""

from __future__ import annotations

import re

from specflow.agents.base import AgentTask, EventSink
from specflow.agents.clis.base import CliAgent, Parser, Report
from specflow.llm.base import Usage
from specflow.workspace.git import Git
from specflow.workspace.integration import add_exclude

_TOKENS = re.compile(
    r"^Tokens: (?P<sent>[\d.]+[kM]?) sent,(?: (?P<cw>[\d.]+[kM]?) cache write,)?"
    r"(?: (?P<ch>[\d.]+[kM]?) cache hit,)? (?P<recv>[\d.]+[kM]?) received\."
    r"(?: Cost: \$(?P<msg>[\d.]+) message, \$(?P<session>[\d.]+) session\.)?"
)
_APPLIED = re.compile(r"^Applied edit to (?P<path>.+)$")
_ERRORS = re.compile(r"(litellm\.\w+Error|AuthenticationError|APIConnectionError|Traceback)")


class AiderAgent(CliAgent):
    binary = "aider"
    install_hint = "install Aider: python -m pip install aider-install && aider-install"
    auth_hint = (
        "set the model provider's API key (e.g. OPENAI_API_KEY, ANTHROPIC_API_KEY) "
        "or --api-key provider=KEY in .aider.conf.yml"
    )
    auth_patterns = (
        r"AuthenticationError",
        r"not able to authenticate",
        r"invalid (x-)?api[- ]key",
        r"Missing these environment variables",
    )

    def arguments(self, job: AgentTask, prompt: str | None) -> list[str]:
        history = job.brief_path.parent if self.log_dir is None else self.log_dir / job.task.id
        args = (
            ["--message", prompt] if prompt is not None else ["--message-file", str(job.brief_path)]
        )
        args += [
            "--yes-always",
            "--no-auto-commits",
            "--no-dirty-commits",
            "--no-pretty",
            "--no-stream",
            "--no-gitignore",
            "--no-check-update",
            "--no-show-release-notes",
            "--analytics-disable",
            "--no-restore-chat-history",
            "--chat-history-file",
            str(history / f"aider-{job.attempt}.chat.md"),
            "--input-history-file",
            str(history / f"aider-{job.attempt}.input"),
        ]
        return args + self.model_args(job) + [f for f in job.task.files if not f.startswith("-")]

    def prepare(self, job: AgentTask) -> None:
        add_exclude(Git(job.worktree), ".aider*")  # its repo-map cache, written in the worktree

    def parser(self, emit: EventSink) -> Parser:
        return AiderParser(emit)


class AiderParser(Parser):
    def feed(self, line: str) -> None:
        r = self.report
        text = line.strip()
        m = _TOKENS.match(text)
        if m:
            r.valid = r.done = True
            r.error = None  # an error before a completed message was retried
            r.turns += 1
            r.usage = Usage(
                prompt_tokens=r.usage.prompt_tokens + _count(m["sent"]),
                completion_tokens=r.usage.completion_tokens + _count(m["recv"]),
                cost_usd=float(m["session"]) if m["session"] else r.usage.cost_usd,
                calls=r.turns,
            )
            return
        m = _APPLIED.match(text)
        if m:
            r.valid = True
            self.step("edit", m["path"], "applied")
            return
        if text.startswith(("Aider v", "Model:", "Main model:", "Git repo:", "Repo-map:")):
            r.valid = True
            if text.startswith(("Model:", "Main model:")):
                r.model = text.split(":", 1)[1].split(" with ")[0].strip()
            return
        if r.error == "Traceback (most recent call last):" and not line.startswith(" "):
            r.error = text  # the exception itself, after the stack
        elif _ERRORS.search(text) and r.error is None:
            r.error = text
        elif text and not text.startswith(("Tokens:", "Cost:")):
            r.text = (r.text + "\n" + text).strip()[-2000:] if r.valid else r.text
            if not r.valid:
                self.bad(text)

    def finish(self, output: str) -> Report:
        return self.report


def _count(value: str) -> int:
    """Aider's token counts: 950, 2.1k, 12k, 1.2M."""
    mult = {"k": 1_000, "M": 1_000_000}.get(value[-1], 1)
    number = value[:-1] if mult != 1 else value
    try:
        return round(float(number) * mult)
    except ValueError:
        return 0
