"""`specflow implement --executor ray`: each task attempt runs as a Ray task on a cluster node.

The driver (this process) keeps the scheduler, the event log and the merge queue. Per attempt:

1. push the slot's starting commit to the shared remote as `refs/specflow/base/<run>/<task>`;
2. submit `run_node_task` (specflow/executors/ray_node.py) asking for one unit of the custom
   resource `agent`, so each node runs as many agents as it offers (`ray start
   --resources='{"agent": 4}'`); the node fetches the commit into its cached clone, runs the
   agent and the task's checks in a pooled worktree, and pushes the commit to
   `refs/specflow/task/<run>/<task>`; its events stream back into the run's event log;
3. fetch that commit and check it out in the task's driver slot; the merge queue then rebases,
   re-verifies only if the tip moved, and fast-forwards, exactly as locally.

A node or worker that dies mid-task (WorkerCrashedError, NodeDiedError, ...) re-queues the
attempt, preferably on another node, up to `NODE_RETRIES` times. Nothing is merged twice: only
the driver merges, and git trailers on the integration branch are its record.
"""

from __future__ import annotations

import logging
import os
import random
import re
import threading
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from specflow.engine.attempt import AttemptFailed, AttemptJob, AttemptResult, Cancelled, Emit
from specflow.errors import InputError
from specflow.executors.ray_node import NodeJob, Texts, run_node_task
from specflow.fsutil import atomic_write_text
from specflow.runs.catalogue import Kind
from specflow.workspace.git import Git

if TYPE_CHECKING:
    from specflow.config import Config

INSTALL_HINT = "pip install 'specflow-sdd[ray]'"
NODE_RETRIES = 3  # re-queues per attempt after a node or worker died
_SYSTEM_ERRORS = (
    "WorkerCrashedError",
    "NodeDiedError",
    "LocalRayletDiedError",
    "ObjectLostError",
    "RaySystemError",
    "OutOfMemoryError",  # Ray's memory monitor killed the worker
)


def import_ray() -> ModuleType:
    try:
        import ray
    except ImportError:
        raise InputError("--executor ray needs the 'ray' package", INSTALL_HINT) from None
    return ray


class NodeLost(Exception):
    def __init__(self, node: str | None, why: str) -> None:
        super().__init__(why)
        self.node = node


class RayExecutor:
    name = "ray"

    def __init__(
        self,
        *,
        git: Git,
        remote: str,
        agent_spec: str,
        config: Config,
        address: str | None = None,
        slots_per_node: int = 4,
        node_retries: int = NODE_RETRIES,
    ) -> None:
        self.ray = import_ray()
        self.git = git
        self.remote = remote
        self.agent_spec = agent_spec
        self.config = config.model_dump()
        self.node_retries = node_retries
        probe = git.run("ls-remote", remote, "HEAD", check=False)
        if probe.returncode != 0:
            first = next((ln for ln in probe.stderr.splitlines() if ln.strip()), "")
            raise InputError(
                f"cannot reach the git remote {remote}: {first.strip()}",
                "set [ray] remote to a repository every node and this machine can reach",
            )
        ray = self.ray
        # Ray's own notes at connect time (token auth, ...) would break the live view.
        logging.getLogger("ray._private.authentication").setLevel(logging.ERROR)
        if not ray.is_initialized():
            common: dict[str, Any] = {
                "logging_level": logging.WARNING,
                "log_to_driver": False,
                "include_dashboard": False,
            }
            address = address or os.environ.get("RAY_ADDRESS") or None
            if address:
                ray.init(address=address, **common)
            else:  # a one-node Ray started for this run: agents on this machine
                ray.init(
                    resources={"agent": slots_per_node},
                    num_cpus=1,
                    object_store_memory=100_000_000,
                    _node_ip_address="127.0.0.1",  # nothing to serve beyond this machine
                    **common,
                )
        self._fn = ray.remote(run_node_task)
        self._lock = threading.Lock()
        self._texts: Any = None
        self._failures: dict[str, int] = {}  # verify failures so far per task (node side)
        self._refs: set[str] = set()  # pushed and fetched refs, dropped at close()
        self.git_env = _identity(git)

    # -- the cluster ----------------------------------------------------------------------

    def capacity(self) -> int:
        """Agents the cluster runs at once: its total `agent` resource."""
        total = int(self.ray.cluster_resources().get("agent", 0))
        if total < 1:
            raise InputError(
                "the Ray cluster has no 'agent' resource",
                "start nodes with: ray start --address=HEAD:6379 --resources='{\"agent\": 4}'",
            )
        return total

    def _strategy(self, avoid: str | None) -> Any:
        if not avoid:
            return "DEFAULT"
        nodes = [
            n["NodeID"]
            for n in self.ray.nodes()
            if n.get("Alive") and n.get("Resources", {}).get("agent") and n["NodeID"] != avoid
        ]
        if not nodes:
            return "DEFAULT"
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        return NodeAffinitySchedulingStrategy(node_id=random.choice(nodes), soft=True)

    # -- one attempt ----------------------------------------------------------------------

    def run_attempt(self, job: AttemptJob, emit: Emit, cancel: threading.Event) -> AttemptResult:
        if cancel.is_set():
            raise Cancelled()
        task, run = job.task, job.run_id
        start = job.git.head()
        fetch_ref = f"refs/specflow/base/{run}/{task.id}"
        push_ref = f"refs/specflow/task/{run}/{task.id}"
        self._push(start, fetch_ref)
        node_job = NodeJob(
            remote=self.remote,
            run_id=run,
            feature=job.feature,
            task=task,
            base=job.base or start,
            start=start,
            fetch_ref=fetch_ref,
            push_ref=push_ref,
            message=job.message,
            agent_spec=self.agent_spec,
            config=self.config,
            model=job.model,
            limits=job.limits,
            commands=job.commands,
            verify_timeout_s=job.verify_timeout_s,
            verify_retries=max(0, job.verify_retries - self._failures.get(task.id, 0)),
            attempt=job.attempt,
            feedback=job.feedback,
            git_env=self.git_env,
        )
        avoid: str | None = None
        for lost in range(self.node_retries + 1):
            try:
                res = self._dispatch(job, node_job, emit, cancel, avoid)
                break
            except NodeLost as exc:
                if cancel.is_set():
                    raise Cancelled() from None
                avoid = exc.node
                emit(
                    Kind.WARNING,
                    node=exc.node,
                    message=f"{task.id}: node lost mid-task ({exc}); re-queued",
                )
                if lost >= self.node_retries:
                    raise AttemptFailed(f"node lost {lost + 1} times: {exc}") from None
        self._failures[task.id] = self._failures.get(task.id, 0) + int(res.get("failures", 0))
        if not res.get("ok"):
            raise AttemptFailed(str(res.get("reason") or "failed on the node"))
        commit = str(res["commit"])
        with self._lock:
            self._refs.add(push_ref)  # on the remote now, whether or not we fetch it
        self._fetch(commit, push_ref)
        job.git.run("reset", "-q", "--hard", commit)  # the slot's task branch moves with it
        return AttemptResult(int(res.get("attempt", job.attempt)), commit)

    def _dispatch(
        self,
        job: AttemptJob,
        node_job: NodeJob,
        emit: Emit,
        cancel: threading.Event,
        avoid: str | None,
    ) -> dict[str, Any]:
        ray = self.ray
        gen = self._fn.options(
            num_cpus=0,
            resources={"agent": 1},
            max_retries=0,  # re-queued by run_attempt, which can steer away from the lost node
            num_returns="streaming",
            scheduling_strategy=self._strategy(avoid),
        ).remote(node_job, self._texts_ref(job))
        node: str | None = None
        result: dict[str, Any] | None = None
        while result is None:
            if cancel.is_set():
                ray.cancel(gen)
                raise Cancelled()
            ready, _ = ray.wait([gen], timeout=0.25)
            if not ready:
                continue
            try:
                item = ray.get(next(gen))
            except StopIteration:
                raise NodeLost(node, "the node sent no result") from None
            except Exception as exc:
                if cancel.is_set():
                    raise Cancelled() from None
                if type(exc).__name__ in _SYSTEM_ERRORS or isinstance(
                    exc, ray.exceptions.RaySystemError
                ):
                    raise NodeLost(node, type(exc).__name__) from None
                raise
            if item["type"] == "node":
                node = item["node"]
            elif item["type"] == "result":
                result = item
            else:
                _handle(job, item, emit)
        return result

    def _texts_ref(self, job: AttemptJob) -> Any:
        with self._lock:
            if self._texts is None:
                self._texts = self.ray.put(Texts(job.spec_text, job.plan_text))
            return self._texts

    # -- git ------------------------------------------------------------------------------

    def _push(self, commit: str, ref: str) -> None:
        self.git.run("push", "-q", "--force", "--no-verify", self.remote, f"{commit}:{ref}")
        with self._lock:
            self._refs.add(ref)

    def _fetch(self, commit: str, ref: str) -> None:
        if self.git.run("cat-file", "-e", f"{commit}^{{commit}}", check=False).returncode == 0:
            return  # the remote shares this repository's objects (or fetched before)
        with self._lock:  # one fetch at a time into the main repository
            self.git.run(
                "fetch", "-q", "--no-tags", "--no-write-fetch-head", self.remote, f"+{ref}:{ref}"
            )
            self._refs.add(ref)

    def close(self) -> None:
        """Drop this run's refs here and on the remote, and disconnect from the cluster."""
        refs = sorted(self._refs)
        if refs:
            self.git.run(
                "push", "-q", "--no-verify", self.remote, *[f":{r}" for r in refs], check=False
            )
            stdin = "".join(f"delete {r}\n" for r in refs)
            self.git.run("update-ref", "--no-deref", "--stdin", input=stdin, check=False)
        self._refs.clear()
        if self.ray.is_initialized():
            self.ray.shutdown()


def _handle(job: AttemptJob, item: dict[str, Any], emit: Emit) -> None:
    """An event, a brief or a log file streamed back by the node, recorded on the driver."""
    tid, paths = job.task.id, job.paths
    what = item.get("type")
    if what == "event":
        kind = str(item["kind"])
        data = {k: v for k, v in item.items() if k not in ("type", "kind")}
        attempt = int(data.get("attempt") or job.attempt)
        if kind == Kind.AGENT_PROCESS:
            data["log"] = str(paths.agent_log(tid, attempt))
        elif kind in (Kind.VERIFY_PASSED, Kind.VERIFY_FAILED):
            data["log"] = str(paths.verify_log(tid, attempt))
        emit(kind, **data)
    elif what == "brief":
        atomic_write_text(paths.brief(tid), str(item["text"]))
        if item.get("feedback") is not None:
            atomic_write_text(paths.feedback(tid, int(item["attempt"])), item["feedback"])
    elif what == "file":
        name = Path(str(item["name"]))
        if not name.is_absolute() and ".." not in name.parts:
            atomic_write_text(paths.task_dir(tid) / name, str(item["text"]))


def _identity(git: Git) -> dict[str, str]:
    """The driver's commit identity, so commits made on nodes carry the user's name."""
    env: dict[str, str] = {}
    for who in ("AUTHOR", "COMMITTER"):
        proc = git.run("var", f"GIT_{who}_IDENT", check=False)
        m = re.match(r"^(.*) <(.*)> \d+ [+-]\d{4}$", proc.stdout.strip())
        if m:
            env[f"GIT_{who}_NAME"], env[f"GIT_{who}_EMAIL"] = m.group(1), m.group(2)
    return env


def resolve_remote(
    remote: str | None, project_root: Path, repo_root: Path, address: str | None
) -> str:
    """The git remote every node reaches: `[ray] remote` (a path, relative to the project, is
    made absolute), or with a one-machine Ray (no address), this repository itself."""
    address = address or os.environ.get("RAY_ADDRESS") or None
    if remote:
        if "://" in remote or re.match(r"^[\w.-]+@[\w.-]+:", remote):
            return remote
        return str((project_root / remote).resolve())
    if address:
        raise InputError(
            "--executor ray on a cluster needs a git remote every node can reach",
            "set [ray] remote = '<bare repository URL or shared path>' in specflow.toml",
        )
    return str(repo_root.resolve())
