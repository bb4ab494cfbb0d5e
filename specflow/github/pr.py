"""`specflow implement --pr`: a pull request for the feature's integration branch, through `gh`.

The body is built from the spec (summary, requirements), the tasks (ticked when done or merged
in the run) and the run record (merged/failed counts, cost). The branch is pushed to `origin`
first when the repository has that remote. An existing pull request for the branch is edited
instead of failing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from specflow.errors import InputError
from specflow.github.docs import FeatureDocs, load_docs
from specflow.github.gh import GhFailed, Runner, argv_lines, default_runner, require_gh, url_in

if TYPE_CHECKING:
    from specflow.project import Feature, Project

MAX_BODY = 60_000  # GitHub refuses bodies over 65,536 characters


@dataclass
class PullRequestPlan:
    feature: str
    base: str
    head: str
    title: str
    body: str
    dry_run: bool
    calls: list[list[str]] = field(default_factory=list)
    url: str | None = None
    updated: bool = False  # an open pull request for the branch existed and was edited

    def dry_run_text(self) -> str:
        """The argv of every call, one JSON array per line (what `--dry-run` prints)."""
        return argv_lines(self.calls)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def open_pull_request(
    project: Project,
    feature: Feature,
    run_record: dict[str, Any] | None,
    *,
    dry_run: bool,
    runner: Runner | None = None,
    base: str | None = None,
    repo: str | None = None,
    draft: bool = False,
    push: bool = True,
) -> PullRequestPlan:
    """Open (or update) the pull request `specflow/<feature>` -> base. `runner=None`: real gh.

    With `dry_run`, nothing runs (the branch need not exist yet); `plan.calls` holds the exact
    argvs that would.
    """
    from specflow.workspace.git import Git

    git = Git(project.root)
    head = f"specflow/{feature.name}"
    if not dry_run and git.rev_parse(f"refs/heads/{head}") is None:
        raise InputError(
            f"no integration branch {head}", f"run 'specflow implement {feature.short}' first"
        )
    base = base or project.config.project.base_branch or _default_base(git)
    docs = load_docs(project, feature, need_tasks=False)
    title = _title(docs)
    body = pr_body(docs, run_record)
    plan = PullRequestPlan(feature.name, base, head, title, body, dry_run)
    repo_args = ["--repo", repo] if repo else []
    if push and "origin" in git.out("remote").split():
        plan.calls.append(["git", "push", "origin", f"refs/heads/{head}:refs/heads/{head}"])
    create = ["gh", "pr", "create", *repo_args, "--base", base, "--head", head]
    create += ["--title", title, "--body", body] + (["--draft"] if draft else [])
    plan.calls.append(create)
    if dry_run:
        return plan
    require_gh()
    run = runner or default_runner(project.root)
    for argv in plan.calls[:-1]:
        run(argv)
    try:
        plan.url = url_in(run(create))
    except GhFailed as exc:
        existing = url_in(exc.stderr) if "already exists" in exc.stderr else None
        if existing is None:
            raise
        edit = ["gh", "pr", "edit", existing, *repo_args, "--title", title, "--body", body]
        plan.calls.append(edit)
        run(edit)
        plan.url, plan.updated = existing, True
    return plan


def load_run_record(
    project: Project, feature: Feature, run_id: str | None = None
) -> dict[str, Any] | None:
    """A run record (`runs/<id>.json`; the newest when `run_id` is None), read from the working
    tree or, where implement committed it, from the integration branch."""
    import json

    from specflow.workspace.git import Git

    git = Git(project.root)
    head = f"refs/heads/specflow/{feature.name}"
    rel = feature.runs_dir.resolve().relative_to(git.toplevel().resolve()).as_posix()
    found: dict[str, str] = {}
    if feature.runs_dir.is_dir():
        found = {p.stem: p.read_text(encoding="utf-8") for p in feature.runs_dir.glob("*.json")}
    if git.rev_parse(head):
        listing = git.run("ls-tree", "--name-only", f"{head}:{rel}", check=False).stdout
        for name in listing.split():
            if name.endswith(".json") and name[:-5] not in found:
                found[name[:-5]] = git.out("show", f"{head}:{rel}/{name}")
    if run_id is not None and run_id not in found:
        raise InputError(f"no run record {run_id} for {feature.name}", "see 'specflow log'")
    key = run_id or max(found, default=None)
    if key is None:
        return None
    try:
        data = json.loads(found[key])
    except ValueError:
        raise InputError(f"run record {key} is not valid JSON") from None
    return data if isinstance(data, dict) else None


def _default_base(git: Any) -> str:
    current = git.current_branch()
    if current and not current.startswith("specflow"):
        return str(current)
    for name in ("main", "master"):
        if git.rev_parse(f"refs/heads/{name}"):
            return name
    return "main"


def _title(docs: FeatureDocs) -> str:
    name = docs.spec.title if docs.spec and docs.spec.title else docs.feature.slug
    return f"{name} ({docs.feature.name})"[:250]


def pr_body(docs: FeatureDocs, run_record: dict[str, Any] | None) -> str:
    record = run_record or {}
    statuses: dict[str, str] = {
        t: str(r.get("status", "")) for t, r in (record.get("tasks") or {}).items()
    }
    reasons = {t: r.get("reason") for t, r in (record.get("tasks") or {}).items()}
    issues = _exported_issues(docs)
    lines: list[str] = []
    spec = docs.spec
    if spec is not None:
        lines += [f"## {spec.title}", ""]
        if spec.summary:
            lines += [spec.summary.strip(), ""]
        if spec.requirements:
            lines += ["### Requirements", ""]
            lines += [f"- **{r.id}**: {r.text}" for r in spec.requirements] + [""]
    if docs.graph is not None:
        lines += ["### Tasks", ""]
        for tid in docs.graph.order():
            task = docs.graph.tasks[tid]
            status = statuses.get(tid)
            done = task.done or status == "merged"
            ref = f" (#{issues[tid]})" if tid in issues else ""
            note = ""
            if status in ("failed", "blocked"):
                why = reasons.get(tid)
                note = f" — **{status}**" + (f": {_one_line(why)}" if why else "")
            lines.append(f"- [{'x' if done else ' '}] {tid} {task.title}{ref}{note}")
        lines.append("")
        closes = [
            f"Closes #{issues[t]}"
            for t in docs.graph.order()
            if t in issues and (docs.graph.tasks[t].done or statuses.get(t) == "merged")
        ]
        if closes:
            lines += [", ".join(closes), ""]
    if record:
        lines += _run_lines(record, statuses)
    lines.append(f"<sub>Opened by specflow from `{docs.rel}/`.</sub>")
    body = "\n".join(lines) + "\n"
    if len(body) > MAX_BODY:
        body = body[: MAX_BODY - 40] + "\n\n… (truncated by specflow)\n"
    return body


def _run_lines(record: dict[str, Any], statuses: dict[str, str]) -> list[str]:
    counts = {s: sum(1 for v in statuses.values() if v == s) for s in ("merged", "failed")}
    blocked = sum(1 for v in statuses.values() if v == "blocked")
    usage = record.get("usage") or {}
    cost = float(usage.get("cost_usd", 0.0) or 0.0)
    tokens = int(usage.get("prompt_tokens", 0) or 0) + int(usage.get("completion_tokens", 0) or 0)
    lines = [f"### Run `{record.get('run', '?')}`", ""]
    lines.append(
        f"- tasks merged: {counts['merged']}, failed: {counts['failed']}, blocked: {blocked}, "
        f"not run: {len(record.get('not_run') or [])}"
    )
    lines.append(f"- cost: ${cost:.4f} ({tokens} tokens)")
    if record.get("agent"):
        lines.append(f"- agent: {record['agent']}, parallel {record.get('parallel', '?')}")
    return [*lines, ""]


def _exported_issues(docs: FeatureDocs) -> dict[str, int]:
    from specflow.github.issues import STATE_FILE, ExportState

    path = docs.feature.path / STATE_FILE
    try:
        return ExportState.load(path, docs.feature.name).issues
    except InputError:
        return {}


def _one_line(text: Any) -> str:
    return re.sub(r"\s+", " ", str(text)).strip()[:200]


def pull_request_after_run(
    project: Project,
    feature: str,
    run_id: str | None,
    *,
    dry_run: bool,
    draft: bool = False,
    runner: Runner | None = None,
) -> PullRequestPlan:
    """The one call `implement --pr` makes: the feature by name, its run record by id (None:
    the newest, or none yet in a dry run), then `open_pull_request`."""
    feat = project.resolve_feature(feature)
    record = load_run_record(project, feat, run_id) if run_id or not dry_run else None
    return open_pull_request(project, feat, record, dry_run=dry_run, draft=draft, runner=runner)
