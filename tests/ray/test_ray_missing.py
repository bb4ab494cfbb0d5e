"""`--executor ray` without the extra installed, and executor options: exit 2, one clear line.

Runs whether or not `ray` is installed: a stub package that fails to import stands in for
"not installed".
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))

from engine_graphs import BASE_FILES, DAG12
from engine_helpers import ROOT, cli, git, make_repo


def _no_ray(tmp: Path) -> dict[str, str]:
    stub = tmp / "stub" / "ray"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text("raise ImportError('No module named ray')\n")
    return {"PYTHONPATH": f"{stub.parent}:{ROOT}"}


def test_executor_ray_without_ray_says_how_to_install(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, DAG12, BASE_FILES)
    p = cli(repo, "implement", "--executor", "ray", "--agent", "cmd:true", env=_no_ray(tmp_path))
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install" in lines[0] and "[ray]" in lines[0], p.stderr
    # nothing started: no run, the integration branch not created
    assert not (repo / ".specflow" / "runs").exists()
    assert git(repo, "branch", "--list", "specflow/*") == ""


def test_unknown_executor_is_a_usage_error(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, DAG12, BASE_FILES)
    p = cli(repo, "implement", "--executor", "slurm", "--agent", "cmd:true")
    assert p.returncode == 2 and "unknown executor 'slurm'" in p.stderr, p.stderr


def test_cluster_without_remote_is_a_usage_error(tmp_path: Path) -> None:
    """On a cluster the nodes cannot read this repository: `[ray] remote` is required."""
    import importlib.util

    if importlib.util.find_spec("ray") is None:  # the install hint comes first then
        return
    repo = make_repo(tmp_path, DAG12, BASE_FILES)
    p = cli(repo, "implement", "--executor", "ray", "--ray-address", "127.0.0.1:1", "-j", "1")
    assert p.returncode == 2 and "[ray] remote" in p.stderr, p.stderr


def test_ray_address_without_executor_ray_is_a_usage_error(tmp_path: Path) -> None:
    """Not ignored: the run would go local while the user meant the cluster."""
    repo = make_repo(tmp_path, DAG12, BASE_FILES)
    p = cli(repo, "implement", "--ray-address", "head:6379", "--agent", "cmd:true")
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2 and len(lines) == 1, p.stderr
    assert "--ray-address is for --executor ray" in lines[0], p.stderr
    assert git(repo, "branch", "--list", "specflow/*") == ""
