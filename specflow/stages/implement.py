"""`specflow implement`: load the feature's task graph, work out what is left, run the engine.

Entry points (the CLI calls these):
- `plan_implement(project, options) -> ImplementPlan` for `--dry-run`;
- `run_implement(project, options, observer=...) -> RunSummary`, which raises RunFailed when a
  task failed or was blocked and Interrupted on Ctrl-C (with the command that resumes).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from importlib import import_module
from pathlib import Path
from typing import Any

from specflow.domain.tasks import TaskGraph, TaskList
from specflow.engine.budget import raise_for_budget_or_approval
from specflow.engine.record import RunSummary, raise_if_failed, write_record
from specflow.engine.trust import plan_trust
from specflow.errors import InputError, Interrupted
from specflow.project import Feature, Project
from specflow.redact import redact_tree
from specflow.runs.events import Event, EventLog
from specflow.runs.state import (
    FeatureLock,
    RunPaths,
    TaskRecord,
    find_run,
    kill_orphans,
    list_runs,
    new_run_id,
    rebuild,
)
from specflow.workspace.git import IDENTITY, Git

Observer = Callable[[Event], None]


@dataclass
class ImplementOptions:
    feature: str | None = None
    parallel: int | None = None
    agent: str | None = None
    only: list[str] | None = None
    from_phase: str | None = None
    resume: bool = False
    run_id: str | None = None
    model: str | None = None
    tmux: bool = False  # CLI agents run in tmux windows (`specflow attach T012`)
    max_cost: float | None = None  # USD for this invocation (engine/budget.py)
    wait_approval: bool = False  # keep running while tasks await `specflow approve`
    executor: str | None = None  # local (default) or ray: where agents run (engine/executor.py)
    ray_address: str | None = None  # with --executor ray; default: [ray].address


@dataclass
class Loaded:
    project: Project
    feature: Feature
    graph: TaskGraph
    tasks_text: str
    git: Git
    repo_root: Path
    ref: str
    tip: str | None
    done: set[str]  # merged, ticked, or before the --from phase: not to run
    merged: set[str]  # trailers on the integration branch only
    landed: set[str]  # merged or ticked in the user's tasks.md: their boxes get [x]
    selected: list[str]


@dataclass
class ImplementPlan:
    feature: str
    waves: list[list[str]]
    titles: dict[str, str]
    done: list[str]
    skipped: list[str]
    critical_path: list[str]
    gates: dict[str, str] = field(default_factory=dict)  # beyond verify, by the trust policy


def _formats() -> tuple[Any, Any, Any]:
    mod = import_module("specflow.formats")
    names = ("parse_tasks", "split_front_matter", "mark_done")
    found = {n: getattr(mod, n, None) for n in names}
    for sub in ("tasks_md", "frontmatter"):
        if all(found.values()):
            break
        with contextlib.suppress(ImportError):
            m = import_module(f"specflow.formats.{sub}")
            for n in names:
                found[n] = found[n] or getattr(m, n, None)
    return found["parse_tasks"], found["split_front_matter"], found["mark_done"]


def load(project: Project, options: ImplementOptions) -> Loaded:
    from specflow.workspace.pool import integration_branch

    feature = project.resolve_feature(options.feature)
    path = feature.artifact("tasks")
    if not path.is_file():
        raise InputError(f"{path}: no tasks.md yet", f"run 'specflow tasks {feature.name}' first")
    text = path.read_text(encoding="utf-8")
    parse_tasks, split_front_matter, _ = _formats()
    _, body = split_front_matter(text, str(path))
    tasklist: TaskList = parse_tasks(body, str(path))
    graph = TaskGraph(tasklist, path=str(path))
    git = Git(project.root)
    from specflow.errors import NotInitialized
    from specflow.workspace.git import GitError

    try:
        repo_root = git.toplevel()
    except GitError:
        raise NotInitialized(
            f"{project.root} is not in a git repository", "run 'git init'"
        ) from None
    if not git.has_identity():
        git = Git(project.root, IDENTITY)
    ref = f"refs/heads/{integration_branch(feature.name)}"
    tip = git.rev_parse(ref)
    merged = set(git.task_trailers(ref, feature.name)) & set(graph.tasks) if tip else set()
    ticked = {t.id for t in graph.tasks.values() if t.done}
    done = merged | ticked
    selected = _select(graph, options, done)  # adds the phases before --from to `done`
    return Loaded(
        project,
        feature,
        graph,
        text,
        git,
        repo_root,
        ref,
        tip,
        done,
        merged,
        merged | ticked,
        selected,
    )


def _select(graph: TaskGraph, options: ImplementOptions, done: set[str]) -> list[str]:
    order = graph.order()
    if options.from_phase:
        phases = graph.tasklist.phases
        key = options.from_phase.strip()
        idx = None
        if key.isdigit() and 1 <= int(key) <= len(phases):
            idx = int(key) - 1
        else:
            hits = [i for i, p in enumerate(phases) if key.lower() in p.title.lower()]
            idx = hits[0] if hits else None
        if idx is None:
            titles = "; ".join(f"{i + 1}: {p.title}" for i, p in enumerate(phases))
            raise InputError(f"no phase '{key}'", f"phases are {titles}")
        earlier = {t.id for p in phases[:idx] for t in p.tasks}
        done |= earlier  # starting from a phase means the earlier ones count as done
        order = [t for t in order if t not in earlier]
    if options.only:
        wanted = [t.strip().upper() for t in options.only if t.strip()]
        unknown = [t for t in wanted if t not in graph.tasks]
        if unknown:
            raise InputError(f"unknown task {', '.join(unknown)}", "see tasks.md for the ids")
        for t in wanted:
            missing = sorted(d for d in graph.ancestors(t) if d not in done and d not in wanted)
            if missing:
                raise InputError(
                    f"{t} needs {', '.join(missing)}, not merged yet",
                    f"add them: --only {','.join([*missing, *wanted])}",
                )
        order = [t for t in order if t in wanted]
    return [t for t in order if t not in done]


def plan_implement(project: Project, options: ImplementOptions) -> ImplementPlan:
    ld = load(project, options)
    return ImplementPlan(
        feature=ld.feature.name,
        waves=ld.graph.waves(only=ld.selected),
        titles={t: ld.graph.tasks[t].title for t in ld.graph.tasks},
        done=sorted(ld.landed),
        skipped=[t for t in ld.graph.order() if t not in ld.selected and t not in ld.landed],
        critical_path=[t for t in ld.graph.critical_path() if t in ld.selected],
        gates=plan_trust(project.config, ld.graph, ld.selected, None, None, check=False).gated,
    )


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def run_implement(
    project: Project, options: ImplementOptions, *, observer: Observer | None = None
) -> RunSummary:
    from specflow.agents.base import Limits
    from specflow.agents.registry import AgentOptions, resolve_agent
    from specflow.engine.runner import Engine, EngineSettings, FeatureContext
    from specflow.workspace.integration import (
        add_exclude,
        checked_out_at,
        clear_stale_ref_locks,
        ensure_branch,
    )
    from specflow.workspace.merge import MergeQueue
    from specflow.workspace.pool import WorktreePool

    ld = load(project, options)
    cfg = project.config
    state_dir = project.state_dir
    previous: Event | None = None
    if options.resume and (options.run_id or list_runs(state_dir, ld.feature.name)):
        run_id, previous = find_run(state_dir, ld.feature.name, options.run_id)
    elif options.resume:  # killed before its first event: nothing to resume, start afresh
        options = replace(options, resume=False)
        run_id = new_run_id()
    else:
        run_id = options.run_id or new_run_id()
    prev = previous or {}
    agent_spec = options.agent or prev.get("agent") or cfg.implement.agent
    parallel = options.parallel or prev.get("parallel") or cfg.implement.parallel
    model = options.model or prev.get("model") or cfg.model_for("implement")
    paths = RunPaths(state_dir, run_id)
    from specflow.executors import make_executor

    executor_kind = options.executor or prev.get("executor") or "local"
    executor = make_executor(
        executor_kind,
        address=options.ray_address,
        config=cfg,
        project_root=project.root,
        repo_root=ld.repo_root,
        git=ld.git,
        agent_spec=agent_spec,
        tmux=options.tmux,
    )
    if executor is not None and not (options.parallel or prev.get("parallel")):
        parallel = executor.capacity()  # the cluster's `agent` slots
    from specflow.engine.trust import attach_trust

    trust = plan_trust(cfg, ld.graph, ld.selected, model, options.max_cost)

    lock = FeatureLock(state_dir, ld.feature.name)
    lock.acquire(run_id)
    events: EventLog | None = None
    finish_telemetry: Callable[[], None] | None = None
    try:
        # A run killed with -9 leaves its agents running: stop them before reusing worktrees.
        for rid, _ in list_runs(state_dir, ld.feature.name)[-3:]:
            kill_orphans(RunPaths(state_dir, rid).events, rid)
        holders = [p for p in checked_out_at(ld.git, ld.ref) if state_dir not in p.parents]
        if holders:
            raise InputError(
                f"{ld.ref.removeprefix('refs/heads/')} is checked out in {holders[0]}",
                "switch that checkout to another branch; specflow moves this branch itself",
            )
        add_exclude(ld.git, ".specflow/")
        clear_stale_ref_locks(ld.git, ld.feature.name)
        tip, created = ensure_branch(ld.git, ld.ref, cfg.project.base_branch)
        agent = resolve_agent(
            agent_spec,
            AgentOptions(
                config=cfg,
                model=model,
                log_dir=paths.dir / "tasks",
                project_root=project.root,
                tmux=options.tmux,
            ),
        )
        records = rebuild(paths.events) if options.resume else {}
        for t in ld.merged:
            records.setdefault(t, TaskRecord(t)).status = "merged"
        for t in ld.selected:  # failed or blocked before: pending again
            rec = records.setdefault(t, TaskRecord(t))
            rec.status, rec.reason, rec.blocked_by, rec.started = "pending", None, None, None
        events = EventLog(paths.events)
        if observer is not None:
            events.subscribe(observer)
        from specflow.observe.otel import attach_live

        finish_telemetry = attach_live(events, cfg.telemetry)
        events.emit(
            "run_resumed" if options.resume else "run_started",
            run=run_id,
            feature=ld.feature.name,
            agent=agent_spec,
            parallel=parallel,
            model=model,
            branch=ld.ref.removeprefix("refs/heads/"),
            base=tip,
            created_branch=created,
            executor=executor_kind,
            selected=ld.selected,
            done=sorted(ld.done),
            titles={t: ld.graph.tasks[t].title for t in ld.selected},
        )
        settings = EngineSettings(
            parallel=int(parallel),
            verify_retries=cfg.implement.verify_retries,
            conflict_retries=cfg.implement.conflict_retries,
            verify_timeout_s=cfg.implement.verify_timeout_s,
            test_command=cfg.project.test_command,
            limits=Limits(
                max_steps=cfg.implement.max_steps,
                max_seconds=cfg.implement.max_seconds,
                max_cost_usd=cfg.implement.max_cost_usd,
            ),
            model=model,
            wait_approval=options.wait_approval,
            gate_depth=cfg.implement.gate_depth,
        )
        spec = ld.feature.artifact("spec")
        plan = ld.feature.artifact("plan")
        ctx = FeatureContext(
            name=ld.feature.name,
            tasks_relpath=ld.feature.artifact("tasks")
            .resolve()
            .relative_to(ld.repo_root.resolve())
            .as_posix(),
            tasks_text=ld.tasks_text,
            spec_text=spec.read_text(encoding="utf-8") if spec.is_file() else None,
            plan_text=plan.read_text(encoding="utf-8") if plan.is_file() else None,
            mark_done=_formats()[2],
        )
        pool = WorktreePool(
            ld.git, state_dir / "worktrees" / ld.feature.name, ld.feature.name, settings.parallel
        )
        merge = MergeQueue(ld.git, ld.ref)
        controls = attach_trust(
            trust,
            config=cfg,
            feature=ld.feature.name,
            spec_text=ctx.spec_text,
            project_root=project.root,
            git=ld.git,
            events=events,
            paths=paths,
            records=records,
            implementer=model,
        )
        engine = Engine(
            graph=ld.graph,
            selected=ld.selected,
            done=ld.done,
            landed=ld.landed,
            agent=agent,
            pool=pool,
            merge=merge,
            events=events,
            paths=paths,
            feature=ctx,
            settings=settings,
            records=records,
            gates=controls.gates,
            budget=controls.budget,
            router=controls.router,
            executor=executor,
        )
        try:
            with _sigterm_as_interrupt():
                engine.run()
        except KeyboardInterrupt:
            events.emit("run_interrupted", run=run_id)
            feat = ld.feature.name
            raise Interrupted(
                "interrupted; agents stopped, merged work is kept",
                f"resume with: specflow implement {feat} --resume {run_id}",
            ) from None
        finally:
            pool.park_all()  # slots off their task branches, which go next
            _cleanup(ld.git, engine.merged_branches)
        not_run = engine.scheduler.pending()
        summary = RunSummary(run_id, ld.feature.name, engine.records, not_run)
        summary.ran = sum(
            1 for t in ld.selected if t in engine.records and engine.records[t].status == "merged"
        )
        if ld.selected:  # nothing ran, nothing to record (a no-op resume leaves git alone)
            summary.record_path = write_record(
                ld, merge, summary, agent_spec, int(parallel), events, model=model
            )
        events.emit(
            "run_finished",
            run=run_id,
            merged=summary.count("merged"),
            failed=summary.count("failed"),
            blocked=summary.count("blocked"),
            not_run=not_run,
            **(
                {"awaiting": sorted(engine.scheduler.awaiting)} if engine.scheduler.awaiting else {}
            ),
            **({"budget": controls.budget.report()} if controls.budget else {}),
        )
    finally:
        if events is not None:
            events.close()
        if finish_telemetry is not None:
            finish_telemetry()
        # Agents and checks print what they like; secrets never stay in the run's files.
        with contextlib.suppress(OSError):
            redact_tree(paths.dir)
        if executor is not None:
            with contextlib.suppress(Exception):
                executor.close()
        lock.release()
    raise_for_budget_or_approval(summary, controls.budget, sorted(engine.scheduler.awaiting))
    raise_if_failed(summary)
    return summary


def _cleanup(git: Git, branches: list[str]) -> None:
    if not branches:
        return
    stdin = "".join(f"delete refs/heads/{b}\n" for b in branches)
    git.run("update-ref", "--no-deref", "--stdin", input=stdin, check=False)
