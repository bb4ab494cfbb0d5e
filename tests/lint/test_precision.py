"""The precision figure in docs/lint.md is what the linter does on the labelled corpus."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from specflow.lint.checks import lint_text
from specflow.lint.run import settings_for
from tests.conftest import REPO_ROOT

CORPUS = Path(__file__).parent / "corpus"


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location(
        "lint_precision", REPO_ROOT / "benchmarks" / "lint_precision.py"
    )
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("lint_precision", mod)  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def test_every_finding_is_labelled_and_the_docs_say_the_figure() -> None:
    p = _bench().measure(CORPUS, CORPUS / "labels.toml")
    assert p.unlabelled == [] and p.stale_labels == []
    assert p.requirements >= 70 and p.findings > 0
    docs = " ".join((REPO_ROOT / "docs" / "lint.md").read_text().split())
    assert f"{p.fp_per_100:.1f} false positives per 100 requirements" in docs
    assert f"{p.requirements} requirements" in docs


def test_findings_point_at_real_lines() -> None:
    for path in sorted(CORPUS.glob("*.md")):
        lines = path.read_text().splitlines()
        for f in lint_text(path.read_text(), path.name, settings_for(None)):
            assert 1 <= f.line <= len(lines)
            line = lines[f.line - 1]
            assert 1 <= f.column <= len(line)
            if f.end_column is not None:
                assert line[f.column - 1 : f.end_column - 1].lower() in f.message.lower()
