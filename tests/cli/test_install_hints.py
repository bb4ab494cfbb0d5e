"""The hints that tell users to add an extra (`ray`, `otel`) name the real distribution and
extras of pyproject.toml, and the command works for this installation (no release is on an
index: `pip install 'specflow-sdd[ray]'` would find nothing)."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from specflow.extras import DISTRIBUTION, EXTRAS, install_hint, requirement
from tests.engine.engine_graphs import BASE_FILES, DAG12
from tests.engine.engine_helpers import ROOT, cli, make_repo

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def test_names_are_pyprojects() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == DISTRIBUTION
    assert set(EXTRAS) <= set(project["optional-dependencies"])


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        (None, "'specflow-sdd[ray]'"),
        ({"url": "file:///src/spec%20flow", "dir_info": {"editable": True}},
         "-e '/src/spec flow[ray]'"),
        ({"url": "file:///src/specflow", "dir_info": {}}, "'/src/specflow[ray]'"),
        ({"url": "https://git.example/specflow", "vcs_info": {"vcs": "git", "commit_id": "abc"}},
         "'specflow-sdd[ray] @ git+https://git.example/specflow@abc'"),
        ({"url": "file:///tmp/specflow_sdd-0.1.0-py3-none-any.whl", "archive_info": {}},
         "'specflow-sdd[ray] @ file:///tmp/specflow_sdd-0.1.0-py3-none-any.whl'"),
    ],
)  # fmt: skip
def test_the_requirement_follows_how_specflow_was_installed(
    origin: dict | None, expected: str
) -> None:
    assert requirement("ray", origin) == expected


def _hidden(tmp: Path, *modules: str) -> dict[str, str]:
    """PYTHONPATH where importing each of `modules` fails, as when it is not installed."""
    for name in modules:
        stub = tmp / "stub" / name
        stub.mkdir(parents=True)
        (stub / "__init__.py").write_text(f"raise ImportError('No module named {name}')\n")
    return {"PYTHONPATH": f"{tmp / 'stub'}:{ROOT}"}


def test_the_ray_hint_installs_the_extra_here(tmp_path: Path) -> None:
    """One line with this interpreter's pip and this checkout; pip accepts it as it is (a dry
    run: it resolves the extra, and would warn if pyproject.toml did not provide it)."""
    repo = make_repo(tmp_path, DAG12, BASE_FILES)
    p = cli(
        repo, "implement", "--executor", "ray", "--agent", "cmd:true", env=_hidden(tmp_path, "ray")
    )
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2 and len(lines) == 1, p.stderr
    hint = install_hint("ray")
    assert hint in lines[0] and "[ray]" in hint, p.stderr
    argv = shlex.split(hint)
    assert argv[0] == sys.executable
    dry = subprocess.run(
        [*argv, "--dry-run", "--quiet", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert dry.returncode == 0, dry.stderr
    assert "does not provide the extra" not in dry.stderr, dry.stderr


def test_the_otel_hint_is_the_same_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    from specflow.errors import ConfigError
    from specflow.observe.otel import _otel

    monkeypatch.setitem(sys.modules, "opentelemetry", None)  # import fails: not installed
    with pytest.raises(ConfigError) as err:
        _otel()
    assert str(err.value.hint).startswith(install_hint("otel"))
