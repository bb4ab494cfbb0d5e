"""Start-up time of `specflow --help` and `specflow status`, and what they import.

Run: `make bench` (or `.venv/bin/python benchmarks/startup.py [--runs N] [--speckit]`).
Measures wall time of whole processes (median of N) with bytecode caching on, as users run it.
`--speckit` also times GitHub Spec Kit's `specify --help` if `specify` is on PATH.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = ("litellm", "mcp", "openai", "httpx")


def timed(cmd: list[str], cwd: Path, env: dict[str, str], runs: int) -> list[float]:
    subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=False)  # warm the cache
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=False)
        out.append(time.perf_counter() - start)
    return out


def imported(args: list[str], cwd: Path, env: dict[str, str]) -> list[str]:
    code = (
        "import sys\nfrom specflow.cli.main import run\n"
        f"sys.argv=['specflow', *{args!r}]\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    lines = res.stderr.strip().splitlines()
    return [m for m in lines[-1].split(",") if m] if lines else []


def make_project(root: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "specflow", "init", str(root)], capture_output=True, check=True
    )
    feature = root / "specs" / "001-example"
    feature.mkdir(parents=True)
    (feature / "spec.md").write_text("# Feature Specification: Example\n\nA feature.\n")
    (feature / "tasks.md").write_text(
        "# Tasks: Example\n\n## Phase 1: Setup\n\n"
        + "".join(f"- [ ] T{i:03d} [P] Task {i} in src/m{i}.py\n" for i in range(1, 41))
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--speckit", action="store_true")
    args = ap.parse_args()
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    exe = str(Path(sys.executable).with_name("specflow"))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_project(root)
        rows = []
        for label, argv in (("specflow --help", ["--help"]), ("specflow status", ["status"])):
            times = timed([exe, *argv], root, env, args.runs)
            heavy = imported(argv, root, env)
            rows.append((label, statistics.median(times), min(times), heavy))
        if args.speckit and shutil.which("specify"):
            times = timed(["specify", "--help"], root, env, args.runs)
            rows.append(("spec-kit specify --help", statistics.median(times), min(times), []))
    print(f"{'command':28} {'median':>8} {'min':>8}  heavy modules imported")
    for label, med, low, heavy in rows:
        print(f"{label:28} {med:8.3f} {low:8.3f}  {', '.join(heavy) or 'none'}")
    bad = [r for r in rows if r[3]]
    if bad:
        sys.exit(f"FAIL: {', '.join(r[0] for r in bad)} imported heavy modules")


if __name__ == "__main__":
    main()
