"""What confinement costs: `specflow demo` and a 13-task DAG at --parallel 4, sandbox on vs off.

    python benchmarks/sandbox_overhead.py [--rounds N]

Both run the builtin agent on a `replay:` model (no network, no model latency), so the time is
specflow's own: git, the agents' commands and the checks — exactly where the sandbox adds its
launcher, bubblewrap and cgroups. Runs alternate on/off to share the machine's load; the
median of each is compared (target: on <= 1.10 x off).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
SPECFLOW = [PY, "-m", "specflow"]
# 13 tasks: one setup, four fan out, four join in pairs, three more, one final join.
DAG = {
    "T001": [],
    **{f"T00{i}": ["T001"] for i in range(2, 6)},
    "T006": ["T002", "T003"],
    "T007": ["T003", "T004"],
    "T008": ["T004", "T005"],
    "T009": ["T002", "T005"],
    "T010": ["T006"],
    "T011": ["T007", "T008"],
    "T012": ["T009"],
    "T013": ["T010", "T011", "T012"],
}


def _env(sandbox: bool) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    env["SPECFLOW_SANDBOX"] = "auto" if sandbox else "off"
    return env


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=b", "-c", "user.email=b@b", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def dag_repo(base: Path) -> Path:
    """The DAG's repository: each task writes a module, compiles it, and its verify imports it."""
    repo = base / "repo"
    repo.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    lines = []
    for tid in DAG:
        calls = [
            {
                "name": "write_file",
                "arguments": {"path": f"m_{tid}.py", "content": f"X = '{tid}'\n"},
            },
            {"name": "run", "arguments": {"command": [PY, "-m", "py_compile", f"m_{tid}.py"]}},
            {"name": "finish", "arguments": {"summary": "done"}},
        ]
        for i, c in enumerate(calls):
            response = {"content": None, "tool_calls": [{"id": f"c{i}", **c}]}
            lines.append(json.dumps({"purpose": f"implement/{tid}", "response": response}))
    recording = base / "model.jsonl"
    recording.write_text("\n".join(lines) + "\n")
    (repo / "specflow.toml").write_text(
        f'[project]\nname = "bench"\n[models]\nimplement = "replay:{recording}"\n'
    )
    (repo / ".gitignore").write_text(".specflow/\n__pycache__/\n")
    tasks = ["# Tasks", ""]
    for tid, deps in DAG.items():
        tasks += [f"- [ ] {tid} Module {tid}", f"  - depends: {', '.join(deps) or 'none'}"]
        tasks += [f"  - files: m_{tid}.py", f"  - verify: {PY} -c import\\ m_{tid}"]
    feat = repo / "specs" / "001-dag"
    feat.mkdir(parents=True)
    (feat / "tasks.md").write_text("\n".join(tasks) + "\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "init")
    return repo


def _timed(argv: list[str], cwd: Path, sandbox: bool, what: str) -> float:
    t0 = time.perf_counter()
    p = subprocess.run(argv, cwd=cwd, env=_env(sandbox), capture_output=True, text=True)
    took = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{what} failed (sandbox={sandbox}):\n{p.stderr[-2000:]}")
    return took


def time_dag(sandbox: bool) -> float:
    base = Path(tempfile.mkdtemp(prefix="sbx-dag-"))
    try:
        argv = [*SPECFLOW, "implement", "001-dag", "--agent", "builtin", "-j", "4"]
        return _timed(argv, dag_repo(base), sandbox, "DAG run")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def time_demo(sandbox: bool) -> float:
    base = Path(tempfile.mkdtemp(prefix="sbx-demo-"))
    try:
        return _timed([*SPECFLOW, "demo", "--dir", str(base / "demo")], base, sandbox, "demo")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    from specflow.sandbox import resolve

    print(f"confinement: {resolve().describe()}")
    for name, fn in (("demo", time_demo), ("13-task DAG, --parallel 4", time_dag)):
        on: list[float] = []
        off: list[float] = []
        for _ in range(args.rounds):
            off.append(fn(False))
            on.append(fn(True))
        m_on, m_off = statistics.median(on), statistics.median(off)
        print(
            f"{name}: off {m_off:.2f} s, on {m_on:.2f} s (median of {args.rounds}), "
            f"on/off = {m_on / m_off:.3f}"
        )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
