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
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from specflow.domain.tasks import TaskGraph, TaskList
from specflow.engine.budget import raise_for_budget_or_approval
from specflow.engine.record import RunSummary, raise_if_failed, write_record
from specflow.engine.routing import implementer_of
from specflow.engine.trust import plan_trust
from specflow.errors import InputError, Interrupted
from specflow.formats.frontmatter import split_front_matter
from specflow.formats.tasks_md import mark_done, parse_tasks
from specflow.project import Feature, Project
from specflow.redact import redact_tree
from specflow.runs.catalogue import Kind
from specflow.runs.events import Clock, Event, EventLog
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

if TYPE_CHECKING:
    from specflow.agents.base import Agent
    from specflow.config import Config
    from specflow.engine.executor import Executor
    from specflow.engine.runner import Engine, EngineSettings, FeatureContext
    from specflow.engine.trust import TrustControls, TrustPlan
    from specflow.sandbox import Confinement
    from specflow.stages.preflight import Checked
    from specflow.workspace.integration import CatchUp
    from specflow.workspace.merge import MergeQueue

Observer = Callable[[Event], None]


@dataclass
class ImplementOptions:
    feature: str | None = None
    parallel: int | None = None
    agent: str | None = None
    only: list[str] | None = None
    change: str | None = None  # only the tasks of this applied change (stages/change.py)
    from_phase: str | None = None
    resume: bool = False
    run_id: str | None = None
    model: str | None = None
    tmux: bool = False  # CLI agents run in tmux windows (`specflow attach T012`)
    max_cost: float | None = None  # USD for this invocation (engine/budget.py)
    wait_approval: bool = False  # keep running while tasks await `specflow approve`
    executor: str | None = None  # local (default) or ray: where agents run (engine/executor.py)
    ray_address: str | None = None  # with --executor ray; default: [ray].address

    def __post_init__(self) -> None:
        if self.parallel is not None and not 1 <= self.parallel <= 256:
            raise InputError(
                f"parallel must be between 1 and 256, not {self.parallel}",
                "give the number of agents to run at once, e.g. --parallel 4",
            )


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
    wanted: list[str] | None = None  # what --only / --change picked (None: every task)


@dataclass
class ImplementPlan:
    feature: str
    waves: list[list[str]]
    titles: dict[str, str]
    done: list[str]
    skipped: list[str]
    critical_path: list[str]
    gates: dict[str, str] = field(default_factory=dict)  # beyond verify, by the trust policy


def load(project: Project, options: ImplementOptions) -> Loaded:
    from specflow.workspace.pool import integration_branch

    feature = project.resolve_feature(options.feature)
    path = feature.artifact("tasks")
    if not path.is_file():
        raise InputError(f"{path}: no tasks.md yet", f"run 'specflow tasks {feature.name}' first")
    text = project.read_text(path)  # inside the project, valid UTF-8
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
    from specflow.workspace.integration import check_refs_free
    from specflow.workspace.pool import task_branch

    check_refs_free(git, ref, f"refs/heads/{task_branch(feature.name, 'T000')}")
    tip = git.rev_parse(ref)
    merged = set(git.task_trailers(ref, feature.name)) & set(graph.tasks) if tip else set()
    ticked = {t.id for t in graph.tasks.values() if t.done}
    done = merged | ticked
    wanted = _wanted(feature, graph, options)
    selected = _select(graph, options, done, wanted)  # adds the phases before --from to `done`
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
        wanted,
    )


def _wanted(feature: Feature, graph: TaskGraph, options: ImplementOptions) -> list[str] | None:
    """The tasks `--only` names, or the tasks of `--change NAME`; None: every task."""
    if options.only and options.change:
        raise InputError("--only and --change both pick tasks", "use one of them")
    if options.change:
        from specflow.stages.change import applied_change, change_task_ids

        change = applied_change(feature, options.change)
        ids = change_task_ids(change, graph.tasks.values())
        if not ids:
            touched = ", ".join(change.deltas.touched()) or "none"
            raise InputError(
                f"no task covers a requirement of change {options.change} ({touched})",
                f"update the tasks first: specflow plan {feature.short} && "
                f"specflow tasks {feature.short}",
            )
        return ids
    if not options.only:
        return None
    wanted = [t.strip().upper() for t in options.only if t.strip()]
    unknown = [t for t in wanted if t not in graph.tasks]
    if unknown:
        raise InputError(f"unknown task {', '.join(unknown)}", "see tasks.md for the ids")
    return wanted


def _missing(
    options: ImplementOptions, task: str, missing: list[str], wanted: list[str]
) -> InputError:
    """A selected task needs tasks that are neither selected nor done."""
    if options.change:
        feature = f" {options.feature}" if options.feature else ""
        return InputError(
            f"{task} of change {options.change} needs {', '.join(missing)}, which the change "
            "does not include and which is not done",
            f"run it first: specflow implement{feature} --only {','.join(missing)}",
        )
    return InputError(
        f"{task} needs {', '.join(missing)}, not merged yet",
        f"add them: --only {','.join([*missing, *wanted])}",
    )


def _select(
    graph: TaskGraph, options: ImplementOptions, done: set[str], wanted: list[str] | None
) -> list[str]:
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
    if wanted is not None:
        for t in wanted:
            missing = sorted(d for d in graph.ancestors(t) if d not in done and d not in wanted)
            if missing:
                raise _missing(options, t, missing, wanted)
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


@dataclass
class _Run:
    """Who runs, how: the run id and the settings a resumed run takes from its first start."""

    run_id: str
    resume: bool
    agent_spec: str
    parallel: int
    model: str | None
    executor_kind: str
    paths: RunPaths
    confinement: Confinement | None = None  # the sandbox of untrusted commands (security.md)


def run_implement(
    project: Project,
    options: ImplementOptions,
    *,
    observer: Observer | None = None,
    clock: Clock = time.time,
    executor: Executor | None = None,
) -> RunSummary:
    """`clock` stamps the run id and every event (and so every duration the run reports);
    `executor` runs the attempts (default: the one `options.executor` names)."""
    ld = load(project, options)
    if not ld.selected and not options.resume:  # reported, and no run made (not `last`)
        return RunSummary(new_run_id(clock()), ld.feature.name, {})
    own_agent = executor is None  # a caller's executor runs attempts its own way
    run, executor = _resolve_run(project, ld, options, clock, executor)
    checked = _preflight(project, ld, run, options, executor, own_agent)  # before anything
    trust = plan_trust(
        project.config,
        ld.graph,
        ld.selected,
        run.model,
        options.max_cost,
        implementer=implementer_of(run.agent_spec, run.model),
    )
    run.confinement = run_confinement(project.config, ld.repo_root, project.state_dir)
    if executor is not None:
        executor.confine(run.confinement)
    lock = FeatureLock(project.state_dir, ld.feature.name)
    lock.acquire(run.run_id)
    events: EventLog | None = None
    finish_telemetry: Callable[[], None] | None = None
    try:
        tip, created, caught_up = _prepare_branch(project, ld, checked)
        agent = _open_agent(
            project, run, options
        )  # confined as the run says (preflight only checked it)
        records = _starting_records(ld, run)
        events = EventLog(run.paths.events, clock=clock)
        if observer is not None:
            events.subscribe(observer)
        from specflow.observe.otel import attach_live

        finish_telemetry = attach_live(events, project.config.telemetry)
        _emit_start(events, ld, run, tip, created)
        if caught_up is not None:  # said before any task starts from it
            events.emit(Kind.BRANCH_UPDATED, **caught_up.event(ld.ref, checked.base))
        engine, controls, merge = _build_engine(
            project, ld, run, options, agent, events, records, trust, executor
        )
        _run_engine(engine, events, ld, run)
        summary = _finish(ld, run, engine, merge, events, controls)
    finally:
        if events is not None:
            events.close()
        if finish_telemetry is not None:
            finish_telemetry()
        # Agents and checks print what they like; secrets never stay in the run's files.
        with contextlib.suppress(OSError):
            redact_tree(run.paths.dir)
        if executor is not None:
            with contextlib.suppress(Exception):
                executor.close()
        lock.release()
    raise_for_budget_or_approval(summary, controls.budget, sorted(engine.scheduler.awaiting))
    raise_if_failed(summary)
    return summary


def _resolve_run(
    project: Project,
    ld: Loaded,
    options: ImplementOptions,
    clock: Clock,
    executor: Executor | None = None,
) -> tuple[_Run, Executor | None]:
    """A new run, or the one `--resume` continues (its agent, parallelism and model unless
    given again), and the executor it runs on (None: this machine)."""
    from specflow.executors import make_executor

    cfg, state_dir = project.config, project.state_dir
    previous: Event | None = None
    resume = options.resume
    if resume and (options.run_id or list_runs(state_dir, ld.feature.name)):
        run_id, previous = find_run(state_dir, ld.feature.name, options.run_id)
    elif resume:  # killed before its first event: nothing to resume, start afresh
        resume, run_id = False, new_run_id(clock())
    else:
        run_id = options.run_id or new_run_id(clock())
    prev = previous or {}
    agent_spec = options.agent or prev.get("agent") or cfg.implement.agent
    parallel = options.parallel or prev.get("parallel") or cfg.implement.parallel
    model = options.model or prev.get("model") or cfg.model_for("implement")
    executor_kind = executor.name if executor else options.executor or prev.get("executor")
    executor_kind = executor_kind or "local"
    from specflow.agents.registry import check_agent

    check_agent(
        agent_spec, invoked_from=Path.cwd(), repo_root=ld.repo_root, remote=executor_kind != "local"
    )
    executor = executor or make_executor(
        executor_kind,
        address=options.ray_address,
        config=cfg,
        project_root=project.root,
        state_dir=project.state_dir,
        git=ld.git,
        agent_spec=agent_spec,
        tmux=options.tmux,
    )
    if executor is not None and not (options.parallel or prev.get("parallel")):
        parallel = executor.capacity() or parallel  # the cluster's `agent` slots
    paths = RunPaths(state_dir, run_id)
    return _Run(run_id, resume, agent_spec, int(parallel), model, executor_kind, paths), executor


def _preflight(
    project: Project,
    ld: Loaded,
    run: _Run,
    options: ImplementOptions,
    executor: Executor | None,
    check_model: bool,
) -> Checked:
    """Every check that can fail before a branch, a worktree or a run exists
    (stages/preflight.py); the agent is resolved there too."""
    from specflow.stages.preflight import preflight

    try:
        return preflight(
            project,
            ld,
            agent_spec=run.agent_spec,
            model=run.model,
            tmux=options.tmux,
            log_dir=run.paths.dir / "tasks",
            check_model=check_model,
        )
    except BaseException:
        if executor is not None:
            with contextlib.suppress(Exception):
                executor.close()
        raise


def _prepare_branch(
    project: Project, ld: Loaded, checked: Checked
) -> tuple[str | None, bool, CatchUp | None]:
    """Stop agents a killed run left, refuse a branch checked out elsewhere, and make sure the
    integration branch exists and has the base's new commits: (its tip, whether it was
    created now, how it caught up)."""
    from specflow.workspace.integration import clear_stale_ref_locks, ready_branch

    state_dir = project.state_dir
    # A run killed with -9 leaves its agents running: stop them before reusing worktrees.
    for rid, _ in list_runs(state_dir, ld.feature.name)[-3:]:
        kill_orphans(RunPaths(state_dir, rid).events, rid)
    clear_stale_ref_locks(ld.git, ld.feature.name)
    return ready_branch(ld.git, ld.ref, state_dir, checked.base, checked.base_tip)


def _open_agent(project: Project, run: _Run, options: ImplementOptions) -> Agent:
    from specflow.agents.registry import AgentOptions, resolve_agent

    return resolve_agent(
        run.agent_spec,
        AgentOptions(
            config=project.config,
            model=run.model,
            log_dir=run.paths.dir / "tasks",
            project_root=project.root,
            tmux=options.tmux,
            confinement=run.confinement,
        ),
    )


def _starting_records(ld: Loaded, run: _Run) -> dict[str, TaskRecord]:
    """Task states to start from: a resumed run's, with git's merges on top; what is to run
    now (failed or blocked before) is pending again."""
    records = rebuild(run.paths.events) if run.resume else {}
    for t in ld.merged:
        records.setdefault(t, TaskRecord(t)).status = "merged"
    for t in ld.selected:
        rec = records.setdefault(t, TaskRecord(t))
        rec.status, rec.reason, rec.blocked_by, rec.started = "pending", None, None, None
    return records


def _emit_start(events: EventLog, ld: Loaded, run: _Run, tip: str | None, created: bool) -> None:
    events.emit(
        Kind.RUN_RESUMED if run.resume else Kind.RUN_STARTED,
        run=run.run_id,
        feature=ld.feature.name,
        agent=run.agent_spec,
        parallel=run.parallel,
        model=run.model,
        branch=ld.ref.removeprefix("refs/heads/"),
        base=tip,
        created_branch=created,
        executor=run.executor_kind,
        selected=ld.selected,
        done=sorted(ld.done),
        titles={t: ld.graph.tasks[t].title for t in ld.selected},
    )
    if run.confinement is not None:
        events.emit(Kind.SANDBOX, **run.confinement.event())


def _build_engine(
    project: Project,
    ld: Loaded,
    run: _Run,
    options: ImplementOptions,
    agent: Agent,
    events: EventLog,
    records: dict[str, TaskRecord],
    trust: TrustPlan,
    executor: Executor | None,
) -> tuple[Engine, TrustControls, MergeQueue]:
    from specflow.engine.runner import Engine
    from specflow.engine.trust import attach_trust
    from specflow.workspace.merge import MergeQueue
    from specflow.workspace.pool import WorktreePool, slots_for

    cfg = project.config
    settings = _settings(cfg, run, options)
    ctx = _feature_context(ld)
    pool = WorktreePool(
        ld.git,
        project.state_dir / "worktrees" / ld.feature.name,
        ld.feature.name,
        slots_for(run.parallel),
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
        paths=run.paths,
        records=records,
        implementer=run.model,
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
        paths=run.paths,
        feature=ctx,
        settings=settings,
        records=records,
        controls=controls,
        executor=executor,
    )
    return engine, controls, merge


def _settings(cfg: Config, run: _Run, options: ImplementOptions) -> EngineSettings:
    from specflow.agents.base import Limits
    from specflow.engine.runner import EngineSettings

    return EngineSettings(
        parallel=run.parallel,
        verify_retries=cfg.implement.verify_retries,
        conflict_retries=cfg.implement.conflict_retries,
        verify_timeout_s=cfg.implement.verify_timeout_s,
        test_command=cfg.project.test_command,
        limits=Limits(
            max_steps=cfg.implement.max_steps,
            max_seconds=cfg.implement.max_seconds,
            max_cost_usd=cfg.implement.max_cost_usd,
        ),
        model=run.model,
        wait_approval=options.wait_approval,
        confinement=run.confinement,
        gate_depth=cfg.implement.gate_depth,
    )


def _feature_context(ld: Loaded) -> FeatureContext:
    from specflow.engine.runner import FeatureContext

    spec = ld.feature.artifact("spec")
    plan = ld.feature.artifact("plan")
    tasks = ld.feature.artifact("tasks")
    from specflow.bugfix.tasks import reproductions

    spec_text = spec.read_text(encoding="utf-8") if spec.is_file() else None
    return FeatureContext(
        name=ld.feature.name,
        tasks_relpath=tasks.resolve().relative_to(ld.repo_root.resolve()).as_posix(),
        tasks_text=ld.tasks_text,
        spec_text=spec_text,
        plan_text=plan.read_text(encoding="utf-8") if plan.is_file() else None,
        mark_done=mark_done,
        reproduce=reproductions(spec_text, list(ld.graph.tasks.values())),
    )


def _run_engine(engine: Engine, events: EventLog, ld: Loaded, run: _Run) -> None:
    """Run until nothing more can start; Ctrl-C (or SIGTERM) stops the agents and says how
    to resume. Slots leave their task branches, and merged task branches go, either way."""
    try:
        with _sigterm_as_interrupt():
            engine.run()
    except KeyboardInterrupt:
        events.emit(Kind.RUN_INTERRUPTED, run=run.run_id)
        raise Interrupted(
            "interrupted; agents stopped, merged work is kept",
            f"resume with: specflow implement {ld.feature.name} --resume {run.run_id}",
        ) from None
    finally:
        engine.pool.park_all()  # slots off their task branches, which go next
        _cleanup(ld.git, engine.merged_branches)


def _finish(
    ld: Loaded,
    run: _Run,
    engine: Engine,
    merge: MergeQueue,
    events: EventLog,
    controls: TrustControls,
) -> RunSummary:
    """The run's summary, its committed record (when something ran) and `run_finished`."""
    not_run = engine.scheduler.pending()
    summary = RunSummary(run.run_id, ld.feature.name, engine.records, not_run)
    summary.ran = sum(
        1 for t in ld.selected if t in engine.records and engine.records[t].status == "merged"
    )
    if ld.selected:  # nothing ran, nothing to record (a no-op resume leaves git alone)
        summary.record_path = write_record(
            ld, merge, summary, run.agent_spec, run.parallel, events, model=run.model
        )
    awaiting = sorted(engine.scheduler.awaiting)
    events.emit(
        Kind.RUN_FINISHED,
        run=run.run_id,
        merged=summary.count("merged"),
        failed=summary.count("failed"),
        blocked=summary.count("blocked"),
        not_run=not_run,
        **({"awaiting": awaiting} if awaiting else {}),
        **({"budget": controls.budget.report()} if controls.budget else {}),
    )
    return summary


def run_confinement(cfg: Config, repo_root: Path, state_dir: Path) -> Confinement:
    """The run's sandbox (ConfigError, exit 2, when none can work and none was waived), told
    about the folders its commands must see even under a private /tmp."""
    from specflow.sandbox import resolve
    from specflow.secretscan import prepare

    conf = replace(resolve(cfg.sandbox), readable=(str(repo_root), str(state_dir)))
    conf.activate()
    prepare()  # every task commit is scanned for secrets
    return conf


def _cleanup(git: Git, branches: list[str]) -> None:
    if not branches:
        return
    stdin = "".join(f"delete refs/heads/{b}\n" for b in branches)
    git.run("update-ref", "--no-deref", "--stdin", input=stdin, check=False)
