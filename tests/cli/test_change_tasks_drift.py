"""Issue 16, the second half, through the installed `specflow`: `implement --change NAME` runs a
change's tasks on their own, and `drift` reads the integration branch while it is not merged.

Real git repositories, the installed console script, a real `cmd:` agent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_drift_changes import AGENT, _feature
from tests.conftest import GIT_ENV, git

SPECFLOW = str(Path(sys.executable).parent / "specflow")
BRANCH = "specflow/001-notes"


def sf(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPECFLOW_MODEL")}
    return subprocess.run(
        [SPECFLOW, *args], cwd=cwd, capture_output=True, text=True, env={**env, **GIT_ENV}
    )


def ok(res: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert res.returncode == 0, (res.stdout, res.stderr)
    return res


@pytest.fixture
def ran(project: Path) -> Path:
    """The notes feature implemented by a `cmd:` agent; the integration branch not merged."""
    _feature(project)
    agent = project.parent / "agent.py"
    agent.write_text(AGENT)
    ok(sf(project, "implement", "1", "--agent", f"cmd:{sys.executable} {agent}"))
    assert not (project / "T002.py").exists()  # the tasks are on specflow/001-notes only
    return project


def merged_tasks(project: Path) -> list[str]:
    out = git(project, "log", "--format=%(trailers:key=Specflow-Task,valueonly)", BRANCH)
    return sorted({line.strip() for line in out.splitlines() if line.strip()})


# -- implement --change ------------------------------------------------------------------------


def _apply(project: Path, name: str, *args: str, edit: tuple[str, str] | None = None) -> None:
    ok(sf(project, "change", "new", name, "1", *args))
    deltas = project / "specs" / "001-notes" / "changes" / name / "deltas.md"
    if edit:
        deltas.write_text(deltas.read_text().replace(*edit))
    ok(sf(project, "change", "apply", name, "1"))


TITLES_TASKS = """
## Phase 2: Titles

- [ ] T004 Notes get a title
  - covers: FR-001
- [ ] T005 Polish the wording of messages
"""

SEARCH_TASKS = """
## Phase 3: Search

- [ ] T006 Search notes by word
  - covers: FR-004
"""


def test_implement_change_runs_only_the_changes_tasks(ran: Path) -> None:
    project = ran
    git(project, "merge", "-q", "--no-edit", BRANCH)
    res = sf(project, "implement", "1", "--change", "titles")
    assert res.returncode == 2 and "has no change 'titles'" in res.stderr
    old, new = "add a note.", "add a note with a title."
    ok(sf(project, "change", "new", "titles", "1", "--modify", "FR-001"))
    res = sf(project, "implement", "1", "--change", "titles")
    assert res.returncode == 2
    assert "change titles is not applied yet" in res.stderr
    assert "specflow change apply titles 1" in res.stderr
    deltas = project / "specs" / "001-notes" / "changes" / "titles" / "deltas.md"
    deltas.write_text(deltas.read_text().replace(old, new))
    ok(sf(project, "change", "apply", "titles", "1"))
    res = ok(sf(project, "implement", "1", "--change", "titles"))  # tasks.md not updated yet
    assert "nothing to do: every task of change titles is merged (T001)" in res.stdout
    assert "run 'specflow plan 1' and 'specflow tasks 1'" in res.stdout
    # what `specflow plan` / `specflow tasks` would add after the change: written here by hand
    tasks = project / "specs" / "001-notes" / "tasks.md"
    tasks.write_text(tasks.read_text() + TITLES_TASKS)
    git(project, "commit", "-qam", "titles: spec and tasks")
    dry = ok(sf(project, "implement", "1", "--change", "titles", "--dry-run", "--json"))
    plan = json.loads(dry.stdout)
    assert plan["waves"] == [["T004"]]
    assert "T001" in plan["done"] and plan["skipped"] == ["T005"]
    agent = project.parent / "agent.py"
    ok(
        sf(
            project,
            "implement",
            "1",
            "--change",
            "titles",
            "--agent",
            f"cmd:{sys.executable} {agent}",
        )
    )
    assert merged_tasks(project) == ["T001", "T002", "T003", "T004"]  # not T005
    res = sf(project, "implement", "1", "--change", "titles", "--only", "T004")
    assert res.returncode == 2 and "--only and --change" in res.stderr


def test_a_change_task_needing_an_undone_task_outside_the_change_is_refused(ran: Path) -> None:
    project = ran
    git(project, "merge", "-q", "--no-edit", BRANCH)
    tasks = project / "specs" / "001-notes" / "tasks.md"
    tasks.write_text(tasks.read_text() + TITLES_TASKS)
    git(project, "commit", "-qam", "more tasks")
    added = "- **FR-004**: Users MUST be able to search notes.\n"
    _apply(project, "search", edit=("## ADDED Requirements\n", f"## ADDED Requirements\n\n{added}"))
    res = sf(project, "implement", "1", "--change", "search")
    assert res.returncode == 2
    assert "no task covers a requirement of change search (FR-004)" in res.stderr
    tasks.write_text(tasks.read_text() + SEARCH_TASKS)
    git(project, "commit", "-qam", "search")
    res = sf(project, "implement", "1", "--change", "search", "--dry-run")
    assert res.returncode == 2, res.stdout
    [line] = res.stderr.strip().splitlines()
    assert "T006 of change search needs T004, T005" in line
    assert "run it first: specflow implement 1 --only T004,T005" in line
    assert "Traceback" not in res.stderr


# -- drift before the integration branch is merged ---------------------------------------------


def _commit_on_branch(project: Path, branch: str, file: str, text: str, subject: str) -> None:
    """A hand commit on `branch` through a worktree of its own (HEAD stays where it is)."""
    tree = project.parent / "hand"
    git(project, "worktree", "add", "-q", str(tree), branch)
    (tree / file).write_text(text)
    git(tree, "commit", "-qam", subject)
    git(project, "worktree", "remove", str(tree))


def _drift(project: Path) -> dict[str, Any]:
    [feat] = json.loads(ok(sf(project, "drift", "1", "--json")).stdout)["features"]
    return feat


def test_drift_reads_the_unmerged_integration_branch_and_says_so(ran: Path) -> None:
    project = ran
    feat = _drift(project)
    assert (feat["branch"], feat["unmerged"]) == (BRANCH, True)
    reqs = {r["id"]: r for r in feat["requirements"]}
    assert {r["status"] for r in reqs.values()} == {"ok"}
    assert reqs["FR-002"]["files"] == ["T002.py"]
    text = ok(sf(project, "drift", "1")).stdout
    assert f"read: {BRANCH} (the integration branch, not merged into main yet" in text
    _commit_on_branch(project, BRANCH, "T002.py", "# by hand\n", "hand fix on the branch")
    (project / "T003.py").write_text("# made on main meanwhile\n")
    git(project, "add", "T003.py")
    git(project, "commit", "-qm", "main grows its own T003.py")
    reqs = {r["id"]: r for r in _drift(project)["requirements"]}
    assert reqs["FR-001"]["status"] == "ok"
    [hand] = reqs["FR-002"]["later"]
    assert (hand["subject"], hand["branch"]) == ("hand fix on the branch", "")
    [aside] = reqs["FR-003"]["later"]
    assert (aside["subject"], aside["branch"]) == ("main grows its own T003.py", "main")
    res = sf(project, "check", "--drift")
    assert res.returncode == 1
    assert "on main changed T003.py" in res.stdout and "FR-002: code moved" in res.stdout
    git(project, "merge", "-q", "--no-edit", "-X", "theirs", BRANCH)
    feat = _drift(project)
    assert (feat["branch"], feat["unmerged"]) == ("main", False)


# -- drift --explain ---------------------------------------------------------------------------

NO_MODEL = (
    "import sys\nfrom specflow.cli.main import run\n"
    "try:\n    run(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
    "bad = [m for m in ('litellm', 'openai', 'specflow.llm.opening') if m in sys.modules]\n"
    "assert not bad, bad\n"
)


def test_drift_explain_asks_a_model_and_labels_its_answer_an_opinion(ran: Path) -> None:
    from tests.support.schema_stub import by_schema
    from tests.support.stub_llm import StubLLM

    project = ran
    git(project, "merge", "-q", "--no-edit", BRANCH)
    (project / "T002.py").write_text("# deleting now only hides the note\n")
    git(project, "commit", "-qam", "hide instead of delete")
    for args in (["drift", "1"], ["drift", "1", "--json"], ["check", "--drift"]):
        res = subprocess.run(
            [sys.executable, "-c", NO_MODEL, *args], cwd=project, capture_output=True, text=True
        )
        assert "AssertionError" not in res.stderr, (args, res.stderr)
    res = sf(project, "drift", "1", "--model", "openai/stub")
    assert res.returncode == 2 and "go with --explain" in res.stderr
    opinion = {"judgements": [{"finding": 1, "verdict": "contradicts", "reason": "it hides"}]}
    with StubLLM(by_schema({"Opinion": opinion})) as server:
        env = {**os.environ, **GIT_ENV, **server.env()}
        run = [SPECFLOW, "drift", "1", "--explain", "--model", "openai/stub"]
        text = subprocess.run(run, cwd=project, capture_output=True, text=True, env=env)
        js = subprocess.run([*run, "--json"], cwd=project, capture_output=True, text=True, env=env)
        prompts = [r["messages"][1]["content"] for r in server.requests]
        # --max-cost refuses before asking when the last opinion already cost more
        dear = project / "specs" / "001-notes" / "drift" / "29991231T000000Z.json"
        dear.write_text(json.dumps({"usage": {"prompt_tokens": 9, "cost_usd": 1.0}}))
        os.utime(dear, (4102444800, 4102444800))
        capped = subprocess.run(
            [*run, "--max-cost", "0.5"], cwd=project, capture_output=True, text=True, env=env
        )
        assert capped.returncode == 1 and "its last generation cost $1.00" in capped.stderr
        assert len(server.requests) == 2
        dear.unlink()
    assert text.returncode == 0, text.stderr
    assert "model's opinion (openai/stub) — a model's opinion, not a check" in text.stdout
    sha = git(project, "rev-parse", "--short=10", "HEAD").strip()
    assert f"FR-002 {sha}: contradicts — it hides" in text.stdout
    assert len(prompts) == 2  # one call per feature with findings, per command
    assert "Requirement FR-002 now: Users MUST be able to delete a note." in prompts[0]
    assert "+# deleting now only hides the note" in prompts[0] and "FR-001" not in prompts[0]
    [feat] = json.loads(js.stdout)["features"]
    assert feat["explain"]["opinion_of"] == "openai/stub"
    assert feat["explain"]["findings"] == [
        {
            "id": "FR-002",
            "kind": "code-moved",
            "commit": sha,
            "verdict": "contradicts",
            "reason": "it hides",
        }
    ]
    assert set(feat["explain"]["usage"]) == {"prompt_tokens", "completion_tokens", "cost_usd"}
    calls = (project / ".specflow" / "logs" / "calls.jsonl").read_text().splitlines()
    assert [json.loads(c)["purpose"] for c in calls] == ["drift/explain", "drift/explain"]
    # each opinion is kept with its cost, and `specflow cost` counts it like any stage
    records = sorted((project / "specs" / "001-notes" / "drift").glob("*.json"))
    names = {r.relative_to(project).as_posix() for r in records}
    assert len(names) == 2 and feat["explain"]["record"] in names
    [first] = names - {feat["explain"]["record"]}
    assert f"kept in {first})" in text.stdout
    kept = json.loads(records[0].read_text())
    assert kept["kind"] == "drift-opinion" and kept["findings"][0]["verdict"] == "contradicts"
    cost = json.loads(ok(sf(project, "cost", "--json")).stdout)
    tokens = kept["usage"]["prompt_tokens"]
    assert tokens > 0 and cost["by_stage"]["drift"]["prompt_tokens"] == 2 * tokens
    assert cost["by_model"]["openai/stub"]["prompt_tokens"] == 2 * tokens


def test_a_hand_commit_between_two_runs_counts_for_the_earlier_tasks_only(ran: Path) -> None:
    project = ran
    git(project, "merge", "-q", "--no-edit", BRANCH)
    (project / "T001.py").write_text("# by hand, between two runs\n")
    git(project, "commit", "-qam", "hand edit between runs")
    tasks = project / "specs" / "001-notes" / "tasks.md"
    more = "\n## Phase 2: More\n\n- [ ] T004 Undo a delete\n  - covers: FR-002\n"
    tasks.write_text(tasks.read_text() + more)
    git(project, "commit", "-qam", "T004")
    agent = project.parent / "agent.py"
    ok(sf(project, "implement", "1", "--agent", f"cmd:{sys.executable} {agent}"))
    git(project, "merge", "-q", "--no-edit", BRANCH)
    reqs = {r["id"]: r for r in _drift(project)["requirements"]}
    # T004's commit comes after the hand edit (which git's `--not T004^` would hide); T001's
    # did not see it
    [hand] = reqs["FR-001"]["later"]
    assert hand["subject"] == "hand edit between runs"
    assert reqs["FR-002"]["status"] == reqs["FR-003"]["status"] == "ok"


# -- the whole loop: implement, change, the usual plan/tasks update, implement --change ---------

GRAMS = {
    "id": "T007",
    "title": "Grams and tonnes in unitconv/weight.py",
    "parallel": False,
    "story": "US2",
    "depends": ["T004"],
    "files": ["unitconv/weight.py"],
    "covers": ["FR-003"],
    "verify": None,
    "risk": "low",
}


def test_a_change_runs_on_its_own_after_the_real_plan_and_tasks_update(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import copy

    from tests.cli.test_user_branch_e2e import AGENT as FILE_AGENT
    from tests.support.stage_stub import FAST, SchemaStub
    from tests.support.stub_llm import StubLLM

    project = git_repo
    (tmp_path / "agent.py").write_text(FILE_AGENT)
    agent = f"cmd:{sys.executable} {tmp_path / 'agent.py'}"
    with StubLLM() as server:
        stub = SchemaStub(server)
        for key, value in server.env().items():  # sf() passes the environment on
            monkeypatch.setenv(key, value)
        ok(sf(project, "init"))
        cfg = project / "specflow.toml"
        cfg.write_text(cfg.read_text() + FAST)
        (project / "feature.md").write_text("# Unit converter\n\nConvert units.\n")
        for step in (["specify", "feature.md"], ["plan", "1"], ["tasks", "1"]):
            ok(sf(project, *step, "--model", "openai/stub"))
        git(project, "add", "-A")
        git(project, "commit", "-qm", "feature")
        ok(sf(project, "implement", "1", "--agent", agent, "--parallel", "3"))
        git(project, "merge", "-q", "--no-edit", "specflow/001-unit-conversions-command-line")
        calls = len(server.requests)
        ok(sf(project, "change", "new", "grams", "1", "--modify", "FR-003"))
        feature = next((project / "specs").glob("001-*"))
        deltas = feature / "changes" / "grams" / "deltas.md"
        text = deltas.read_text()
        old = next(ln for ln in text.splitlines() if ln.startswith("- **FR-003**"))
        deltas.write_text(text.replace(old, old.rstrip(".") + ", grams and tonnes."))
        ok(sf(project, "change", "apply", "grams", "1"))
        assert len(server.requests) == calls  # change new / apply ask no model
        tasks = copy.deepcopy(stub.answers["tasks"])
        tasks["phases"].append({"title": "Phase 4: Grams", "tasks": [GRAMS]})
        stub.answers["tasks"] = tasks
        for step in (["plan", "1"], ["tasks", "1"]):  # the usual update, one call each
            ok(sf(project, *step, "--model", "openai/stub"))
        assert len(server.requests) == calls + 2
    git(project, "add", "-A")
    git(project, "commit", "-qm", "grams: spec, plan, tasks")
    plan = json.loads(
        ok(sf(project, "implement", "1", "--change", "grams", "--dry-run", "--json")).stdout
    )
    assert plan["waves"] == [["T007"]]  # T004 (covers FR-003 too) is merged and stays so
    assert "T004" in plan["done"]
    ok(sf(project, "implement", "1", "--change", "grams", "--agent", agent))
    branch = "specflow/001-unit-conversions-command-line"
    out = git(project, "log", "--format=%(trailers:key=Specflow-Task,valueonly)", branch)
    assert sorted({ln.strip() for ln in out.splitlines() if ln.strip()}) == [
        "T001",
        "T002",
        "T003",
        "T004",
        "T005",
        "T006",
        "T007",
    ]
