"""Trust policy: each task's risk, the gates it must pass before merge, model routing and
escalation, and the approvals a person gives with `specflow approve`.

No I/O beyond the small approvals file, no litellm: the engine, `status` and `approve` use it.

Approvals live in `.specflow/approvals/<feature>.jsonl`, one JSON object per line
(`{"t", "task", "commit", "by"}`), appended in one write; the running engine polls the file,
and `implement --resume` reads it, so an approval works whether or not the run is alive.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from specflow.config import Config, PolicySection
from specflow.domain.tasks import Risk, Task

# -- risk ---------------------------------------------------------------------------------

_HIGH = re.compile(
    r"(^|/)(migrations?|alembic|db/migrate|auth|authn|authz|security|permissions?|crypto|"
    r"secrets?|api|openapi|\.github/workflows)(/|$)|(^|/)(openapi|swagger)[^/]*\.(ya?ml|json)$|"
    r"(^|/)schema\.(sql|graphql|prisma)$",
    re.I,
)
_HIGH_NAMES = re.compile(
    r"(^|[_.-])(auth\w*|login|password\w*|oauth\w*|permissions?|acl|rbac)([_.-]|$)", re.I
)
_LOW = re.compile(
    r"(^|/)(tests?|spec|__tests__|docs?|examples?)(/|$)|(^|/)test_[^/]*$|_test\.\w+$|"
    r"\.(md|rst|txt|adoc)$|(^|/)(README|CHANGELOG|LICENSE)[^/]*$",
    re.I,
)


def infer_risk(files: list[str]) -> Risk:
    """Risk from what a task touches: any high path -> high; only tests/docs -> low; else
    medium (also when it names no files)."""
    paths = [f.strip().strip("`").replace("\\", "/") for f in files if f.strip()]
    if not paths:
        return "medium"
    if any(_HIGH.search(p) or _HIGH_NAMES.search(Path(p).name) for p in paths):
        return "high"
    if all(_LOW.search(p) for p in paths):
        return "low"
    return "medium"


def task_risk(task: Task, policy: PolicySection) -> Risk:
    """The `risk:` sub-bullet; else inferred from its files (or medium, with inference off)."""
    if task.risk is not None:
        return task.risk
    return infer_risk(task.files) if policy.infer_risk else "medium"


def with_inferred_risks(tasklist: Any) -> Any:
    """A TaskList whose tasks without a risk get the inferred one (the tasks stage uses it)."""
    for phase in tasklist.phases:
        for task in phase.tasks:
            if task.risk is None:
                task.risk = infer_risk(task.files)
    return tasklist


@dataclass(frozen=True)
class Gates:
    risk: Risk
    review: bool
    approve: bool

    def describe(self) -> str:
        return "+".join(
            ["verify", *(["review"] if self.review else []), *(["approve"] * self.approve)]
        )


def gates_for(task: Task, policy: PolicySection) -> Gates:
    risk = task_risk(task, policy)
    wanted = policy.gates(risk)
    return Gates(risk, "review" in wanted, "approve" in wanted)


# -- vendors and routing ------------------------------------------------------------------

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


# -- approvals ----------------------------------------------------------------------------


def approvals_path(state_dir: Path, feature: str) -> Path:
    return state_dir / "approvals" / f"{feature}.jsonl"


def record_approval(state_dir: Path, feature: str, task: str, commit: str | None) -> dict[str, Any]:
    path = approvals_path(state_dir, feature)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        who = getpass.getuser()
    except Exception:
        who = "?"
    entry = {"t": round(time.time(), 3), "task": task, "commit": commit, "by": who}
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (json.dumps(entry) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return entry


def read_approvals(state_dir: Path, feature: str) -> list[dict[str, Any]]:
    try:
        text = approvals_path(state_dir, feature).read_text(encoding="utf-8")
    except OSError:
        return []
    out: list[dict[str, Any]] = []
    for line in text.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and isinstance(obj.get("task"), str):
            out.append(obj)
    return out


def approval_for(
    approvals: list[dict[str, Any]], task: str, commit: str | None
) -> dict[str, Any] | None:
    """The approval of `task`'s work at `commit` (an approval naming no commit approves any)."""
    for entry in reversed(approvals):
        if entry.get("task") != task:
            continue
        if entry.get("commit") in (None, commit):
            return entry
    return None


class ApprovalWatcher:
    """Re-reads the approvals file when it changed (the engine polls it every half second)."""

    def __init__(self, state_dir: Path, feature: str) -> None:
        self.state_dir = state_dir
        self.feature = feature
        self._stamp: tuple[int, int] | None = None
        self.entries: list[dict[str, Any]] = []
        self._lock = threading.Lock()  # the engine's loop and its workers both ask

    def refresh(self) -> list[dict[str, Any]]:
        path = approvals_path(self.state_dir, self.feature)
        with self._lock:
            try:
                st = path.stat()
            except OSError:
                return self.entries
            stamp = (st.st_mtime_ns, st.st_size)
            if stamp != self._stamp:
                self._stamp = stamp
                self.entries = read_approvals(self.state_dir, self.feature)
            return self.entries

    def approved(self, task: str, commit: str | None) -> dict[str, Any] | None:
        return approval_for(self.refresh(), task, commit)


def awaiting_approval(state_dir: Path, feature: str) -> dict[str, str]:
    """Tasks of the feature's last run that wait for `specflow approve`: {task: commit}.

    Cheap enough for `specflow status`: only the first line of each run's log is read to find
    the feature's last run, and that log is parsed only if it mentions an approval wait."""
    from specflow.runs.state import RunPaths, rebuild

    last: tuple[float, str] | None = None
    runs = state_dir / "runs"
    for d in runs.iterdir() if runs.is_dir() else ():
        try:
            with open(d / "events.jsonl", "rb") as fh:
                first = json.loads(fh.readline() or b"{}")
        except (OSError, ValueError):
            continue
        if first.get("kind") == "run_started" and first.get("feature") == feature:
            key = (float(first.get("t", 0) or 0), d.name)
            last = key if last is None or key > last else last
    if last is None:
        return {}
    path = RunPaths(state_dir, last[1]).events
    try:
        if b'"awaiting_approval"' not in path.read_bytes():
            return {}
    except OSError:
        return {}
    records = rebuild(path)
    return {
        t: r.awaiting
        for t, r in sorted(records.items())
        if r.status == "awaiting_approval" and r.awaiting
    }
