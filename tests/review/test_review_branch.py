"""`specflow review FEATURE`: every requirement met, partly met or missing, with evidence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from review_helpers import REVIEWER, calls_log, trust_repo

from tests.conftest import run_cli
from tests.engine.engine_helpers import git
from tests.support.stub_llm import StubLLM

TASKS = "# Tasks\n\n- [ ] T001 Add\n  - files: calc.py\n  - covers: FR-001, FR-002\n"


def _branch(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "specflow/001-calc")
    (repo / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    git(repo, "commit", "-qam", "Add\n\nSpecflow-Task: T001\nSpecflow-Feature: 001-calc\n")
    git(repo, "checkout", "-q", "main")


def _req(rid: str, status: str, file: str = "calc.py", line: int = 2) -> dict[str, object]:
    evidence = [{"file": file, "line": line, "note": "add()"}] if status != "missing" else []
    return {"id": rid, "status": status, "explanation": f"{rid} {status}", "evidence": evidence}


def test_branch_review_reports_missing_requirements(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = trust_repo(tmp_path, TASKS, toml_extra=f'[models]\nreview = "{REVIEWER}"\n')
    _branch(repo)
    with StubLLM() as stub:
        for key, value in stub.env().items():  # in-process: litellm is imported once
            monkeypatch.setenv(key, value)
        # first answer forgets FR-002: one repair round names it
        stub.reply_json({"summary": "adds numbers", "requirements": [_req("FR-001", "met")]})
        stub.reply_json(
            {
                "summary": "adds numbers, no division",
                "requirements": [_req("FR-001", "met"), _req("FR-002", "missing")],
            }
        )
        p = run_cli(["review", "--json"], repo)
        assert p.code == 1, p.stderr
        out = json.loads(p.stdout)
        assert [(r["id"], r["status"]) for r in out["requirements"]] == [
            ("FR-001", "met"),
            ("FR-002", "missing"),
        ]
        assert out["requirements"][0]["evidence"][0] == {
            "file": "calc.py",
            "line": 2,
            "note": "add()",
        }
        assert out["counts"] == {"missing": 1, "partly_met": 0, "met": 1}
        first = stub.requests[0]["messages"][-1]["content"]
        assert "+    return a + b" in first and "FR-002: The calculator MUST refuse" in first
        assert "requirement FR-002 has no entry" in stub.requests[1]["messages"][-1]["content"]
        stub.reply_json(
            {
                "summary": "ok",
                "requirements": [_req("FR-001", "met"), _req("FR-002", "partly_met")],
            }
        )
        p = run_cli(["review", "001-calc", "--branch", "specflow/001-calc"], repo)
    assert p.code == 0, p.stderr
    assert "FR-002       partly_met  calc.py:2" in p.stdout
    assert "1 met, 1 partly met, 0 missing" in p.stdout
    assert [c["purpose"] for c in calls_log(repo)] == ["review/branch"] * 3


def test_branch_review_needs_the_branch(tmp_path: Path) -> None:
    repo = trust_repo(tmp_path, TASKS, toml_extra=f'[models]\nreview = "{REVIEWER}"\n')
    p = run_cli(["review"], repo)
    assert p.code == 2 and "no branch specflow/001-calc" in p.stderr
