from __future__ import annotations

import json
from pathlib import Path

import pytest

from specflow.runs.events import EventLog


def test_secrets_never_reach_the_event_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-0123456789abcdefghij")
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok_9f8e7d6c5b4a39281706")
    log = EventLog(tmp_path / "events.jsonl", fsync=False)
    seen: list[dict[str, object]] = []
    log.subscribe(seen.append)
    log.emit(
        "agent_step",
        task="T001",
        result="env: OPENAI_API_KEY=sk-live-0123456789abcdefghij x=tok_9f8e7d6c5b4a39281706",
        args={"header": "Bearer sk-ant-api03-abcdefghijklmnopqrstuvwxyz"},
    )
    log.close()
    text = (tmp_path / "events.jsonl").read_text()
    for secret in ("sk-live-0123456789abcdefghij", "tok_9f8e7d6c5b4a39281706", "sk-ant-api03"):
        assert secret not in text and secret not in json.dumps(seen)
    assert "[REDACTED]" in text
