"""Bad input: one line on stderr, exit 2, nothing written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, run_cli, snapshot

REPLAY = f"replay:{REPO_ROOT / 'examples' / 'unitconv' / 'recording.jsonl'}"


def one_line_error(res: object, code: int = 2) -> None:
    assert res.code == code, (res.stdout, res.stderr)  # type: ignore[attr-defined]
    lines = res.stderr.strip().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "content",
    [b"", b"   \n\n", b"\x00\x01\x02binary", b"\xff\xfe not utf8"],
    ids=["empty", "blank", "binary", "latin1"],
)
def test_bad_feature_file(project: Path, content: bytes) -> None:
    (project / "f.md").write_bytes(content)
    before = snapshot(project)
    one_line_error(run_cli(["specify", "f.md", "--model", REPLAY], project))
    assert snapshot(project) == before


def test_missing_feature_file(project: Path) -> None:
    one_line_error(run_cli(["specify", "nope.md", "--model", REPLAY], project))


def test_specify_from_stdin_and_description(project: Path, tmp_path: Path) -> None:
    # the demo's specify answer, recorded for this feature text (replay refuses other inputs)
    demo = Path(REPLAY.removeprefix("replay:")).read_text().splitlines()[0]
    entry = {**json.loads(demo), "inputs": {"feature.md": "# Units\n\nConvert units.\n"}}
    rec = tmp_path / "rec.jsonl"
    rec.write_text(json.dumps(entry) + "\n")
    res = run_cli(
        ["specify", "-", "--model", f"replay:{rec}"], project, stdin="# Units\n\nConvert units.\n"
    )
    assert res.code == 0, res.stderr
    assert (project / "specs" / "001-unit-conversions-command-line" / "feature.md").read_text() == (
        "# Units\n\nConvert units.\n"
    )


def test_no_model_configured(project: Path) -> None:
    (project / "f.md").write_text("# X\n\nSomething.\n")
    res = run_cli(["specify", "f.md"], project)
    one_line_error(res)
    assert "SPECFLOW_MODEL" in res.stderr


@pytest.mark.parametrize(
    "toml",
    ["[project\nname='x'", "[implement]\nparallel = 'four'\n", "[modles]\nplan='x'\n"],
    ids=["syntax", "type", "unknown-section"],
)
def test_bad_config(project: Path, toml: str) -> None:
    (project / "specflow.toml").write_text(toml)
    res = run_cli(["status"], project)
    one_line_error(res)
    assert "specflow.toml" in res.stderr


def test_not_a_project(tmp_path: Path) -> None:
    res = run_cli(["status"], tmp_path)
    one_line_error(res)
    assert "specflow init" in res.stderr


def _feature(project: Path, tasks: str) -> Path:
    feature = project / "specs" / "001-x"
    feature.mkdir(parents=True)
    (feature / "tasks.md").write_text(tasks)
    return feature


CYCLIC = """# Tasks: X

## Phase 1: Core

- [ ] T001 First in a.py
  - depends: T002
- [ ] T002 Second in b.py
  - depends: T001
"""
DUPLICATE = """# Tasks: X

## Phase 1: Core

- [ ] T001 First in a.py
- [ ] T001 Again in b.py
"""


@pytest.mark.parametrize(
    ("text", "needle", "line"), [(CYCLIC, "cycle", 5), (DUPLICATE, "duplicate", 6)]
)
def test_bad_task_graph(project: Path, text: str, needle: str, line: int) -> None:
    _feature(project, text)
    res = run_cli(["graph", "1"], project)
    one_line_error(res)
    assert needle in res.stderr and f":{line}:" in res.stderr
    res = run_cli(["check", "--format", "github"], project)
    assert res.code == 1
    assert f"::error file=specs/001-x/tasks.md,line={line}" in res.stdout


def test_broken_front_matter(project: Path) -> None:
    feature = _feature(project, "# Tasks: X\n\n## Phase 1\n\n- [ ] T001 A in a.py\n")
    (feature / "plan.md").write_text("---\nspecflow: [unclosed\n---\n# Implementation Plan: X\n")
    before = snapshot(project)
    assert run_cli(["plan", "1", "--model", REPLAY], project).code == 2
    res = run_cli(["check", "--format", "json"], project)
    assert res.code == 1
    problems = json.loads(res.stdout)["problems"]
    assert problems[0]["path"] == "specs/001-x/plan.md"
    assert snapshot(project) == before


def test_graph_formats_mark_critical_path(project: Path) -> None:
    _feature(
        project,
        "# Tasks: X\n\n## Phase 1: A\n\n- [ ] T001 Base in a.py\n"
        "- [ ] T002 [P] Left in b.py\n  - depends: T001\n"
        "- [ ] T003 [P] Right in c.py\n  - depends: T001\n"
        "- [ ] T004 After right in d.py\n  - depends: T003\n",
    )
    data = json.loads(run_cli(["graph", "1", "--format", "json"], project).stdout)
    assert data["critical_path"] == ["T001", "T003", "T004"]
    assert data["waves"] == [["T001"], ["T002", "T003"], ["T004"]]
    mer = run_cli(["graph", "1", "--format", "mermaid"], project).stdout
    assert "T001 ==> T003" in mer and "T001 --> T002" in mer
    dot = run_cli(["graph", "1", "--format", "dot"], project).stdout
    assert "T003 -> T004 [color=red" in dot
    one_line_error(run_cli(["graph", "1", "--format", "svg"], project))


def test_help_and_status_do_not_import_litellm(project: Path) -> None:
    code = (
        "import sys\nfrom specflow.cli.main import run\n"
        "try:\n    run(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "bad = [m for m in ('litellm', 'mcp', 'openai') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    for args in (["--help"], ["status"], ["status", "--json"], ["check"]):
        out = subprocess.run(
            [sys.executable, "-c", code, *args], cwd=project, capture_output=True, text=True
        )
        assert out.returncode == 0, (args, out.stderr)


def test_speckit_feature_in_place(project: Path) -> None:
    """A Spec Kit feature folder (no front matter, no covers:) works unconverted."""
    import shutil

    src = REPO_ROOT / "tests" / "fixtures" / "speckit"
    sample = next(p for p in sorted(src.iterdir()) if (p / "tasks.md").is_file())
    dest = project / "specs" / "001-imported"
    shutil.copytree(sample, dest)
    (project / "specs" / "constitution.md").unlink()
    memory = project / ".specify" / "memory"
    memory.mkdir(parents=True)
    (memory / "constitution.md").write_text("# Spec Kit constitution\n")
    from specflow.project import Project

    proj = Project.discover(project)
    assert proj is not None and proj.constitution_path == memory / "constitution.md"
    st = json.loads(run_cli(["status", "--json"], project).stdout)["features"][0]
    assert {a["kind"]: a["state"] for a in st["artifacts"]}["tasks"] == "hand-written"
    assert st["tasks_total"] > 0
    assert run_cli(["graph", "1", "--format", "json"], project).code == 0
    res = run_cli(["check"], project)
    assert res.code == 0, res.stdout
