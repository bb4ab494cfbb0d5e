"""The builtin agent's first two messages, from the templates (project overrides included).

The system prompt is the same bytes for every task of every run, so that providers can serve it
(and the tool schemas before it) from their prompt cache; everything that depends on the task
or its limits is in the user message. `specflow replay` rebuilds the prompts with this too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from specflow.agents.base import AgentTask
from specflow.llm.base import Message


def implement_messages(root: Path | None, job: AgentTask) -> list[Message]:
    from specflow.templating import render

    ctx: dict[str, Any] = {"task": job.task, "limits": job.limits, "job": job}
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
