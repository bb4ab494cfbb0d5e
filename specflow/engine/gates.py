"""The gates between verify and merge: review by a second model and a person's approval.

The runner calls `Gatekeeper.check` once per attempt, after verify passed and outside the
merge lock. Review: changes requested go back to the agent (bounded by
`[implement].review_retries`), then the task fails with the findings kept in its events.
Approval: the task's commit is kept under `refs/specflow/awaiting/<feature>/<task>`, the event
`awaiting_approval` is written and the worker gives its slot back (`AwaitingApproval`); when
`specflow approve` has recorded an approval, the engine starts the task again and `restore`
puts the approved commit back in a slot, to be rebased, verified and merged without an agent.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from specflow.config import Config
from specflow.domain.tasks import Task
from specflow.engine.approvals import ApprovalWatcher
from specflow.engine.risk import Gates, gates_for
from specflow.engine.routing import (
    Implementer,
    ReviewerChoice,
    choose_reviewer,
    vendor_of,
)
from specflow.errors import ConfigError
from specflow.runs.events import Event, EventLog
from specflow.runs.state import RunPaths

if TYPE_CHECKING:
    from specflow.llm.base import Model
    from specflow.review.answers import Verdict
    from specflow.workspace.git import Git
    from specflow.workspace.pool import Slot


class AwaitingApproval(Exception):
    """The task passed its other gates and waits for `specflow approve` (not a failure)."""


class GateFailed(Exception):
    """The reviewer kept requesting changes: the task fails with this reason."""


def awaiting_ref(feature: str, task: str) -> str:
    return f"refs/specflow/awaiting/{feature}/{task}"


@dataclass
class GateSettings:
    feature: str
    spec_text: str | None
    reviewer: str | None  # model name; None when no task needs review
    implementer: str | None  # the run's implement model (for the vendor check)
    review_retries: int = 1
    max_diff_chars: int = 60_000
    project_root: Path | None = None


@dataclass
class _TaskGate:
    rejections: int = 0
    last_verdict: Verdict | None = None
    awaiting: str | None = None  # the commit waiting for (or given) approval
    restored: bool = False
    warned_vendor: set[str] = field(default_factory=set)


class Gatekeeper:
    def __init__(
        self,
        config: Config,
        settings: GateSettings,
        git: Git,
        events: EventLog,
        paths: RunPaths,
        model_factory: object | None = None,
    ) -> None:
        self.config = config
        self.s = settings
        self.git = git
        self.events = events
        self.paths = paths
        self.watcher = ApprovalWatcher(paths.state_dir, settings.feature)
        self._tasks: dict[str, _TaskGate] = {}
        self._lock = threading.Lock()
        self._model_factory = model_factory
        # Work that waited in an earlier run (resumed or not): the refs are the truth.
        prefix = awaiting_ref(settings.feature, "")
        listing = git.run("for-each-ref", "--format=%(refname) %(objectname)", prefix, check=False)
        for line in listing.stdout.splitlines():
            ref, _, commit = line.partition(" ")
            self._gate(ref[len(prefix) :]).awaiting = commit
        events.subscribe(self._on_event)

    @staticmethod
    def reviewer_for(
        config: Config, tasks: list[Task], implementer: Implementer | None = None
    ) -> ReviewerChoice | None:
        """The reviewer when any of `tasks` needs review (another vendor's model when one is
        configured, see `choose_reviewer`); ConfigError when there is none at all."""
        needing = [t for t in tasks if gates_for(t, config.policy).review]
        if not needing:
            return None
        choice = choose_reviewer(config, implementer or Implementer("?", None))
        if not choice.model:
            t = needing[0]
            raise ConfigError(
                f"policy requires a review for {t.id} (risk {gates_for(t, config.policy).risk}) "
                "but no reviewer model is configured",
                "set [models].review in specflow.toml (ideally another vendor's model) or "
                "SPECFLOW_MODEL_REVIEW",
            )
        return choice

    def _gate(self, tid: str) -> _TaskGate:
        with self._lock:
            return self._tasks.setdefault(tid, _TaskGate())

    def gates(self, task: Task) -> Gates:
        return gates_for(task, self.config.policy)

    def needed(self, task: Task) -> bool:
        g = self.gates(task)
        return g.review or g.approve

    def _on_event(self, ev: Event) -> None:
        if ev.get("kind") == "task_merged" and isinstance(ev.get("task"), str):
            gate = self._tasks.get(ev["task"])
            if gate is not None and gate.awaiting:
                self.git.delete_ref(awaiting_ref(self.s.feature, ev["task"]))

    # -- the runner's hooks ----------------------------------------------------------------

    def restore(self, task: Task, slot: Slot) -> bool:
        """Put approved (or still awaiting) work back into `slot` instead of running the agent.

        Raises AwaitingApproval when it still waits; True when the slot holds the approved
        commit (its base = the commit's parent, so the runner rebases it onto the tip)."""
        gate = self._gate(task.id)
        commit = gate.awaiting
        if not commit or gate.restored:
            return False
        approval = self.watcher.approved(task.id, commit)
        if approval is None and not self.gates(task).approve:
            approval = {"by": "policy (approval no longer required)"}
        if approval is None:
            self._emit_awaiting(task, commit, str(slot.base or ""), again=True)
            raise AwaitingApproval(task.id)
        gate.restored = True
        slot.git.run("reset", "-q", "--hard", commit)
        slot.base = slot.git.out("rev-parse", f"{commit}^")
        self.events.emit("task_restored", task=task.id, commit=commit, by=approval.get("by"))
        return True

    def check(self, task: Task, slot: Slot, attempt: int) -> str | None:
        """After verify passed: None to merge, feedback for the agent when the reviewer
        requests changes. Raises GateFailed (too many rejections) or AwaitingApproval."""
        gate = self._gate(task.id)
        g = self.gates(task)
        if g.review:
            feedback = self._review(task, slot, attempt, g, gate)
            if feedback is not None:
                return feedback
        if g.approve:
            commit = slot.git.head()
            gate.awaiting, gate.restored = commit, False
            if self.watcher.approved(task.id, commit) is not None:
                return None  # approved ahead of time (`specflow approve` before it waited)
            self.git.update_ref(awaiting_ref(self.s.feature, task.id), commit)
            self._emit_awaiting(task, commit, str(slot.base or ""), again=False)
            raise AwaitingApproval(task.id)
        return None

    def approved_ready(self, waiting: set[str], limit: int) -> list[str]:
        """Up to `limit` waiting tasks whose work has been approved since (the engine polls)."""
        out: list[str] = []
        for tid in sorted(waiting):
            if len(out) >= limit:
                break
            commit = self._gate(tid).awaiting
            entry = self.watcher.approved(tid, commit)
            if commit and entry is not None:
                self.events.emit("task_approved", task=tid, commit=commit, by=entry.get("by"))
                out.append(tid)
        return out

    # -- review --------------------------------------------------------------------------

    def _emit_awaiting(self, task: Task, commit: str, base: str, *, again: bool) -> None:
        self.events.emit(
            "awaiting_approval",
            task=task.id,
            commit=commit,
            base=base,
            risk=self.gates(task).risk,
            again=again,
            hint=f"specflow approve {task.id} {self.s.feature}",
        )

    def _model(self, name: str) -> Model:
        if callable(self._model_factory):
            model: Model = self._model_factory(name)
            return model
        from specflow.llm.calls import CallLog
        from specflow.llm.registry import get_model

        log = CallLog(self.paths.state_dir / "logs" / "calls.jsonl")
        return get_model(name, self.config.llm, log)

    def _review(
        self, task: Task, slot: Slot, attempt: int, g: Gates, gate: _TaskGate
    ) -> str | None:
        from specflow.review.task import TaskReviewInput, review_feedback, review_task

        reviewer = self.s.reviewer
        if not reviewer:
            raise GateFailed("review required but no reviewer model is configured")
        implementer = task.model or self.s.implementer
        same = vendor_of(reviewer) is not None and vendor_of(reviewer) == vendor_of(implementer)
        # The run-level warning covers the run's model; a task's own `model:` is warned here.
        if same and implementer != self.s.implementer and implementer not in gate.warned_vendor:
            gate.warned_vendor.add(str(implementer))
            self.events.emit(
                "warning",
                task=task.id,
                message=f"reviewer {reviewer} is from the same vendor ({vendor_of(reviewer)}) "
                f"as the implementer {implementer}; set [models].review to another vendor's model",
            )
        base = str(slot.base or "")
        diff = slot.git.out("diff", "--no-color", "--no-ext-diff", base, "HEAD")
        self.events.emit(
            "review_started",
            task=task.id,
            attempt=attempt,
            model=reviewer,
            implementer=implementer,
            same_vendor=same,
            risk=g.risk,
        )
        inp = TaskReviewInput(
            task=task,
            feature=self.s.feature,
            risk=g.risk,
            diff=diff,
            spec_text=self.s.spec_text,
            attempt=attempt,
            previous=gate.last_verdict,
            max_diff_chars=self.s.max_diff_chars,
        )
        try:
            result = review_task(self._model(reviewer), inp, self.s.project_root)
        except Exception as exc:
            self.events.emit("review_failed", task=task.id, attempt=attempt, reason=str(exc))
            raise GateFailed(f"review failed: {exc}") from None
        verdict = result.verdict
        gate.last_verdict = verdict
        out = self.paths.task_dir(task.id) / f"review-{attempt}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(verdict.model_dump(), indent=2) + "\n", encoding="utf-8")
        self.events.emit(
            "review_verdict",
            task=task.id,
            attempt=attempt,
            model=result.model,
            decision=verdict.decision,
            summary=verdict.summary,
            findings=[f.model_dump() for f in verdict.findings],
            usage=result.usage.to_dict(),
        )
        if verdict.decision == "approve":
            return None
        gate.rejections += 1
        if gate.rejections > self.s.review_retries:
            first = verdict.findings[0] if verdict.findings else None
            detail = f"{first.file}: {first.message}" if first else verdict.summary
            raise GateFailed(
                f"review requested changes {gate.rejections} times; last: {verdict.summary} "
                f"({detail})"
            )
        return review_feedback(verdict, reviewer)
