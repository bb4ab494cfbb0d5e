"""`specflow status` and `specflow check` on a project with many features.

    python benchmarks/status_many.py [--features 200] [--runs 5]

Builds the demo's generated feature (spec, plan and tasks with specflow front matter and
input hashes) once, copies it into N feature folders, then measures whole `specflow status
--json` and `specflow check` processes (median CPU time of --runs) and reports the time per
feature after subtracting the same command on a project with one feature (start-up cost).
`status` remembers task counts and open questions by content (.specflow/cache/summaries.json),
`check` its findings by everything they come from (.specflow/cache/check.json); the "no ...
cache" rows delete them before every run (a fresh CI clone). Target (issue 15): under 3 ms per feature.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

SPECFLOW = [sys.executable, "-m", "specflow"]


def build(root: Path, n: int) -> Path:
    demo = root / "demo"
    subprocess.run(
        [*SPECFLOW, "demo", "--dir", str(demo), "--no-implement"], capture_output=True, check=True
    )
    specs = demo / "specs"
    (source,) = [p for p in specs.iterdir() if p.is_dir()]
    project = root / f"p{n}"
    shutil.copytree(demo, project, ignore=shutil.ignore_patterns(".git", ".specflow"))
    shutil.rmtree(project / "specs" / source.name)
    for i in range(1, n + 1):
        slug = source.name.split("-", 1)[1]
        shutil.copytree(source, project / "specs" / f"{i:03d}-{slug}")
    return project


def timed(cmd: list[str], cwd: Path, runs: int, *, cold: bool = False) -> float:
    """Median CPU time (user + system) of the process: on a shared machine wall time measures
    the neighbours. `cold` drops the caches (status's summaries, check's findings) before
    each run."""
    caches = [cwd / ".specflow" / "cache" / n for n in ("summaries.json", "check.json")]
    subprocess.run(cmd, cwd=cwd, capture_output=True, check=False)  # warm the OS caches
    times = []
    for _ in range(runs):
        if cold:
            for cache in caches:
                cache.unlink(missing_ok=True)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(cmd, cwd=cwd, capture_output=True, check=False)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--features", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="specflow-status-") as tmp:
        root = Path(tmp)
        one = build(root, 1)
        many = build(root, args.features)
        res = subprocess.run(
            [*SPECFLOW, "status", "--json"], cwd=many, capture_output=True, text=True, check=False
        )
        data = json.loads(res.stdout)
        feats = data if isinstance(data, list) else data.get("features", data)
        assert len(feats) == args.features, f"status saw {len(feats)} features"
        out = {"features": args.features}
        runs = (
            ("status", ["status", "--json"], False),
            ("status (no summary cache)", ["status", "--json"], True),
            ("check", ["check"], False),
            ("check (no findings cache)", ["check"], True),
        )
        for name, cmd, cold in runs:
            base = timed([*SPECFLOW, *cmd], one, args.runs, cold=cold)
            total = timed([*SPECFLOW, *cmd], many, args.runs, cold=cold)
            per = (total - base) / (args.features - 1)
            out[name] = {
                "one_feature_s": round(base, 3),
                "total_s": round(total, 3),
                "per_feature_ms": round(per * 1000, 2),
            }
            print(
                f"{name:26} {args.features} features: {total:.2f} s CPU "
                f"(1 feature: {base:.2f} s) -> {per * 1000:.2f} ms per feature"
            )
        print(json.dumps(out))


if __name__ == "__main__":
    main()
