"""The JSON Schemas shipped in specflow/schemas/ are the models' (python -m specflow.schemas)."""

from __future__ import annotations

import json

import pytest

from specflow.schemas import HERE, NAMES, generate


@pytest.mark.parametrize("name", NAMES)
def test_shipped_schema_matches_the_model(name: str) -> None:
    shipped = json.loads((HERE / f"{name}.json").read_text(encoding="utf-8"))
    assert shipped == generate(name), "run 'python -m specflow.schemas'"
