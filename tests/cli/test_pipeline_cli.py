"""The specify -> plan -> tasks pipeline through the real CLI, against a real HTTP stub model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli, snapshot
from tests.support.stage_stub import DEMO as REC
from tests.support.stage_stub import m, stage_of, stub_project
from tests.support.stub_llm import StubLLM, json_reply

ANSWERS = {"specify": REC.SPEC, "plan": REC.PLAN, "tasks": REC.TASKS}


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Any:
    with StubLLM() as server:
        for k, v in server.env().items():
            monkeypatch.setenv(k, v)
        server.default_reply = lambda body: json_reply(ANSWERS[stage_of(body)])
        yield server


@pytest.fixture
def proj(project: Path) -> Path:
    return stub_project(project)


def test_pipeline_writes_valid_artifacts(proj: Path, stub: Any) -> None:
    res = run_cli(m("specify", "feature.md"), proj)
    assert res.code == 0, res.stderr
    feature = proj / "specs" / "001-unit-conversions-command-line"
    assert (feature / "feature.md").read_text() == (proj / "feature.md").read_text()
    for stage in ("plan", "tasks"):
        res = run_cli(m(stage), proj)
        assert res.code == 0, res.stderr
    status = json.loads(run_cli(["status", "--json"], proj).stdout)["features"][0]
    assert [(a["kind"], a["state"], a["version"]) for a in status["artifacts"]] == [
        ("spec", "fresh", 1),
        ("plan", "fresh", 1),
        ("tasks", "fresh", 1),
    ]
    assert status["tasks_total"] == 6
    # the request asked for structured output with the artifact's JSON Schema
    first = stub.requests[0]
    assert first["response_format"]["type"] == "json_schema"
    assert "stories" in json.dumps(first["response_format"])
    # provenance recorded
    text = (feature / "plan.md").read_text()
    assert "model: openai/stub" in text and "sha256:" in text
    assert run_cli(["check"], proj).code == 0
    # the plan prompt carries the constitution, the spec and the repository map
    plan_req = next(r for r in stub.requests if stage_of(r) == "plan")
    user = plan_req["messages"][1]["content"]
    assert "Project Constitution" in user and "FR-001" in user and "app.py: def hello" in user


def _through_plan(proj: Path) -> Path:
    assert run_cli(m("specify", "feature.md"), proj).code == 0
    assert run_cli(m("plan"), proj).code == 0
    return next((proj / "specs").glob("001-*"))


@pytest.mark.parametrize(
    "fault",
    ["429", "500", "timeout", "malformed"],
)
def test_transient_faults_are_retried_or_repaired(proj: Path, stub: Any, fault: str) -> None:
    _through_plan(proj)
    if fault == "429":
        stub.fail(429, retry_after=0)
    elif fault == "500":
        stub.fail(500)
    elif fault == "timeout":
        stub.hang(4)
    else:
        stub.reply_malformed_json()
    before = len(stub.requests)
    res = run_cli(m("tasks"), proj)
    assert res.code == 0, res.stderr
    assert len(stub.requests) - before == 2


@pytest.mark.parametrize("fault", ["500", "schema"])
def test_final_failure_is_one_line_and_changes_nothing(proj: Path, stub: Any, fault: str) -> None:
    feature = _through_plan(proj)
    assert run_cli(m("tasks"), proj).code == 0
    # make plan stale so that `plan` really regenerates
    spec = feature / "spec.md"
    spec.write_text(spec.read_text().replace("exactly and predictably", "exactly"))
    before = snapshot(proj)
    if fault == "500":
        stub.default_reply = None
        for _ in range(3):
            stub.fail(500)
    else:
        stub.default_reply = lambda body: json_reply({"title": 3})
    res = run_cli(m("plan", "--force"), proj)
    assert res.code == 1
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert res.stderr.startswith("error: ") and "Traceback" not in res.stderr
    assert snapshot(proj) == before


def test_stale_and_edited(proj: Path, stub: Any) -> None:
    feature = _through_plan(proj)
    assert run_cli(m("tasks"), proj).code == 0
    spec = feature / "spec.md"
    spec.write_text(spec.read_text().replace("exactly and predictably", "exactly"))
    st = json.loads(run_cli(["status", "--json"], proj).stdout)["features"][0]
    states = {a["kind"]: a["state"] for a in st["artifacts"]}
    assert states == {"spec": "edited", "plan": "stale", "tasks": "stale"}
    assert run_cli(["check"], proj).code == 1

    plan = feature / "plan.md"
    plan.write_text(plan.read_text() + "\nA note a person added.\n")
    st = json.loads(run_cli(["status", "--json"], proj).stdout)["features"][0]
    assert {a["kind"]: a["state"] for a in st["artifacts"]}["plan"] == "edited"
    before = snapshot(proj)
    res = run_cli(m("plan"), proj)
    assert res.code == 2 and "--force" in res.stderr
    assert snapshot(proj) == before

    # --force regenerates as an update of the edited version, keeping it in history
    n = len(stub.requests)
    res = run_cli(m("plan", "--force"), proj)
    assert res.code == 0, res.stderr
    assert "v1 -> v2" in res.stdout
    prompt = stub.requests[n]["messages"][1]["content"]
    assert "A note a person added." in prompt and "Previous version" in prompt
    assert (feature / ".history" / "plan.v1.md").read_text().endswith("A note a person added.\n")


def test_update_sends_input_diff(proj: Path, stub: Any) -> None:
    feature = _through_plan(proj)
    hist_spec = feature / "spec.md"
    # clarify is specflow's own edit: it versions the spec, so the plan goes stale (not edited)
    assert run_cli(["clarify", "1", "--answer", "Q1=Yes, case-insensitive"], proj).code == 0
    st = json.loads(run_cli(["status", "--json"], proj).stdout)["features"][0]
    assert {a["kind"]: a["state"] for a in st["artifacts"]} == {
        "spec": "fresh",
        "plan": "stale",
        "tasks": "missing",
    }
    assert "Yes, case-insensitive" in hist_spec.read_text()
    n = len(stub.requests)
    assert run_cli(m("plan"), proj).code == 0
    prompt = stub.requests[n]["messages"][1]["content"]
    assert "```diff" in prompt and "+- Q: should unit symbols be case-insensitive?" in prompt


def test_up_to_date_is_skipped(proj: Path, stub: Any) -> None:
    _through_plan(proj)
    n = len(stub.requests)
    res = run_cli(m("plan"), proj)
    assert res.code == 0 and "up to date" in res.stdout
    assert len(stub.requests) == n
