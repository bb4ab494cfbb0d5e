"""Fixtures for the model layer: a local OpenAI-compatible stub and fast retry settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from specflow.config import LLMSection
from tests.support.stub_llm import StubLLM


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[StubLLM]:
    """A started StubLLM, with litellm's OpenAI env vars pointing at it."""
    for var in ("OPENAI_BASE_URL", "OPENAI_API_BASE", "OPENAI_API_KEY", "OPENAI_ORGANIZATION"):
        monkeypatch.delenv(var, raising=False)
    with StubLLM() as server:
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
        yield server


@pytest.fixture
def fast() -> LLMSection:
    """Retry settings that keep tests quick."""
    return LLMSection(max_retries=2, timeout_s=5, backoff_base_s=0.01, backoff_max_s=0.05)
