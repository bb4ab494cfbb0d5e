"""`specflow export github`: one GitHub issue per task, through `gh`.

Issues are created in topological order, so each body's "Depends on" task list can reference
the real numbers of the issues its dependencies became. `specs/<feature>/github.json` records
task id -> issue number (written atomically after every call that changed GitHub), so a second
export updates what changed instead of creating duplicates, and a crash mid-way loses nothing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specflow.errors import InputError
from specflow.fsutil import atomic_write_text, sha256_text
from specflow.github.docs import FeatureDocs, load_docs
from specflow.github.gh import GhFailed, Runner, default_runner, number_from_url, require_gh

if TYPE_CHECKING:
    from specflow.domain.tasks import Task
    from specflow.project import Feature, Project

STATE_FILE = "github.json"
LABEL_COLORS = {"specflow": "5319e7", "phase": "c5def5", "story": "0e8a16", "risk": "d93f0b"}


@dataclass
class ExportState:
    """The content of `github.json`."""

    feature: str
    repo: str | None = None
    issues: dict[str, int] = field(default_factory=dict)  # task id -> issue number
    digests: dict[str, str] = field(default_factory=dict)  # task id -> hash of what was sent
    closed: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path, feature: str) -> ExportState:
        if not path.is_file():
            return cls(feature)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                feature=str(data.get("feature", feature)),
                repo=data.get("repo"),
                issues={str(k): int(v) for k, v in (data.get("issues") or {}).items()},
                digests={str(k): str(v) for k, v in (data.get("digests") or {}).items()},
                closed=[str(t) for t in data.get("closed") or []],
                labels=[str(x) for x in data.get("labels") or []],
            )
        except (ValueError, TypeError, AttributeError) as exc:
            raise InputError(
                f"{path}: not a valid export record ({exc})", "fix or delete the file"
            ) from None

    def save(self, path: Path) -> None:
        data = {
            "feature": self.feature,
            "repo": self.repo,
            "issues": dict(sorted(self.issues.items())),
            "digests": dict(sorted(self.digests.items())),
            "closed": sorted(self.closed),
            "labels": sorted(self.labels),
        }
        atomic_write_text(path, json.dumps(data, indent=2) + "\n")


@dataclass
class IssueResult:
    task: str
    action: str  # created, updated, unchanged, closed, skipped
    number: int | None = None


@dataclass
class ExportResult:
    feature: str
    repo: str | None
    dry_run: bool
    calls: list[list[str]] = field(default_factory=list)
    issues: list[IssueResult] = field(default_factory=list)
    state_path: str = ""

    def count(self, action: str) -> int:
        return sum(1 for i in self.issues if i.action == action)

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "repo": self.repo,
            "dry_run": self.dry_run,
            "calls": self.calls,
            "issues": [i.__dict__ for i in self.issues],
            "state": self.state_path,
        }


def _slug(text: str) -> str:
    text = re.sub(r"^phase\s*\d+\s*[:.\-–—]?\s*", "", text, flags=re.IGNORECASE)
    return "-".join(re.findall(r"[a-z0-9]+", text.lower()))[:30].strip("-")


def labels_for(task: Task, phase: tuple[int, str] | None) -> list[str]:
    """`specflow`, `phase:1-setup`, `story:US1`, `risk:high` (never a comma: gh splits on it)."""
    out = ["specflow"]
    if phase is not None:
        slug = _slug(phase[1])
        out.append(f"phase:{phase[0]}" + (f"-{slug}" if slug else ""))
    if task.story:
        out.append(f"story:{task.story}")
    if task.risk:
        out.append(f"risk:{task.risk}")
    return out


def issue_title(feature: Feature, task: Task) -> str:
    return f"[{feature.name}] {task.id} {task.title}"[:250]


def issue_body(docs: FeatureDocs, task: Task, numbers: dict[str, int]) -> str:
    assert docs.graph is not None
    graph = docs.graph
    phase = docs.phase_of().get(task.id)
    facts = [f"Feature: `{docs.rel}`"]
    if phase:
        facts.append(f"Phase: {phase[1]}")
    if task.story:
        facts.append(f"Story: {task.story}")
    if task.risk:
        facts.append(f"Risk: {task.risk}")
    lines = [f"**{task.id}** {task.title}", "", " · ".join(facts)]
    if task.covers:
        lines += ["", "### Covers", ""]
        for rid in task.covers:
            text = docs.requirement_text(rid)
            lines.append(f"- **{rid}**: {text}" if text else f"- **{rid}**")
    if task.files:
        lines += ["", "### Files", ""] + [f"- `{f}`" for f in task.files]
    if task.verify:
        lines += ["", "### Verify", "", "```sh", task.verify, "```"]
    deps = graph.deps.get(task.id, [])
    if deps:
        lines += ["", "### Depends on", ""]
        for d in deps:
            dep = graph.tasks[d]
            box = "x" if dep.done else " "
            ref = f"#{numbers[d]} " if d in numbers else ""
            lines.append(f"- [{box}] {ref}{d} {dep.title}")
    lines += [
        "",
        f"<!-- specflow: feature={docs.feature.name} task={task.id} -->",
        f"_Exported by specflow from `{docs.rel}/tasks.md`; edit the task there, then re-export._",
    ]
    return "\n".join(lines) + "\n"


def export_issues(
    project: Project,
    feature: Feature,
    *,
    repo: str | None = None,
    dry_run: bool = False,
    runner: Runner | None = None,
) -> ExportResult:
    """Create (or update) one issue per task. With `dry_run`, only collect the argvs."""
    docs = load_docs(project, feature)
    assert docs.graph is not None
    graph = docs.graph
    state_path = feature.path / STATE_FILE
    state = ExportState.load(state_path, feature.name)
    if state.repo and repo and state.repo != repo:
        raise InputError(
            f"{feature.name} was exported to {state.repo}, not {repo}",
            f"pass --repo {state.repo}, or delete {docs.rel}/{STATE_FILE} to export afresh",
        )
    repo = repo or state.repo
    if not dry_run:
        require_gh()
    run = runner or default_runner(project.root)
    result = ExportResult(feature.name, repo, dry_run, state_path=f"{docs.rel}/{STATE_FILE}")
    repo_args = ["--repo", repo] if repo else []

    def call(argv: list[str]) -> str:
        result.calls.append(argv)
        return "" if dry_run else run(argv)

    def commit() -> None:
        if not dry_run:
            state.repo = repo
            state.save(state_path)

    phases = docs.phase_of()
    wanted = {lab for t in graph.tasks.values() for lab in labels_for(t, phases.get(t.id))}
    for label in sorted(wanted - set(state.labels)):
        _create_label(call, label, repo_args)
        state.labels.append(label)
    commit()
    numbers = dict(state.issues)
    for tid in graph.order():
        task = graph.tasks[tid]
        title = issue_title(feature, task)
        body = issue_body(docs, task, numbers)
        labels = labels_for(task, phases.get(tid))
        digest = sha256_text(json.dumps([title, body, labels]))
        label_args = [a for lab in labels for a in ("--label", lab)]
        number = numbers.get(tid)
        if number is None and task.done:
            result.issues.append(IssueResult(tid, "skipped"))  # nothing left to track
            continue
        if number is None:
            out = call(
                ["gh", "issue", "create", *repo_args, "--title", title, "--body", body, *label_args]
            )
            new = number_from_url(out)
            if not dry_run:
                if new is None:
                    raise GhFailed(result.calls[-1], 0, f"no issue URL in gh's output: {out!r}")
                numbers[tid] = state.issues[tid] = new
            state.digests[tid] = digest
            commit()
            result.issues.append(IssueResult(tid, "created", new))
        elif state.digests.get(tid) != digest:
            edit = [a for lab in labels for a in ("--add-label", lab)]
            call(
                [
                    "gh",
                    "issue",
                    "edit",
                    str(number),
                    *repo_args,
                    "--title",
                    title,
                    "--body",
                    body,
                    *edit,
                ]
            )
            state.digests[tid] = digest
            commit()
            result.issues.append(IssueResult(tid, "updated", number))
        else:
            result.issues.append(IssueResult(tid, "unchanged", number))
        if number is not None and task.done and tid not in state.closed:
            call(["gh", "issue", "close", str(number), *repo_args, "--reason", "completed"])
            state.closed.append(tid)
            commit()
            result.issues.append(IssueResult(tid, "closed", number))
    return result


def _create_label(call: Any, label: str, repo_args: list[str]) -> None:
    kind = label.split(":", 1)[0]
    argv = ["gh", "label", "create", label, *repo_args]
    argv += ["--color", LABEL_COLORS.get(kind, "ededed"), "--description", "specflow"]
    try:
        call(argv)
    except GhFailed as exc:
        if "already exists" not in exc.stderr:
            raise
