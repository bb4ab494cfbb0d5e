"""`--agent gemini`: Gemini CLI in headless mode.

    gemini --output-format json --approval-mode auto_edit [--model M] -p BRIEF

`-p` runs one prompt headless. `--output-format json` prints one JSON object at the end:
`response` (the final answer), `stats` (per model: `api.totalRequests`, `tokens.prompt`,
`tokens.candidates`, ...; `tools.totalCalls`; `files.totalLinesAdded`) and, on failure, `error`
{type, message, code}. auto_edit approves file edits without asking (shell commands are not
approved). Exit codes: 41 authentication, 42 bad input, 52 configuration, 53 turn limit.
Gemini reports no cost.
Docs: https://github.com/google-gemini/gemini-cli/blob/main/docs/cli/headless.md,
https://geminicli.com/docs/cli/headless/
"""

from __future__ import annotations

import json
from typing import Any

from specflow.agents.base import AgentTask, EventSink
from specflow.agents.clis.base import CliAgent, Parser, Report, as_int, last_line, obj
from specflow.llm.base import Usage

LONG_PROMPT = "Do the task described above."  # with the brief on stdin, which comes first


class GeminiAgent(CliAgent):
    binary = "gemini"
    install_hint = "install Gemini CLI: npm i -g @google/gemini-cli"
    auth_hint = "set GEMINI_API_KEY (or run 'gemini' once to sign in)"
    auth_patterns = (
        r"GEMINI_API_KEY",
        r"auth(entication)? method",
        r"api key not valid",
        r"AuthError",
    )
    auth_exit_codes = (41,)

    def arguments(self, job: AgentTask, prompt: str | None) -> list[str]:
        args = ["--output-format", "json", "--approval-mode", "auto_edit"]
        return args + self.model_args(job) + ["-p", prompt if prompt is not None else LONG_PROMPT]

    def parser(self, emit: EventSink) -> Parser:
        return GeminiParser(emit)


class GeminiParser(Parser):
    """The JSON object is pretty-printed over many lines (and stderr may be mixed in), so it is
    found in the whole output at the end."""

    def feed(self, line: str) -> None:
        return None

    def finish(self, output: str) -> Report:
        r = self.report
        doc = _find_object(output)
        if doc is None:
            self.bad(last_line(output))
            return r
        r.valid = True
        response = doc.get("response")
        if isinstance(response, str):
            r.text = response
            r.done = True
        err = doc.get("error")
        if isinstance(err, dict):
            r.error = f"{err.get('type', 'error')}: {err.get('message', '')}".strip()
        elif err:
            r.error = str(err)
        stats = obj(doc.get("stats"))
        models = obj(stats.get("models"))
        usage = Usage()
        for name, m in models.items():
            if not isinstance(m, dict):
                continue
            r.model = r.model or str(name)
            tokens = obj(m.get("tokens"))
            api = obj(m.get("api"))
            usage = usage + Usage(
                prompt_tokens=as_int(tokens.get("prompt")),
                completion_tokens=as_int(tokens.get("candidates")) + as_int(tokens.get("thoughts")),
                calls=as_int(api.get("totalRequests")),
                cached_tokens=as_int(tokens.get("cached")),
            )
        r.usage = usage
        r.turns = usage.calls
        tools = obj(stats.get("tools"))
        by_name = obj(tools.get("byName"))
        for tool, t in by_name.items():
            t = t if isinstance(t, dict) else {}
            self.step(
                str(tool),
                f"{as_int(t.get('count'))} calls",
                f"{as_int(t.get('success'))} ok, {as_int(t.get('fail'))} failed",
                ok=not as_int(t.get("fail")),
            )
        r.steps = max(r.steps, as_int(tools.get("totalCalls")))
        return r


def _find_object(output: str) -> dict[str, Any] | None:
    """The last top-level JSON object in the output that has `response`, `stats` or `error`."""
    decoder = json.JSONDecoder()
    found: dict[str, Any] | None = None
    pos = 0
    while True:
        start = output.find("{", pos)
        if start < 0:
            return found
        try:
            obj, end = decoder.raw_decode(output, start)
        except ValueError:
            pos = start + 1
            continue
        if isinstance(obj, dict) and ({"response", "stats", "error"} & obj.keys()):
            found = obj
        pos = end
