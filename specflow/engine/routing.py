"""Which model an attempt uses (the task's `model:`, the implement model, escalation after a
failure), and who made a model (a reviewer should come from another vendor)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from specflow.config import Config
from specflow.domain.tasks import Task

_PREFIX_VENDOR = {
    "openai": "openai",
    "azure": "openai",
    "azure_ai": "openai",
    "text-completion-openai": "openai",
    "anthropic": "anthropic",
    "gemini": "google",
    "vertex_ai": "google",
    "vertex_ai_beta": "google",
    "palm": "google",
    "mistral": "mistral",
    "codestral": "mistral",
    "cohere": "cohere",
    "cohere_chat": "cohere",
    "deepseek": "deepseek",
    "xai": "xai",
    "groq": "groq",
    "replay": "replay",
}
_NAME_VENDOR = (
    ("claude", "anthropic"),
    ("gpt", "openai"),
    ("o1", "openai"),
    ("o3", "openai"),
    ("o4", "openai"),
    ("gemini", "google"),
    ("gemma", "google"),
    ("mistral", "mistral"),
    ("mixtral", "mistral"),
    ("codestral", "mistral"),
    ("llama", "meta"),
    ("command", "cohere"),
    ("deepseek", "deepseek"),
    ("grok", "xai"),
    ("qwen", "alibaba"),
)


def vendor_of(model: str | None) -> str | None:
    """Who made a model, from its litellm name: `openai/gpt-4o` -> openai, `gpt-4o` -> openai,
    `bedrock/anthropic.claude-3` -> anthropic, `openrouter/google/gemini-pro` -> google."""
    if not model:
        return None
    name = model.strip().lower()
    if name.startswith("replay:"):
        return "replay"
    # The maker's name in the model id beats the host (bedrock, openrouter, ollama …).
    tail = name.split("/", 1)[1] if "/" in name else name
    for key, vendor in _NAME_VENDOR:
        if re.search(rf"(^|[/.:_-]){re.escape(key)}", tail):
            return vendor
    prefix = name.split("/", 1)[0] if "/" in name else ""
    return _PREFIX_VENDOR.get(prefix, prefix or None)


@dataclass
class ModelRouter:
    """Which model an attempt uses: the task's `model:`, else `[models].implement` (or
    `--model`); after a failed attempt, `[models].escalate` when set."""

    default: str | None
    escalate: str | None
    escalated: set[str] = field(default_factory=set)

    @classmethod
    def from_config(cls, config: Config, default: str | None) -> ModelRouter:
        escalate = os.environ.get("SPECFLOW_MODEL_ESCALATE") or config.models.escalate
        return cls(default, escalate or None)

    def model_for(self, task: Task) -> str | None:
        if task.id in self.escalated and self.escalate:
            return self.escalate
        return task.model or self.default

    def failed(self, task: Task) -> tuple[str | None, str] | None:
        """After a failed attempt: (old model, new model) when this escalates, else None."""
        if not self.escalate or task.id in self.escalated:
            return None
        old = self.model_for(task)
        if old == self.escalate:
            return None
        self.escalated.add(task.id)
        return old, self.escalate
