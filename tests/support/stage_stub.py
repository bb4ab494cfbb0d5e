"""A schema-aware model stub for the generation stages: StubLLM answering each stage (specify,
plan, tasks — read from the system prompt) with a valid object of that stage's schema.

The answers start as the bundled demo's (examples/unitconv/make_recording.py, exposed as
`DEMO`); a test changes `stub.answers[stage]` to steer one stage::

    with StubLLM() as server:
        stub = SchemaStub(server)
        stub.answers["plan"]["constitution_check"][0]["status"] = "fail"
        ...  # run the CLI with --model openai/stub and server.env()
        stub.prompts("plan")[-1]   # the user message of the last plan request
"""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path
from typing import Any

from tests.support.stub_llm import StubLLM, json_reply

_RECORDING = Path(__file__).resolve().parents[2] / "examples" / "unitconv" / "make_recording.py"
_spec = importlib.util.spec_from_file_location("specflow_demo_recording", _RECORDING)
assert _spec and _spec.loader
DEMO: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(DEMO)

STAGES = ("specify", "plan", "tasks")


def stage_of(body: dict[str, Any]) -> str:
    """Which generation stage a chat request is for (its system prompt names it)."""
    system = body["messages"][0]["content"]
    for stage in STAGES:
        if f"specflow's {stage} stage" in system:
            return stage
    raise AssertionError("not a generation stage's request")


class SchemaStub:
    def __init__(self, server: StubLLM) -> None:
        self.server = server
        self.answers: dict[str, Any] = {
            "specify": copy.deepcopy(DEMO.SPEC),
            "plan": copy.deepcopy(DEMO.PLAN),
            "tasks": copy.deepcopy(DEMO.TASKS),
        }
        server.default_reply = lambda body: json_reply(self.answers[stage_of(body)])

    def prompts(self, stage: str) -> list[str]:
        """The user messages sent for `stage`, in order."""
        return [r["messages"][1]["content"] for r in self.server.requests if stage_of(r) == stage]


# Quick retries and a short timeout: a stub answers at once or is meant to fail.
FAST = "\n[llm]\nmax_retries = 2\nbackoff_base_s = 0.01\nbackoff_max_s = 0.05\ntimeout_s = 2\n"


def stub_project(project: Path) -> Path:
    """An initialised project set up for the stub: fast retries, and the demo's feature.md."""
    cfg = project / "specflow.toml"
    cfg.write_text(cfg.read_text() + FAST)
    (project / "feature.md").write_text(DEMO.SPEC["summary"] + "\n")
    return project


def m(*args: str) -> list[str]:
    """CLI arguments with the stub as the model."""
    return [*args, "--model", "openai/stub"]
