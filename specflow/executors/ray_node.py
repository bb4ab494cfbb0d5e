"""The node side of `--executor ray`: one task attempt (agent, commit, checks) on a cluster node.

Runs inside a Ray worker process; it imports nothing from Ray at module level, so it can be
tested and reasoned about as plain Python. Per remote (the git repository every node can reach)
a node keeps, under `$SPECFLOW_RAY_CACHE` (default `~/.cache/specflow/ray`):

    <hash>/repo.git        a bare clone, fetched into (only the commits a task needs)
    <hash>/slots/slot-N    pooled worktrees of it, each held with flock(slot-N.lock)
    <hash>/logs/<run>/     briefs, agent and verify logs (sent back to the driver as they end)

A slot's lock dies with its worker process, so a crashed worker frees its slot; the agent it
started (its own process group) is recorded in the lock file and killed before the slot is
reused. `run_node_task` yields dicts to the driver: events as they happen, files, then one
`result`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import shutil
import signal
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specflow.agents.base import Limits
from specflow.domain.tasks import Task
from specflow.engine.attempt import (
    AttemptFailed,
    Cancelled,
    Emit,
    agent_outcome,
    agent_task,
    commit_work,
    run_agent,
    verify_work,
)
from specflow.flock import locked, try_lock_path, write_note
from specflow.runs.catalogue import Kind
from specflow.workspace.git import Git
from specflow.workspace.pool import Slot, WorktreePool

if TYPE_CHECKING:
    from specflow.sandbox import Confinement

MAX_LOG_BYTES = 512_000  # per file sent back to the driver (the tail)


@dataclass
class NodeJob:
    remote: str  # a URL or absolute path every node can reach
    run_id: str
    feature: str
    task: Task
    base: str  # the task commit's parent (the integration tip it started from)
    start: str  # what the worktree starts from: `base`, or the previous attempt's commit
    fetch_ref: str  # where the driver pushed `start` on the remote
    push_ref: str  # where the node pushes the task commit
    message: str  # the commit message, trailers included
    agent_spec: str
    config: dict[str, Any]
    model: str | None
    limits: Limits
    commands: list[str]  # the task's verify, then the project's test command
    verify_timeout_s: float
    verify_retries: int  # verify failures allowed on this dispatch before the task fails
    attempt: int
    feedback: str | None = None
    git_env: dict[str, str] = field(default_factory=dict)  # the driver's commit identity
    sandbox: dict[str, Any] | None = None  # the run's [sandbox] as the driver applies it


@dataclass
class Texts:
    spec: str | None = None
    plan: str | None = None


def cache_root() -> Path:
    env = os.environ.get("SPECFLOW_RAY_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "specflow" / "ray"


def node_identity() -> dict[str, str]:
    node = ""
    with contextlib.suppress(Exception):
        import ray

        if ray.is_initialized():  # in a Ray worker (asking otherwise would start a Ray)
            node = ray.get_runtime_context().get_node_id()
    return {"node": node, "host": socket.gethostname(), "worker_pid": str(os.getpid())}


class NodeRepo:
    """The node's bare clone of the remote and its pool of worktree slots."""

    def __init__(self, remote: str, root: Path | None = None) -> None:
        key = hashlib.sha1(remote.encode()).hexdigest()[:16]
        self.remote = remote
        self.dir = (root or cache_root()) / key
        self.bare = self.dir / "repo.git"
        self.git = Git(self.bare)

    def ensure(self, commit: str, ref: str) -> None:
        """Have `commit` locally: init the clone once, fetch `ref` when the commit is missing."""
        with locked(self.dir / "repo.lock"):
            if not (self.bare / "HEAD").is_file():
                self.bare.mkdir(parents=True, exist_ok=True)
                self.git.run("init", "-q", "--bare")
            probe = self.git.run("cat-file", "-e", f"{commit}^{{commit}}", check=False)
            if probe.returncode != 0:
                self.git.run(
                    "fetch", "-q", "--no-tags", "--no-write-fetch-head", self.remote,
                    f"+{ref}:{ref}",
                )  # fmt: skip

    def acquire(self) -> tuple[int, Path]:
        """A free slot (its lock fd, its folder). Kills what a crashed holder's agent left."""
        slots = self.dir / "slots"
        slots.mkdir(parents=True, exist_ok=True)
        i = 0
        while True:
            i += 1
            fd = try_lock_path(slots / f"slot-{i}.lock")
            if fd is None:
                continue
            path = slots / f"slot-{i}"
            _kill_recorded(fd, path)
            return fd, path

    def prepare(self, path: Path, start: str) -> Git:
        """The slot at `start`, clean, and its hardened git (workspace/pool.py: the gitdir
        named, no program of the repository's run, the `.git` file checked before every
        command). A slot whose `.git` an agent rewrote is made anew, never used."""
        pool = WorktreePool(Git(self.bare), self.dir / "slots", "node", size=1 << 16)
        if Slot(0, path, pool.git).tamper_problem(pool.common_dir()) is not None:
            with locked(self.dir / "repo.lock"):
                shutil.rmtree(path, ignore_errors=True)
                self.git.run("worktree", "prune")
                self.git.run("worktree", "add", "-q", "--detach", "-f", str(path), start)
        wt = pool.worktree_git(path)
        if wt.gitdir is not None:
            with contextlib.suppress(FileNotFoundError):
                (wt.gitdir / "index.lock").unlink()
        wt.run("checkout", "-q", "-f", "--detach", start)
        wt.run("clean", "-q", "-ff", "-d", "-x")
        return wt


def record_agent(fd: int, pid: int) -> None:
    """Note the running agent's process group in the slot's lock file."""
    write_note(fd, f"{pid}\n")


def _kill_recorded(fd: int, slot: Path) -> None:
    try:
        pid = int(os.pread(fd, 64, 0).decode().strip() or "0")
    except ValueError:
        pid = 0
    if pid > 0:
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            environ = []
        if f"SPECFLOW_WORKTREE={slot}".encode() in environ:  # guards against pid reuse
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
    os.ftruncate(fd, 0)


def run_node_task(job: NodeJob, texts: Texts) -> Iterator[dict[str, Any]]:
    """The Ray task body (a streaming generator). Work runs in a thread so that a
    cancellation (KeyboardInterrupt in this thread) stops the agent cleanly."""
    out: queue.Queue[dict[str, Any] | None] = queue.Queue()
    cancel = threading.Event()
    ident = node_identity()
    yield {"type": "node", **ident}

    def work() -> None:
        try:
            out.put(_attempts(job, texts, out, cancel, ident))
        except BaseException as exc:
            out.put({"type": "result", "ok": False, "reason": f"{type(exc).__name__}: {exc}"})
        finally:
            out.put(None)

    th = threading.Thread(target=work, name=f"specflow-{job.task.id}", daemon=True)
    th.start()
    try:
        while True:
            try:
                item = out.get(timeout=0.2)  # short waits: a cancel interrupts this thread
            except queue.Empty:
                continue
            if item is None:
                break
            yield item
    except BaseException:
        cancel.set()
        th.join(timeout=15)
        raise


def _attempts(
    job: NodeJob,
    texts: Texts,
    out: queue.Queue[dict[str, Any] | None],
    cancel: threading.Event,
    ident: dict[str, str],
) -> dict[str, Any]:
    from specflow.agents.registry import AgentOptions, resolve_agent
    from specflow.config import Config

    task = job.task
    config = Config.model_validate(job.config)
    repo = NodeRepo(job.remote)
    confinement = node_confinement(job.sandbox or config.sandbox.model_dump(), repo.dir)
    logs = repo.dir / "logs" / job.run_id
    _prune_logs(repo.dir / "logs", keep=logs)
    repo.ensure(job.start, job.fetch_ref)
    fd, path = repo.acquire()
    try:
        wt = repo.prepare(path, job.start)
        who = [("user.name", "GIT_AUTHOR_NAME"), ("user.email", "GIT_AUTHOR_EMAIL")]
        for key, var in who:  # the driver's identity (a slot's git reads no global config)
            if job.git_env.get(var):
                wt = replace(wt, extra_config=(*wt.extra_config, "-c", f"{key}={job.git_env[var]}"))
        agent = resolve_agent(
            job.agent_spec,
            AgentOptions(
                config=config,
                model=job.model,
                log_dir=logs / "tasks",
                project_root=path,
                confinement=confinement,
            ),
        )
        attempt, feedback, failures = job.attempt, job.feedback, 0
        node = ident["node"]  # on every event: where it happened
        while True:
            emit = _emitter(out, fd, attempt, node)
            texts_ = (texts.spec, texts.plan)
            agent_job = agent_task(
                job.run_id, job.feature, task, path, logs / "briefs" / f"{task.id}.md", texts_,
                attempt, feedback, job.model, job.limits,
            )  # fmt: skip
            out.put(
                {"type": "brief", "attempt": attempt, "text": agent_job.brief, "feedback": feedback}
            )
            result = run_agent(
                agent, agent_job, emit, cancel, host=ident["host"], worker=int(ident["worker_pid"])
            )
            record_agent(fd, 0)
            _send_logs(out, logs / "tasks" / task.id)
            agent_outcome(result, cancel)
            commit = commit_work(wt, job.base, job.message, emit)
            failure = verify_work(
                job.commands,
                wt,
                path,
                task_id=task.id,
                timeout=job.verify_timeout_s,
                log=logs / "tasks" / task.id / f"verify-{attempt}.log",
                cancel=cancel,
                emit=emit,
                confinement=confinement,
            )
            _send_logs(out, logs / "tasks" / task.id)
            if failure is None:
                break
            failures += 1
            if failures > job.verify_retries:
                raise AttemptFailed(f"verify failed: {failure.reason}")
            feedback, attempt = failure.feedback, attempt + 1
        # from the node's clone (its own config), not the slot, whose `.git` the agent can reach
        repo.git.run("push", "-q", "--force", "--no-verify", job.remote, f"{commit}:{job.push_ref}")
        return {"type": "result", "ok": True, "commit": commit, "attempt": attempt,
                "verified": True, "failures": failures}  # fmt: skip
    except Cancelled:
        return {"type": "result", "ok": False, "reason": "cancelled", "attempt": attempt}
    except AttemptFailed as exc:
        return {"type": "result", "ok": False, "reason": str(exc), "attempt": attempt}
    finally:
        os.close(fd)


def node_confinement(sandbox: dict[str, Any], node_dir: Path) -> Confinement:
    """The run's sandbox on this node: the driver's `[sandbox]` settings (mode "off" when the
    driver runs unconfined), the best backend this node has for them, and the node's clone
    (which the worktrees' `.git` files point into) readable to the checks."""
    from specflow.config import SandboxSection
    from specflow.sandbox import resolve

    conf = resolve(SandboxSection.model_validate(sandbox))
    return replace(conf, readable=(str(node_dir),))


def _emitter(out: queue.Queue[dict[str, Any] | None], fd: int, attempt: int, node: str) -> Emit:
    """Events of one attempt, streamed to the driver; the agent's pid noted in the slot lock."""

    def emit(kind: str, **data: Any) -> None:
        if kind == Kind.AGENT_PROCESS and isinstance(data.get("pid"), int):
            record_agent(fd, data["pid"])
        value = getattr(kind, "value", kind)
        out.put({"type": "event", "kind": value, "attempt": attempt, "node": node, **data})

    return emit


def _send_logs(out: queue.Queue[dict[str, Any] | None], folder: Path) -> None:
    """Each log file of the task, whole (or its tail): the driver overwrites its copies."""
    if not folder.is_dir():
        return
    for f in sorted(folder.rglob("*")):
        if not f.is_file():
            continue
        with open(f, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - MAX_LOG_BYTES))
            data = fh.read().decode("utf-8", errors="replace")
        out.put({"type": "file", "name": f.relative_to(folder).as_posix(), "text": data})


def _prune_logs(root: Path, keep: Path, max_age_s: float = 3 * 86400) -> None:
    """Drop the node's copies of logs of runs older than a few days (the driver has them)."""
    if not root.is_dir():
        return
    now = time.time()
    for d in root.iterdir():
        with contextlib.suppress(OSError):
            if d != keep and now - d.stat().st_mtime > max_age_s:
                shutil.rmtree(d, ignore_errors=True)
