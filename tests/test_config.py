from __future__ import annotations

from pathlib import Path

import pytest

from specflow.config import load_config, parse_config
from specflow.errors import ConfigError


def test_model_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = parse_config('[models]\ndefault = "d"\nplan = "p"\n', tmp_path / "specflow.toml")
    assert cfg.model_for("plan") == "p"
    assert cfg.model_for("tasks") == "d"
    monkeypatch.setenv("SPECFLOW_MODEL", "env")
    assert cfg.model_for("tasks") == "env"  # the variable beats the config default
    assert cfg.model_for("plan") == "p"  # per-stage routing beats the global variable
    monkeypatch.setenv("SPECFLOW_MODEL_PLAN", "env-plan")
    assert cfg.model_for("plan") == "env-plan"
    assert cfg.model_for("plan", "flag") == "flag"


def test_pyproject_section(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.specflow.implement]\nparallel = 8\n")
    assert load_config(tmp_path).implement.parallel == 8


def test_errors_name_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown setting 'implement.paralel'"):
        parse_config("[implement]\nparalel = 2\n", tmp_path / "specflow.toml")
    with pytest.raises(ConfigError, match="implement.parallel"):
        parse_config("[implement]\nparallel = 0\n", tmp_path / "specflow.toml")
