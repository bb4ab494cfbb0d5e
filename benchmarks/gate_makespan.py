"""Makespan of `specflow implement` against its lower bound, with and without a test command,
and 32/64 agents started from a fresh repository (issue 15's checks).

    python benchmarks/gate_makespan.py [--only dag|wide] [--runs N]

1. A 13-task DAG (five layers: 1, 4, 4, 3, 1 tasks), agents that sleep 2 s, `--parallel 4`,
   without a test command and with a 1 s `sleep` as the test command. The bound is the
   longest chain of (agent + one verify) per task, or the total work over 4 agents if that is
   longer: what no scheduler can beat.
2. 16 independent tasks, 2 s agents, a 1 s sleeping test, `--parallel 4`: the next agent
   starts while a task's check runs (bound: the agents back to back plus the last check, 9 s).
3. 64 independent tasks whose agents sleep 3 s, a fresh repository (no worktree yet), no test
   command, `--parallel 32` (bound: two waves, 6 s) and `--parallel 64` (one wave, 3 s), with the
   peak RSS of the specflow process itself (agents excluded).

Makespan is measured from the run's `run_started` event to its last `task_merged`, so Python's
start-up is not counted; wall time of the whole command is shown too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from implement_overhead import PY, ROOT, events, make_repo, tasks_md

LAYERS = (1, 4, 4, 3, 1)


def dag13() -> list[tuple[str, list[str], list[str]]]:
    out: list[tuple[str, list[str], list[str]]] = []
    previous: list[str] = []
    n = 0
    for width in LAYERS:
        layer = []
        for _ in range(width):
            n += 1
            tid = f"T{n:03d}"
            out.append((tid, list(previous), [f"out/{tid}.txt"]))
            layer.append(tid)
        previous = layer
    return out


def agent(seconds: float) -> str:
    return (
        f"cmd:sh -c 'sleep {seconds}; mkdir -p out; "
        "echo $SPECFLOW_TASK_ID > out/$SPECFLOW_TASK_ID.txt'"
    )


def run(repo: Path, parallel: int, agent_s: float) -> dict[str, float]:
    import psutil

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [PY, "-m", "specflow", "implement", "-j", str(parallel), "--agent", agent(agent_s)],
        cwd=repo,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = 0.0
    me = psutil.Process(proc.pid)
    done = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not done.is_set():
            try:
                peak = max(peak, me.memory_info().rss / 2**20)
            except psutil.Error:
                return
            time.sleep(0.05)

    th = threading.Thread(target=watch, daemon=True)
    th.start()
    _, err = proc.communicate()
    done.set()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(err)
    evs = events(repo)
    start = float(next(e["t"] for e in evs if e["kind"] == "run_started"))  # type: ignore[arg-type]
    end = max(float(e["t"]) for e in evs if e["kind"] == "task_merged")  # type: ignore[arg-type]
    agents = sorted(float(e["t"]) for e in evs if e["kind"] == "agent_started")  # type: ignore[arg-type]
    verifies = sum(1 for e in evs if e["kind"] == "verify_started")
    return {
        "makespan_s": end - start,
        "wall_s": wall,
        "peak_rss_mb": peak,
        "last_agent_start_s": agents[-1] - start,
        "verifies": verifies,
    }


def bench_dag(runs: int) -> None:
    print("## 13-task DAG, 2 s agents, --parallel 4")
    spec = dag13()
    longest = len(LAYERS)
    for test in (None, "sleep 1"):
        per = 2.0 + (1.0 if test else 0.0)
        bound = max(longest * per, len(spec) * per / 4)
        ratios = []
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as tmp:
                repo = make_repo(Path(tmp), 100, tasks_md(spec), test_command=test)
                r = run(repo, 4, 2.0)
            ratios.append(r["makespan_s"] / bound)
            print(
                f"  test {test or 'none':8} makespan {r['makespan_s']:6.2f} s, bound {bound:5.1f} s, "
                f"ratio {r['makespan_s'] / bound:.3f}, verifies {r['verifies']:.0f}"
            )
        print(f"  -> test {test or 'none'}: median ratio {statistics.median(ratios):.3f}")


def bench_wide(runs: int) -> None:
    print("## 64 independent 3 s tasks, fresh repository, no test command")
    spec = [(f"T{i:03d}", [], [f"out/T{i:03d}.txt"]) for i in range(1, 65)]
    for parallel, bound in ((32, 6.0), (64, 3.0)):
        ratios = []
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as tmp:
                repo = make_repo(Path(tmp), 100, tasks_md(spec))
                r = run(repo, parallel, 3.0)
            ratios.append(r["makespan_s"] / bound)
            print(
                f"  -j{parallel}: makespan {r['makespan_s']:6.2f} s, bound {bound:.0f} s, "
                f"ratio {r['makespan_s'] / bound:.3f}, last agent started at "
                f"{r['last_agent_start_s']:.2f} s, specflow peak RSS {r['peak_rss_mb']:.0f} MB"
            )
        print(f"  -> -j{parallel}: median ratio {statistics.median(ratios):.3f}")


def bench_checks(runs: int) -> None:
    """Agents do not wait for checks: `--parallel` counts agents (engine/seats.py)."""
    print("## 16 independent 2 s tasks, 1 s sleeping test, --parallel 4")
    spec = [(f"T{i:03d}", [], [f"out/T{i:03d}.txt"]) for i in range(1, 17)]
    bound = 16 * 2.0 / 4 + 1.0  # the agents back to back, then the last check
    ratios = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            repo = make_repo(Path(tmp), 100, tasks_md(spec), test_command="sleep 1")
            r = run(repo, 4, 2.0)
        ratios.append(r["makespan_s"] / bound)
        print(
            f"  makespan {r['makespan_s']:6.2f} s, bound {bound:.0f} s, "
            f"ratio {r['makespan_s'] / bound:.3f}, verifies {r['verifies']:.0f} "
            f"(a seat held through its check: {16 * 3.0 / 4:.0f} s)"
        )
    print(f"  -> median ratio {statistics.median(ratios):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=("dag", "wide", "checks"))
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if args.only in (None, "dag"):
        bench_dag(args.runs)
    if args.only in (None, "checks"):
        bench_checks(args.runs)
    if args.only in (None, "wide"):
        bench_wide(args.runs)


if __name__ == "__main__":
    main()
