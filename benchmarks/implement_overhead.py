"""`specflow implement` performance: per-task overhead, schedule quality, orchestrator memory.

    python benchmarks/implement_overhead.py [--quick]

1. Per-task overhead (agent time excluded) on 100-file and 20,000-file repositories: a chain
   of tasks run with the real CLI and a trivial `cmd:` agent; overhead = task wall time
   (task_started -> task_merged) minus the agent's own time, from the run's events. Shown next
   to one `git worktree add` on the same repository (what the pool avoids per task).
2. Makespan / lower bound on generated graphs of 50-500 tasks: the engine's Scheduler driven
   by a discrete-event simulation (sleeping agents in virtual time), plus one real run of a
   50-task graph with an in-process sleeping agent (real git, real merges).
3. Peak RSS of the orchestrator (agents excluded) with 32 `cmd:` agents at once on a
   500-task graph.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from specflow.domain.tasks import Phase, Task, TaskGraph, TaskList  # noqa: E402
from specflow.engine.scheduler import Scheduler, lower_bound  # noqa: E402

PY = sys.executable


def sh(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=b", "-c", "user.email=b@b", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def make_repo(root: Path, n_files: int, tasks_md: str, test_command: str | None = None) -> Path:
    repo = root / "repo"
    repo.mkdir(parents=True)
    sh(repo, "init", "-q", "-b", "main")
    for i in range(n_files):
        d = repo / "src" / f"d{i // 200:03d}"
        if i % 200 == 0:
            d.mkdir(parents=True)
        (d / f"f{i:05d}.py").write_text(f"X = {i}\n")
    toml = "[project]\nname = 'bench'\n"
    if test_command:
        toml += f"test_command = {json.dumps(test_command)}\n"
    (repo / "specflow.toml").write_text(toml)
    (repo / ".gitignore").write_text(".specflow/\n")
    feat = repo / "specs" / "001-bench"
    feat.mkdir(parents=True)
    (feat / "tasks.md").write_text(tasks_md)
    sh(repo, "add", "-A")
    sh(repo, "commit", "-qm", "init")
    return repo


def tasks_md(tasks: list[tuple[str, list[str], list[str]]]) -> str:
    out = ["# Tasks: bench", "", "## Phase 1: All", ""]
    for tid, deps, files in tasks:
        out.append(f"- [ ] {tid} Task {tid}")
        out.append(f"  - depends: {', '.join(deps) if deps else 'none'}")
        if files:
            out.append(f"  - files: {', '.join(files)}")
    return "\n".join(out) + "\n"


def run_cli(repo: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t = time.perf_counter()
    proc = subprocess.run(
        [PY, "-m", "specflow", *args], cwd=repo, capture_output=True, text=True, env=env
    )
    return proc, time.perf_counter() - t


def events(repo: Path) -> list[dict[str, object]]:
    path = next(repo.glob(".specflow/runs/*/events.jsonl"))
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# -- 1. per-task overhead ---------------------------------------------------------------------


def bench_overhead(n_files: int, n_tasks: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        chain = [
            (f"T{i:03d}", [f"T{i - 1:03d}"] if i > 1 else [], [f"out/T{i:03d}.txt"])
            for i in range(1, n_tasks + 1)
        ]
        t = time.perf_counter()
        repo = make_repo(Path(tmp), n_files, tasks_md(chain))
        setup = time.perf_counter() - t
        t = time.perf_counter()
        sh(repo, "worktree", "add", "-q", "--detach", str(Path(tmp) / "wt"), "HEAD")
        wt_add = time.perf_counter() - t
        sh(repo, "worktree", "remove", "--force", str(Path(tmp) / "wt"))
        agent = "cmd:sh -c 'mkdir -p out && echo $SPECFLOW_TASK_ID > out/$SPECFLOW_TASK_ID.txt'"
        proc, wall = run_cli(repo, "implement", "-j", "1", "--agent", agent)
        if proc.returncode != 0:
            raise SystemExit(proc.stderr)
        evs = events(repo)
        start: dict[str, float] = {}
        agent_s: dict[str, float] = {}
        per: list[float] = []
        for e in evs:
            tid = str(e.get("task"))
            if e["kind"] == "task_started":
                start[tid] = float(e["t"])  # type: ignore[arg-type]
            elif e["kind"] == "agent_finished":
                agent_s[tid] = agent_s.get(tid, 0.0) + float(e["seconds"])  # type: ignore[arg-type]
            elif e["kind"] == "task_merged":
                per.append(float(e["t"]) - start[tid] - agent_s.get(tid, 0.0))  # type: ignore[arg-type]
        first = per[0]  # the first task also creates the worktree
        rest = per[1:]
        return {
            "files": n_files,
            "tasks": n_tasks,
            "setup_s": setup,
            "worktree_add_s": wt_add,
            "first_task_s": first,
            "median_s": statistics.median(rest),
            "p90_s": sorted(rest)[int(len(rest) * 0.9) - 1],
            "cli_wall_s": wall,
        }


# -- 2. schedule quality ----------------------------------------------------------------------


def gen_graph(n: int, rng: random.Random, share: float) -> tuple[TaskGraph, dict[str, float]]:
    tasks: list[Task] = []
    ids = [f"T{i:03d}" for i in range(1, n + 1)]
    hot = [f"src/hot{i}.py" for i in range(8)]
    for i, tid in enumerate(ids):
        window = ids[max(0, i - 40) : i]
        k = rng.choice([0, 1, 1, 2, 2, 3]) if window else 0
        deps = sorted(rng.sample(window, min(k, len(window))))
        files = [f"src/{tid}.py"] + ([rng.choice(hot)] if rng.random() < share else [])
        tasks.append(Task(id=tid, title=tid, depends=deps, files=files))
    graph = TaskGraph(TaskList(title="gen", phases=[Phase(title="p", tasks=tasks)]))
    return graph, {t: rng.uniform(1.0, 10.0) for t in ids}


def simulate(graph: TaskGraph, dur: dict[str, float], n: int, merge_s: float = 0.0) -> float:
    """Virtual-time run of the real Scheduler; merges take `merge_s` each, one at a time."""
    sched = Scheduler(graph, graph.order(), set())
    now = 0.0
    running: list[tuple[float, str]] = []
    merge_free = 0.0
    while True:
        for t in sched.take(n - len(sched.running)):
            heapq.heappush(running, (now + dur[t], t))
        if not running:
            break
        done_at, t = heapq.heappop(running)
        now = max(done_at, merge_free) + merge_s
        merge_free = now
        sched.merged_task(t)
    return now


def bench_schedule(quick: bool) -> list[dict[str, float]]:
    rows = []
    rng = random.Random(42)
    sizes = (50, 100, 200, 500)
    for size in sizes:
        for n in (4, 8, 16, 32):
            for share in (0.0, 0.1):
                ratios = []
                for _ in range(3 if quick else 10):
                    g, d = gen_graph(size, rng, share)
                    ratios.append(simulate(g, d, n) / lower_bound(g, g.order(), d, n))
                rows.append(
                    {
                        "tasks": size,
                        "N": n,
                        "shared": share,
                        "mean": statistics.mean(ratios),
                        "max": max(ratios),
                    }
                )
    return rows


def bench_real_schedule(n_tasks: int, n: int) -> dict[str, float]:
    """The real engine (git, worktrees, merge queue) with an in-process sleeping agent."""
    from specflow.agents import registry
    from specflow.agents.base import AgentResult
    from specflow.project import Project
    from specflow.stages.implement import ImplementOptions, run_implement

    rng = random.Random(7)
    graph, dur = gen_graph(n_tasks, rng, 0.1)
    dur = {t: v / 10 for t, v in dur.items()}  # 0.1 .. 1.0 s

    class SleepAgent:
        name = "bench-sleep"

        def run(self, job, emit, cancel):  # type: ignore[no-untyped-def]
            time.sleep(dur[job.task.id])
            (job.worktree / "src").mkdir(exist_ok=True)
            (job.worktree / "src" / f"{job.task.id}.py").write_text(f"# {job.task.id}\n")
            return AgentResult(ok=True, steps=1)

    spec = [(t, list(graph.deps[t]), graph.tasks[t].files) for t in graph.order()]
    with tempfile.TemporaryDirectory() as tmp:
        repo = make_repo(Path(tmp), 100, tasks_md(spec))
        real = registry.resolve_agent
        registry.resolve_agent = lambda spec, opts: SleepAgent()  # type: ignore[assignment,misc,return-value]
        try:
            t = time.perf_counter()
            run_implement(Project.discover(repo), ImplementOptions(parallel=n, agent="bench"))  # type: ignore[arg-type]
            wall = time.perf_counter() - t
        finally:
            registry.resolve_agent = real
        evs = events(repo)
    start = min(float(e["t"]) for e in evs if e["kind"] == "task_started")  # type: ignore[arg-type]
    end = max(float(e["t"]) for e in evs if e["kind"] == "task_merged")  # type: ignore[arg-type]
    bound = lower_bound(graph, graph.order(), dur, n)
    return {
        "tasks": n_tasks,
        "N": n,
        "makespan_s": end - start,
        "bound_s": bound,
        "ratio": (end - start) / bound,
        "sim_ratio": simulate(graph, dur, n) / bound,
        "wall_s": wall,
    }


# -- 3. memory --------------------------------------------------------------------------------


def bench_memory(n_tasks: int, n: int, sleep: float) -> dict[str, float]:
    import psutil

    spec = [(f"T{i:03d}", [], [f"out/T{i:03d}.txt"]) for i in range(1, n_tasks + 1)]
    with tempfile.TemporaryDirectory() as tmp:
        repo = make_repo(Path(tmp), 100, tasks_md(spec))
        agent = f"cmd:sh -c 'sleep {sleep}; mkdir -p out; echo $SPECFLOW_TASK_ID > out/$SPECFLOW_TASK_ID.txt'"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(
            [PY, "-m", "specflow", "implement", "-j", str(n), "--agent", agent],
            cwd=repo,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        ps = psutil.Process(proc.pid)
        peak_rss = 0
        peak_agents = 0
        t = time.perf_counter()
        while proc.poll() is None:
            try:
                peak_rss = max(peak_rss, ps.memory_info().rss)
                kids = ps.children(recursive=False)
                peak_agents = max(peak_agents, sum(1 for k in kids if k.name() == "sh"))
            except psutil.Error:
                pass
            time.sleep(0.05)
        wall = time.perf_counter() - t
        merged = sum(1 for e in events(repo) if e["kind"] == "task_merged")
    return {
        "tasks": n_tasks,
        "N": n,
        "peak_rss_mb": peak_rss / 2**20,
        "peak_agents": peak_agents,
        "merged": merged,
        "wall_s": wall,
        "exit": proc.returncode,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller runs")
    ap.add_argument("--overhead-only", action="store_true", help="only part 1")
    args = ap.parse_args()
    print("## Per-task overhead (agent time excluded), chain of tasks, --parallel 1")
    print(
        f"{'files':>7} {'tasks':>5} {'worktree add':>13} {'1st task':>9} {'median':>8} {'p90':>8}"
    )
    for files in (100, 2_000, 20_000):
        r = bench_overhead(files, 10 if args.quick else 20)
        print(
            f"{r['files']:>7} {r['tasks']:>5} {r['worktree_add_s']:>12.3f}s {r['first_task_s']:>8.3f}s {r['median_s']:>7.3f}s {r['p90_s']:>7.3f}s"
        )
    print()
    if args.overhead_only:
        return
    print("## Makespan / lower bound, simulated (Scheduler in virtual time, durations 1-10)")
    print(f"{'tasks':>5} {'N':>3} {'shared files':>12} {'mean':>6} {'max':>6}")
    for r in bench_schedule(args.quick):
        print(
            f"{r['tasks']:>5} {r['N']:>3} {r['shared']:>12.0%} {r['mean']:>6.3f} {r['max']:>6.3f}"
        )
    print()
    print("## Makespan / lower bound, real engine, in-process sleeping agent (0.1-1.0 s)")
    r = bench_real_schedule(50, 4)
    print(
        f"tasks {r['tasks']}, N {r['N']}: makespan {r['makespan_s']:.2f}s, bound {r['bound_s']:.2f}s, ratio {r['ratio']:.3f} (simulated {r['sim_ratio']:.3f})"
    )
    print()
    print("## Orchestrator peak RSS, 32 cmd: agents at once")
    m = bench_memory(500 if not args.quick else 200, 32, 3.0)
    print(
        f"tasks {m['tasks']}, N {m['N']}: peak RSS {m['peak_rss_mb']:.1f} MB, peak concurrent agents {m['peak_agents']}, merged {m['merged']}, wall {m['wall_s']:.1f}s, exit {m['exit']}"
    )


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()
