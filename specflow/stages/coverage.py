"""`specflow coverage`: requirement -> tasks -> commits and runs, end to end.

The requirement-to-task links come from `domain.coverage` (the same computation `check` and the
tasks stage use); this module adds what happened to each task: its state (merged by git's word,
else the latest run's, else the checkbox) and the commits that implemented it, found by their
`Specflow-Task` / `Specflow-Feature` / `Specflow-Run` trailers on the feature's integration
branch and on the checked-out branch (where it lands once merged).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from specflow.artifacts import ArtifactStore
from specflow.domain.coverage import Coverage, compute_coverage
from specflow.errors import InputError
from specflow.project import Feature, Project


@dataclass
class CommitRef:
    sha: str
    subject: str
    run: str | None


@dataclass
class TaskTrace:
    id: str
    title: str
    how: str  # covers | text
    state: str  # merged | done | failed | blocked | awaiting | running | pending
    commits: list[CommitRef] = field(default_factory=list)

    @property
    def runs(self) -> list[str]:
        return list(dict.fromkeys(c.run for c in self.commits if c.run))


@dataclass
class RequirementTrace:
    id: str
    text: str
    tasks: list[TaskTrace] = field(default_factory=list)


@dataclass
class FeatureCoverage:
    feature: str
    source: str  # how coverage was read (covers: / ids named in task text)
    declared: bool
    requirements: list[RequirementTrace]
    unknown: list[dict[str, Any]] = field(default_factory=list)

    @property
    def uncovered(self) -> list[str]:
        return [r.id for r in self.requirements if not r.tasks]

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "source": self.source,
            "declared": self.declared,
            "requirements": [
                {
                    "id": r.id,
                    "text": r.text,
                    "covered": bool(r.tasks),
                    "tasks": [{**asdict(t), "runs": t.runs} for t in r.tasks],
                }
                for r in self.requirements
            ],
            "uncovered": self.uncovered,
            "unknown": self.unknown,
        }


def load_coverage(project: Project, feature: Feature) -> tuple[Coverage, dict[str, Any]]:
    """The feature's coverage and its tasks by id (both artifacts must parse)."""
    from specflow.domain.tasks import TaskGraph
    from specflow.formats.spec_md import parse_spec
    from specflow.formats.tasks_md import parse_tasks

    store = ArtifactStore(project, feature)
    spec_art, tasks_art = store.read("spec"), store.read("tasks")
    if not spec_art.exists:
        raise InputError(f"{feature.name} has no spec.md", "run 'specflow specify' first")
    spec = parse_spec(spec_art.body, str(spec_art.path))
    if not tasks_art.exists:  # nothing covers anything yet
        return compute_coverage(spec, []), {}
    graph = TaskGraph(parse_tasks(tasks_art.body, str(tasks_art.path)), path=str(tasks_art.path))
    return compute_coverage(spec, graph.tasks.values()), graph.tasks


def feature_coverage(project: Project, feature: Feature) -> FeatureCoverage:
    cov, tasks = load_coverage(project, feature)
    commits = task_commits(project, feature)
    states = task_states(project, feature, tasks, commits)
    reqs = [
        RequirementTrace(
            r.id,
            r.text,
            [
                TaskTrace(
                    link.task,
                    tasks[link.task].title,
                    link.how,
                    states[link.task],
                    commits.get(link.task, []),
                )
                for link in r.links
            ],
        )
        for r in cov.requirements
    ]
    unknown = [asdict(u) for u in cov.unknown]
    return FeatureCoverage(feature.name, cov.source, cov.declared, reqs, unknown)


def task_commits(project: Project, feature: Feature) -> dict[str, list[CommitRef]]:
    """Commits carrying this feature's trailers, by task id, newest first."""
    from specflow.workspace.git import TRAILER_FEATURE, TRAILER_RUN, TRAILER_TASK, Git, GitError
    from specflow.workspace.pool import integration_branch

    git = Git(project.root)
    refs = [
        r for r in (f"refs/heads/{integration_branch(feature.name)}", "HEAD") if git.rev_parse(r)
    ]
    if not refs:
        return {}
    fields = "%x1f".join(
        ["%H", "%s"]
        + [
            f"%(trailers:key={k},valueonly,separator=%x2C)"
            for k in (TRAILER_FEATURE, TRAILER_TASK, TRAILER_RUN)
        ]
    )
    try:
        text = git.out(
            "log",
            "-F",
            f"--grep={TRAILER_FEATURE}: {feature.name}",
            f"--format={fields}%x1e",
            *refs,
        )
    except GitError:
        return {}
    out: dict[str, list[CommitRef]] = {}
    for record in text.split("\x1e"):
        parts = record.strip("\n").split("\x1f")
        if len(parts) != 5:
            continue
        sha, subject, feats, task_ids, runs = parts
        if feature.name not in _values(feats):
            continue
        run = next(iter(_values(runs)), None)
        for tid in _values(task_ids):
            out.setdefault(tid, []).append(CommitRef(sha, subject, run))
    return out


def _values(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


def task_states(
    project: Project, feature: Feature, tasks: dict[str, Any], commits: dict[str, list[CommitRef]]
) -> dict[str, str]:
    """merged (a commit says so) > the latest run's word > done (ticked) > pending."""
    from specflow.runs.state import RunPaths, list_runs, rebuild

    last: dict[str, str] = {}
    runs = list_runs(project.state_dir, feature.name)
    if runs:
        records = rebuild(RunPaths(project.state_dir, runs[-1][0]).events)
        last = {tid: rec.status for tid, rec in records.items()}
    out: dict[str, str] = {}
    for tid, task in tasks.items():
        if commits.get(tid):
            out[tid] = "merged"
        elif last.get(tid) not in (None, "pending"):
            out[tid] = str(last[tid])
        else:
            out[tid] = "done" if task.done else "pending"
    return out


def render_text(fc: FeatureCoverage) -> str:
    lines = [f"{fc.feature}: coverage read from {fc.source}"]
    for r in fc.requirements:
        lines.append(f"{r.id}  {_clip(r.text)}")
        if not r.tasks:
            lines.append("  (covered by no task)")
        for t in r.tasks:
            how = "" if t.how == "covers" else "  [named in text]"
            lines.append(f"  {t.id} {t.state:8} {_clip(t.title, 50)}{how}")
            for c in t.commits:
                run = f"  run {c.run}" if c.run else ""
                lines.append(f"    {c.sha[:10]} {_clip(c.subject, 50)}{run}")
    covered = len(fc.requirements) - len(fc.uncovered)
    lines.append(f"{covered}/{len(fc.requirements)} requirement(s) covered")
    for u in fc.unknown:
        lines.append(f"note: {u['task']} names {u['requirement']}, which spec.md does not define")
    return "\n".join(lines)


def _clip(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
