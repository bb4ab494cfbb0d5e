"""The task desk: next/claim/complete/fail for MCP clients, over the engine's pieces.

State is never kept only in memory: each call reads the feature's session run (events) and git
(the `Specflow-Task:` trailers on `specflow/<feature>`, as `implement --resume` does), decides
under the feature's MCP mutex, and appends events. Several servers (several clients) and a
restarted server therefore agree on who holds what.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from specflow.errors import InputError
from specflow.fsutil import atomic_write_text
from specflow.mcp import state as st
from specflow.mcp.board import TaskView, describe_idle, ordered, task_brief, task_checks, view_tasks
from specflow.mcp.landing import Landing, retry_hint
from specflow.project import Project
from specflow.runs.state import RunPaths
from specflow.stages.implement import ImplementOptions, Loaded, load
from specflow.workspace.merge import MergeQueue
from specflow.workspace.pool import Slot, WorktreePool, task_branch


@dataclass
class Snapshot:
    ld: Loaded
    board: st.Board
    views: dict[str, TaskView]

    @property
    def feature(self) -> str:
        return self.ld.feature.name


class TaskDesk:
    def __init__(self, project: Project) -> None:
        self.project = project
        self.state_dir = project.state_dir
        self.token = st.SessionToken(self.state_dir)
        self._locks: dict[str, st.SharedFeatureLock] = {}
        self._queues: dict[str, MergeQueue] = {}
        self._busy: set[tuple[str, str]] = set()
        self._guard = threading.Lock()

    # -- lifecycle ------------------------------------------------------------------------------

    def restore(self) -> list[str]:
        """After a restart: hold the shared lock of every feature with open claims."""
        held: list[str] = []
        for feature in self.project.features():
            board = st.open_board(self.state_dir, feature.name)
            if board.claims:
                try:
                    self._lock(feature.name).acquire(board.run_id)
                    held.append(feature.name)
                except InputError:
                    continue  # `implement` runs it now; calls on it will say so
        return held

    def close(self) -> None:
        for lock in self._locks.values():
            lock.release()
        self.token.close()

    # -- reading --------------------------------------------------------------------------------

    def snapshot(self, feature: str) -> Snapshot:
        ld = load(self.project, ImplementOptions(feature=feature))
        board = st.open_board(self.state_dir, ld.feature.name)
        views = view_tasks(ld, board, self.token)
        return Snapshot(ld, board, views)

    def status(self, feature: str) -> dict[str, Any]:
        snap = self.snapshot(feature)
        return {
            "session_run": snap.board.run_id,
            "integration_branch": snap.ld.ref.removeprefix("refs/heads/"),
            "tasks": [snap.views[t].to_dict() for t in snap.ld.graph.order()],
        }

    def next_task(self, feature: str) -> dict[str, Any]:
        snap = self.snapshot(feature)
        ready = [t for t in ordered(snap.ld) if snap.views[t].state == "ready"]
        if not ready:
            return {"feature": snap.feature, "task": None, "why": describe_idle(snap.views)}
        task = snap.ld.graph.tasks[ready[0]]
        return {
            "feature": snap.feature,
            "task": task.id,
            "title": task.title,
            "depends": snap.ld.graph.deps[task.id],
            "files": task.files,
            "verify": task_checks(task, self.project.config),
            "also_ready": ready[1:],
            "brief": task_brief(snap.ld, task, self.project.root),
            "next": f"call claim_task(feature={snap.feature!r}, task_id={task.id!r})",
        }

    # -- claiming -------------------------------------------------------------------------------

    def claim(self, feature: str, task_id: str) -> dict[str, Any]:
        from specflow.workspace.integration import add_exclude, checked_out_at, ensure_branch

        tid = task_id.strip().upper()
        name = self.project.resolve_feature(feature).name
        lock = self._lock(name)
        lock.acquire(st.open_board(self.state_dir, name).run_id)
        try:
            with st.feature_mutex(self.state_dir, name):
                snap = self._healed(self.snapshot(feature))
                view = self._view(snap, tid)
                claim = snap.board.claims.get(tid)
                adopted = claim is not None and not self.token.alive(claim.session)
                if not adopted:
                    view.require_claimable()
                ld = snap.ld
                holders = [
                    p for p in checked_out_at(ld.git, ld.ref) if self.state_dir not in p.parents
                ]
                if holders:
                    raise InputError(
                        f"{ld.ref.removeprefix('refs/heads/')} is checked out in {holders[0]}",
                        "switch that checkout to another branch; specflow moves this branch itself",
                    )
                add_exclude(ld.git, ".specflow/")
                tip, created = ensure_branch(
                    ld.git, ld.ref, self.project.config.project.base_branch
                )
                run_id = snap.board.run_id or st.start_session_run(
                    self.state_dir,
                    name,
                    branch=ld.ref.removeprefix("refs/heads/"),
                    base=tip,
                    created_branch=created,
                    selected=ld.selected,
                    done=sorted(ld.done),
                    titles={t: ld.graph.tasks[t].title for t in ld.selected},
                )
                lock.label(run_id)
                pool = self._pool(snap)
                if claim is not None and adopted and claim.worktree.is_dir():
                    index, path, base = claim.index, claim.worktree, claim.base
                else:
                    used = {c.index for c in snap.board.claims.values()}
                    index = next(i for i in range(1, len(used) + 2) if i not in used)
                    path, base = pool.root / f"mcp-{index}", tip
                    pool.prepare(Slot(index, path, ld.git.at(path)), tid, tip)
                old = claim.session if adopted and claim else None
                mine = st.Claim(tid, path, task_branch(name, tid), base, self.token.id, 0, index)
                st.record_claim(self.state_dir, run_id, mine, adopted_from=old)
        except BaseException:
            self._release_if_idle(name)
            raise
        task = ld.graph.tasks[tid]
        brief = task_brief(snap.ld, task, path)
        atomic_write_text(RunPaths(self.state_dir, run_id).brief(tid), brief)
        return {
            "feature": name,
            "task": tid,
            "title": task.title,
            "worktree": str(path),
            "branch": task_branch(name, tid),
            "base": base,
            "adopted": adopted,
            "verify": task_checks(task, self.project.config),
            "brief": brief,
            "next": f"edit files only inside {path}, then call complete_task "
            f"(feature={name!r}, task_id={tid!r}, summary=...); specflow commits, verifies "
            "and merges",
        }

    def complete(self, feature: str, task_id: str, summary: str) -> dict[str, Any]:
        tid = task_id.strip().upper()
        name = self.project.resolve_feature(feature).name
        key = (name, tid)
        with self._guard:
            if key in self._busy:
                raise InputError(f"complete_task for {tid} is already running", "wait for it")
            self._busy.add(key)
        try:
            snap, claim, run_id = self._own_claim(feature, tid, "complete_task")
            ld = snap.ld
            task = ld.graph.tasks[tid]
            cfg = self.project.config
            rel = ld.feature.artifact("tasks").resolve().relative_to(ld.repo_root.resolve())
            with st.run_events(self.state_dir, run_id) as events:
                landing = Landing(
                    feature=name,
                    run_id=run_id,
                    task=task,
                    claim=claim,
                    wt=ld.git.at(claim.worktree),
                    merge=self._queue(snap),
                    pool=self._pool(snap),
                    events=events,
                    paths=RunPaths(self.state_dir, run_id),
                    tasks_relpath=rel.as_posix(),
                    user_tasks_text=ld.tasks_text,
                    landed=set(ld.landed),
                    checks=task_checks(task, self.project.config),
                    timeout=cfg.implement.verify_timeout_s,
                    summary=summary,
                )
                outcome = landing.run(claim.attempts + 1)
            result: dict[str, Any] = {"feature": name, "task": tid, "status": outcome.status}
            if outcome.status == "merged":
                result["commit"] = outcome.commit
                result["merged_into"] = ld.ref.removeprefix("refs/heads/")
                result.update(self._after_merge(name))
            else:
                result.update(
                    reason=outcome.reason,
                    output=outcome.output,
                    files=outcome.files or None,
                    log=outcome.log,
                    worktree=str(claim.worktree),
                    next=retry_hint(outcome.status, claim.worktree),
                )
            return {k: v for k, v in result.items() if v is not None}
        finally:
            with self._guard:
                self._busy.discard(key)

    def fail(self, feature: str, task_id: str, reason: str) -> dict[str, Any]:
        tid = task_id.strip().upper()
        snap, claim, run_id = self._own_claim(feature, tid, "fail_task")
        name = snap.feature
        with st.feature_mutex(self.state_dir, name):
            graph, landed = snap.ld.graph, snap.ld.landed
            blocked = sorted(
                (d for d in graph.descendants(tid) if d not in landed), key=graph.order().index
            )
            with st.run_events(self.state_dir, run_id) as events:
                events.emit("task_failed", task=tid, reason=reason.strip() or "failed by client")
                for b in blocked:
                    events.emit("task_blocked", task=b, by=tid, reason=f"blocked by {tid}")
        ld = snap.ld
        ld.git.at(claim.worktree).run("checkout", "-q", "--detach", check=False)
        self._release_if_idle(name)
        return {
            "feature": name,
            "task": tid,
            "status": "failed",
            "blocked": blocked,
            "next": f"claim {tid} again to retry it; next_task offers the other ready tasks",
        }

    # -- helpers --------------------------------------------------------------------------------

    def _own_claim(self, feature: str, tid: str, tool: str) -> tuple[Snapshot, st.Claim, str]:
        """The claim `tool` acts on: this session's, or adopted from a stopped one."""
        name = self.project.resolve_feature(feature).name
        with st.feature_mutex(self.state_dir, name):
            snap = self.snapshot(feature)
            view = self._view(snap, tid)
            claim = snap.board.claims.get(tid)
            run_id = snap.board.run_id
            if claim is None or run_id is None or view.state != "claimed":
                view.require_claimed(tool)
                raise AssertionError("unreachable")
            if claim.session != self.token.id:
                if self.token.alive(claim.session):
                    raise InputError(
                        f"{tid} is claimed by another MCP session (pid {claim.pid})",
                        "only that session can complete or fail it; pick another with next_task",
                    )
                old, claim.session = claim.session, self.token.id
                st.record_claim(self.state_dir, run_id, claim, adopted_from=old)
            if not claim.worktree.is_dir():
                raise InputError(
                    f"the worktree of {tid} is gone ({claim.worktree})",
                    f"call fail_task for {tid}, then claim it again",
                )
            self._lock(name).acquire(run_id)
        return snap, claim, run_id

    def _after_merge(self, name: str) -> dict[str, Any]:
        """Release the lock when nothing is claimed; close the session run when all is merged."""
        from specflow.engine.record import RunSummary, write_record
        from specflow.runs.state import rebuild

        out: dict[str, Any] = {}
        with st.feature_mutex(self.state_dir, name):
            snap = self._healed(self.snapshot(name))
            run_id = snap.board.run_id
            left = [t for t in snap.ld.graph.order() if t not in snap.ld.landed]
            if not left and not snap.board.claims and run_id:
                paths = RunPaths(self.state_dir, run_id)
                summary = RunSummary(run_id, name, rebuild(paths.events))
                with st.run_events(self.state_dir, run_id) as events:
                    out["record"] = write_record(
                        snap.ld, self._queue(snap), summary, "mcp", 1, events
                    )
                    events.emit("run_finished", run=run_id, merged=summary.count("merged"))
                out["feature_done"] = True
            else:
                out["remaining"] = left
        self._release_if_idle(name)
        return out

    def _healed(self, snap: Snapshot) -> Snapshot:
        """Under the mutex: claims whose task git shows merged (a server killed between landing
        and logging it, or `implement` ran it) are closed in the log too."""
        stale = [t for t in snap.board.claims if t in snap.ld.landed]
        if stale and snap.board.run_id:
            with st.run_events(self.state_dir, snap.board.run_id) as events:
                for t in stale:
                    events.emit("task_merged", task=t, reason="found merged on the branch")
                    snap.board.claims.pop(t)
        return snap

    def _view(self, snap: Snapshot, tid: str) -> TaskView:
        view = snap.views.get(tid)
        if view is None:
            known = ", ".join(snap.ld.graph.order())
            raise InputError(f"no task {tid} in {snap.feature}", f"its tasks are {known}")
        return view

    def _lock(self, name: str) -> st.SharedFeatureLock:
        with self._guard:
            return self._locks.setdefault(name, st.SharedFeatureLock(self.state_dir, name))

    def _release_if_idle(self, name: str) -> None:
        with st.feature_mutex(self.state_dir, name):
            if not st.open_board(self.state_dir, name).claims:
                self._lock(name).release()

    def _pool(self, snap: Snapshot) -> WorktreePool:
        root = self.state_dir / "worktrees" / snap.feature
        return WorktreePool(snap.ld.git, root, snap.feature, size=1 << 16)

    def _queue(self, snap: Snapshot) -> MergeQueue:
        with self._guard:
            q = self._queues.get(snap.feature)
            if q is None:
                q = self._queues[snap.feature] = MergeQueue(snap.ld.git, snap.ld.ref)
            return q
