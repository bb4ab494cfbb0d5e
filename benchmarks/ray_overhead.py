"""Per-task overhead of `implement --executor ray` versus the local executor, same graph.

    python benchmarks/ray_overhead.py [--tasks 20] [--files 100,5000]

Needs the ray extra. Starts a local Ray cluster (a head and one worker node on 127.0.0.1, two
`agent` slots each, one CPU each) and a bare git remote, then runs the same chain of tasks
(each depends on the previous one, so they run one at a time and the numbers are not blurred
by parallelism) with a trivial `cmd:` agent, once locally and once on the cluster.

Overhead per task = wall time from `task_started` to `task_merged` minus the agent's own time,
from the run's events (the first task is reported apart: it creates worktrees and clones). For
Ray it is split into: dispatch (task_started -> the node's agent_started: push of the base,
scheduling, worker start, fetch into the node's clone, worktree checkout) and return (the
node's agent_finished -> task_merged: commit on the node, push, fetch on the driver, checkout
in the driver slot, merge). The CLI's wall time includes connecting to the cluster.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "ray"))

from ray_cluster import LocalCluster, clean_env, short_tmp  # noqa: E402

PY = sys.executable
AGENT = "cmd:sh -c 'mkdir -p out && echo $SPECFLOW_TASK_ID > out/$SPECFLOW_TASK_ID.txt'"


def sh(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=b", "-c", "user.email=b@b", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def make_repo(root: Path, n_files: int, n_tasks: int) -> Path:
    repo = root / "repo"
    repo.mkdir(parents=True)
    sh(repo, "init", "-q", "-b", "main")
    for i in range(n_files):
        d = repo / "src" / f"d{i // 200:03d}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i:05d}.py").write_text(f"X = {i}\n")
    (repo / "specflow.toml").write_text(
        "[project]\nname = 'bench'\n[ray]\nremote = '../remote.git'\n"
    )
    (repo / ".gitignore").write_text(".specflow/\n")
    lines = ["# Tasks: bench", "", "## Phase 1: All", ""]
    for i in range(1, n_tasks + 1):
        lines.append(f"- [ ] T{i:03d} Task {i}")
        lines.append(f"  - depends: {f'T{i - 1:03d}' if i > 1 else 'none'}")
        lines.append(f"  - files: out/T{i:03d}.txt")
    feat = repo / "specs" / "001-bench"
    feat.mkdir(parents=True)
    (feat / "tasks.md").write_text("\n".join(lines) + "\n")
    sh(repo, "add", "-A")
    sh(repo, "commit", "-qm", "init")
    sh(root, "clone", "-q", "--bare", str(repo), str(root / "remote.git"))
    return repo


def run(repo: Path, env: dict[str, str], *args: str) -> float:
    env = {**clean_env(), **env, "PYTHONPATH": str(ROOT)}
    t = time.perf_counter()
    p = subprocess.run(
        [PY, "-m", "specflow", "implement", "-j", "1", "--agent", AGENT, *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
    )
    if p.returncode != 0:
        raise SystemExit(p.stderr)
    return time.perf_counter() - t


def measure(repo: Path) -> dict[str, float]:
    path = next(repo.glob(".specflow/runs/*/events.jsonl"))
    evs = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    start: dict[str, float] = {}
    agent_start: dict[str, float] = {}
    agent_end: dict[str, float] = {}
    agent_s: dict[str, float] = {}
    rows: list[tuple[float, float, float]] = []
    for e in evs:
        tid, t = str(e.get("task")), float(e["t"])
        if e["kind"] == "task_started":
            start[tid] = t
        elif e["kind"] == "agent_started":
            agent_start[tid] = t
        elif e["kind"] == "agent_finished":
            agent_s[tid] = agent_s.get(tid, 0.0) + float(e["seconds"])
            agent_end[tid] = t
        elif e["kind"] == "task_merged":
            total = t - start[tid] - agent_s.get(tid, 0.0)
            rows.append((total, agent_start[tid] - start[tid], t - agent_end[tid]))
    rest = rows[1:]
    return {
        "first_task_s": rows[0][0],
        "median_s": statistics.median(r[0] for r in rest),
        "p90_s": sorted(r[0] for r in rest)[int(len(rest) * 0.9) - 1],
        "dispatch_median_s": statistics.median(r[1] for r in rest),
        "return_median_s": statistics.median(r[2] for r in rest),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=20)
    ap.add_argument("--files", default="100,5000")
    args = ap.parse_args()
    cluster = LocalCluster(short_tmp())
    t = time.perf_counter()
    cluster.start(workers=1, agents=2)
    print(f"cluster (head + 1 worker, 2 agent slots each) up in {time.perf_counter() - t:.1f} s")
    try:
        fmt = "{:<8} {:>6} {:>9} {:>10} {:>9} {:>9} {:>10} {:>9} {:>8}"
        print(
            fmt.format(
                "executor", "files", "first s", "median ms", "p90 ms", "disp ms", "return ms",
                "wall s", "per task",
            )
        )  # fmt: skip
        for n_files in (int(x) for x in args.files.split(",")):
            for executor in ("local", "ray"):
                with tempfile.TemporaryDirectory() as tmp:
                    repo = make_repo(Path(tmp), n_files, args.tasks)
                    extra = ["--executor", "ray", "--ray-address", cluster.address]
                    if executor == "ray":  # the cluster's token and loopback settings
                        wall = run(repo, cluster.env, *extra)
                    else:
                        wall = run(repo, {})
                    m = measure(repo)
                    disp = m["dispatch_median_s"] * 1000 if executor == "ray" else 0.0
                    ret = m["return_median_s"] * 1000 if executor == "ray" else 0.0
                    print(
                        fmt.format(
                            executor, n_files, f"{m['first_task_s']:.2f}",
                            f"{m['median_s'] * 1000:.0f}", f"{m['p90_s'] * 1000:.0f}",
                            f"{disp:.0f}" if disp else "-", f"{ret:.0f}" if ret else "-",
                            f"{wall:.1f}", f"{wall / args.tasks:.2f}",
                        )
                    )  # fmt: skip
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
