"""Fixtures for the CLI tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.stage_stub import SchemaStub
from tests.support.stub_llm import StubLLM


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The schema-aware model stub, with the environment pointing the model at it."""
    with StubLLM() as server:
        for k, v in server.env().items():
            monkeypatch.setenv(k, v)
        yield SchemaStub(server)
