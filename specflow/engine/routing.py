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


# The vendor behind a CLI agent, whatever model name it is given.
_AGENT_VENDOR = {"claude": "anthropic", "codex": "openai", "gemini": "google"}
# Every stage a model can be configured for, in the order a reviewer is looked for.
_MODEL_SLOTS = ("plan", "specify", "clarify", "tasks", "escalate", "implement", "default")


@dataclass(frozen=True)
class Implementer:
    """Who writes the code: what people are told, and its vendor when it can be known."""

    label: str
    vendor: str | None


def implementer_of(agent: str | None, model: str | None) -> Implementer:
    """The builtin agent is its model; a CLI agent is its vendor's; a `cmd:` program is itself
    (whatever model it is handed in SPECFLOW_MODEL, it may use another, so its vendor is unknown)."""
    spec = (agent or "builtin").strip()
    if spec == "builtin":
        return Implementer(model or "(no model)", vendor_of(model))
    if spec.startswith("cmd:"):
        return Implementer(spec, None)
    if spec in _AGENT_VENDOR:
        return Implementer(f"the {spec} agent", _AGENT_VENDOR[spec])
    return Implementer(f"the {spec} agent ({model})" if model else spec, vendor_of(model))


@dataclass(frozen=True)
class ReviewerChoice:
    model: str | None
    same_vendor: bool | None  # None: the implementer's vendor is unknown
    how: str  # "configured" ([models].review), "other vendor" (picked), "fallback"

    def warning(self, implementer: Implementer) -> str | None:
        """What to tell people at the start of a run whose review may not be independent."""
        if self.same_vendor is None and self.model and implementer.vendor is None:
            return (
                f"review by {self.model}; the implementer {implementer.label} may use any "
                "vendor's model, so whether review is same-vendor is unknown — set "
                "[models].review to a vendor the agent does not use"
            )
        if not self.same_vendor:
            return None
        fix = (
            "set [models].review to another vendor's model"
            if self.how == "configured"
            else "add a model of another vendor ([models].review in specflow.toml, or "
            "SPECFLOW_MODEL_REVIEW) to have the work reviewed independently"
        )
        return (
            f"review is same-vendor: reviewer {self.model} and implementer {implementer.label} "
            f"are both {implementer.vendor}; {fix}"
        )


def configured_models(config: Config) -> list[str]:
    """Every model named for any stage (environment first, then specflow.toml), once each."""
    names: list[str | None] = [os.environ.get(f"SPECFLOW_MODEL_{s.upper()}") for s in _MODEL_SLOTS]
    names += [getattr(config.models, s) for s in _MODEL_SLOTS]
    names.insert(len(_MODEL_SLOTS), os.environ.get("SPECFLOW_MODEL"))
    return list(dict.fromkeys(n for n in names if n))


def choose_reviewer(config: Config, implementer: Implementer) -> ReviewerChoice:
    """`[models].review` (or SPECFLOW_MODEL_REVIEW) when set; else the first configured model
    of a vendor other than the implementer's; else the review stage's usual model."""
    explicit = os.environ.get("SPECFLOW_MODEL_REVIEW") or config.models.review
    if explicit:
        return ReviewerChoice(explicit, _same(explicit, implementer), "configured")
    if implementer.vendor:
        for name in configured_models(config):
            vendor = vendor_of(name)
            if vendor and vendor != implementer.vendor:
                return ReviewerChoice(name, False, "other vendor")
    fallback = config.model_for("review")
    return ReviewerChoice(fallback, _same(fallback, implementer), "fallback")


def _same(model: str | None, implementer: Implementer) -> bool | None:
    if not model or implementer.vendor is None:
        return None
    return vendor_of(model) == implementer.vendor


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
