"""Files as users really have them: each bad one is a one-line error with exit 1 or 2, no
internal error, nothing half-written, and status/check never pass over what they cannot read.
All through the installed `specflow` command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.test_usage_errors import SPECFLOW, specflow
from tests.conftest import REPO_ROOT, snapshot

RECORDING = REPO_ROOT / "examples" / "unitconv" / "recording.jsonl"
FEATURE_TEXT = (REPO_ROOT / "examples" / "unitconv" / "feature.md").read_text(encoding="utf-8")
REPLAY = f"replay:{RECORDING}"
TASKS = "# Tasks: X\n\n## Phase 1: Core\n\n- [ ] T001 First in a.py\n- [ ] T002 Second in b.py\n"


def one_line(res: subprocess.CompletedProcess[str], *codes: int) -> str:
    assert res.returncode in (codes or (1, 2)), (res.returncode, res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("error: ") and "internal error" not in lines[0], lines[0]
    assert "Traceback" not in res.stdout + res.stderr
    return lines[0]


def _tasks(project: Path, data: bytes | str) -> Path:
    folder = project / "specs" / "001-x"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tasks.md"
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return path


BROKEN = {
    "latin1": (
        b"# Tasks: X\n\n## P\n\n- [ ] T001 Caf\xe9 in a.py\n",
        "tasks.md:5: not valid UTF-8",
    ),
    "binary": (b"\x7fELF\x02\x01\x01\x00\x00\x00", "tasks.md:1: looks like a binary file"),
    "unclosed-front-matter": (
        ("---\nspecflow: {artifact: tasks}\n" + TASKS).encode(),
        "tasks.md:1: front matter is not closed",
    ),
    "invalid-yaml": (
        ("---\nspecflow: [unclosed\n---\n" + TASKS).encode(),
        "invalid YAML front matter",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_unreadable_tasks_fail_every_command(project: Path, case: str) -> None:
    data, says = BROKEN[case]
    _tasks(project, data)
    before = snapshot(project)
    assert says in one_line(specflow(["status"], project), 1)
    assert says in one_line(specflow(["status", "--json"], project), 1)
    res = specflow(["check"], project)
    assert res.returncode == 1 and says in res.stdout, res.stdout
    assert says in one_line(specflow(["graph", "1"], project), 2)
    res = specflow(["implement", "1", "--dry-run"], project)
    assert says in one_line(res, 2)
    assert snapshot(project) == before
    assert (
        "specflow/001-x"
        not in subprocess.run(
            ["git", "branch", "--list"], cwd=project, capture_output=True, text=True
        ).stdout
    )


def test_tasks_symlink_out_of_the_repository(project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.md"
    outside.write_text(TASKS)
    link = project / "specs" / "001-x" / "tasks.md"
    link.parent.mkdir(parents=True)
    link.symlink_to(outside)
    line = one_line(specflow(["status"], project), 1)
    assert "specs/001-x/tasks.md: leads outside the project" in line
    res = specflow(["check"], project)
    assert res.returncode == 1 and "leads outside the project" in res.stdout


@pytest.mark.parametrize(
    ("specs_dir", "says"),
    [
        ("notes.txt", "is not a folder"),
        ("../outside", "is outside the project"),
        ("/tmp", "is outside the project"),
    ],
)
def test_bad_specs_dir(project: Path, specs_dir: str, says: str) -> None:
    (project / "notes.txt").write_text("a file\n")
    toml = project / "specflow.toml"
    text = toml.read_text()
    assert 'specs_dir = "specs"' in text
    toml.write_text(text.replace('specs_dir = "specs"', f'specs_dir = "{specs_dir}"'))
    (project / "f.md").write_text(FEATURE_TEXT)
    before = snapshot(project.parent)
    for args in (["status"], ["check"], ["specify", "f.md", "--model", REPLAY]):
        line = one_line(specflow(args, project), 2)
        assert says in line and "specs_dir" in line, line
    assert snapshot(project.parent) == before


def test_config_with_invalid_utf8(project: Path) -> None:
    toml = project / "specflow.toml"
    toml.write_bytes(toml.read_bytes() + b"\n# caf\xe9\n")
    line = one_line(specflow(["status"], project), 2)
    assert "specflow.toml:" in line and "not valid UTF-8" in line


def test_binary_replay_recording(project: Path) -> None:
    (project / "f.md").write_text(FEATURE_TEXT)
    (project / "rec.jsonl").write_bytes(b"\x00\x01\x02\x03")
    (project / "junk.jsonl").write_bytes(b"not json\nat all\n")
    before = snapshot(project)
    assert "looks like a binary file" in one_line(
        specflow(["specify", "f.md", "--model", "replay:rec.jsonl"], project), 2
    )
    assert "is not a recording" in one_line(
        specflow(["specify", "f.md", "--model", "replay:junk.jsonl"], project), 2
    )
    assert snapshot(project) == before


def test_init_given_a_file(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x\n")
    assert "is a file, not a folder" in one_line(specflow(["init", "afile"], tmp_path), 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def _read_only(folder: Path, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run specflow with `folder` read-only: chmod for a normal user; root ignores modes, so
    there a bubblewrap read-only bind mount does it."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            return specflow(args, cwd)
        finally:
            folder.chmod(0o755)
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        pytest.skip("running as root without bubblewrap: cannot make a folder read-only")
    probe = subprocess.run([bwrap, "--dev-bind", "/", "/", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("bubblewrap cannot create a namespace here")
    argv = [bwrap, "--dev-bind", "/", "/", "--ro-bind", str(folder), str(folder), SPECFLOW]
    return subprocess.run([*argv, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_read_only_specs(project: Path) -> None:
    (project / "f.md").write_text(FEATURE_TEXT)
    before = snapshot(project)
    res = _read_only(project / "specs", ["specify", "f.md", "--model", REPLAY], project)
    line = one_line(res, 2)
    assert "specs" in line and ("read-only" in line or "permission denied" in line), line
    assert snapshot(project) == before


def test_read_only_state_folder(project: Path) -> None:
    _tasks(project, TASKS)
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    subprocess.run(["git", "commit", "-qm", "tasks"], cwd=project, check=True)
    agent = "cmd:true"
    res = _read_only(project / ".specflow", ["implement", "1", "--agent", agent], project)
    line = one_line(res, 1, 2)
    assert ".specflow" in line, line


ENOSPC_RUN = """
import errno, os, sys
import specflow.fsutil as fsutil

def full(fd):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

fsutil.os.fsync = full
from specflow.cli.main import run
run(sys.argv[1:])
"""


def test_full_disk_during_specify(project: Path) -> None:
    (project / "f.md").write_text(FEATURE_TEXT)
    before = snapshot(project)
    res = subprocess.run(
        [sys.executable, "-c", ENOSPC_RUN, "specify", "f.md", "--model", REPLAY],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    line = one_line(res, 1)
    assert "no space left on device" in line and "feature.md" in line, line
    assert snapshot(project) == before
    assert not list((project / "specs").glob(".*.tmp"))


def _committed_tasks(project: Path) -> None:
    _tasks(project, TASKS)
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    subprocess.run(["git", "commit", "-qm", "tasks"], cwd=project, check=True)


def _branches(project: Path) -> list[str]:
    out = subprocess.run(
        ["git", "branch", "--format=%(refname:short)"], cwd=project, capture_output=True, text=True
    )
    return sorted(out.stdout.split())


@pytest.mark.parametrize("name", ["specflow", "specflow-task", "specflow-task/001-x"])
def test_user_branch_in_the_way(project: Path, name: str) -> None:
    _committed_tasks(project)
    subprocess.run(["git", "branch", name], cwd=project, check=True)
    before = _branches(project)
    line = one_line(specflow(["implement", "1", "--agent", "cmd:true"], project), 2)
    assert f"your branch '{name}' leaves no room" in line and "git branch -m" in line, line
    assert _branches(project) == before


@pytest.mark.parametrize(
    ("agent", "says"),
    [
        ("cmd:/nonexistent", "agent program '/nonexistent' does not exist"),
        ("cmd:no-such-program-xyz", "'no-such-program-xyz' is not on PATH"),
        ("cmd:python3 missing_agent.py", "agent script 'missing_agent.py' does not exist"),
        ("cmd:", "empty agent command"),
        ("nobody", "unknown agent 'nobody'"),
    ],
)
def test_agent_that_cannot_start_is_refused_before_any_branch(
    project: Path, agent: str, says: str
) -> None:
    _committed_tasks(project)
    before = _branches(project)
    line = one_line(specflow(["implement", "1", "--agent", agent], project), 2)
    assert says in line, line
    assert _branches(project) == before


def test_a_byte_order_mark_is_not_an_error(project: Path) -> None:
    toml = project / "specflow.toml"
    toml.write_bytes(b"\xef\xbb\xbf" + toml.read_bytes())
    _tasks(project, b"\xef\xbb\xbf" + TASKS.encode())
    res = specflow(["status"], project)
    assert res.returncode == 0, res.stderr
    assert "0/2 tasks done" in res.stdout


def test_features_named_any_way(project: Path) -> None:
    for name in ("feature-login", "SPEC-fabb6678", "ebook-list"):
        (project / "specs" / name).mkdir()
        (project / "specs" / name / ("spec.md" if name != "ebook-list" else "tasks.md")).write_text(
            "# Feature Specification: X\n" if name != "ebook-list" else TASKS
        )
    (project / "specs" / "notes").mkdir()  # no spec, plan or tasks: not a feature
    _tasks(project, TASKS)
    res = specflow(["status", "--json"], project)
    names = [f["feature"] for f in __import__("json").loads(res.stdout)["features"]]
    assert names == ["001-x", "SPEC-fabb6678", "ebook-list", "feature-login"]
    graph = specflow(["graph", "ebook", "-f", "json"], project)
    assert graph.returncode == 0 and '"T002"' in graph.stdout
    assert specflow(["check"], project).returncode == 0


def test_a_gate_that_sees_no_feature_fails(project: Path) -> None:
    (project / "specs" / "research").mkdir()
    (project / "specs" / "research" / "notes.md").write_text("# Notes\n")
    res = specflow(["check"], project)
    assert res.returncode == 1
    assert "specs/research: not a feature folder" in res.stdout


@pytest.mark.parametrize(("name", "folder"), [(".gitignore", True), ("specs", False)])
def test_init_refuses_before_writing_when_a_target_is_the_wrong_kind(
    tmp_path: Path, name: str, folder: bool
) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    target = tmp_path / name
    target.mkdir() if folder else target.write_text("x\n")
    line = one_line(specflow(["init"], tmp_path), 2)
    assert f"{name} is a {'folder' if folder else 'file'}" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([".git", name])


def test_import_refuses_a_binary_task_list(project: Path, tmp_path: Path) -> None:
    change = tmp_path / "src" / "openspec" / "changes" / "c"
    change.mkdir(parents=True)
    (change / "tasks.md").write_bytes(b"## 1. A\n\n- [ ] 1.1 x\x00\n")
    before = snapshot(project)
    line = one_line(specflow(["import", str(tmp_path / "src")], project), 2)
    assert "changes/c/tasks.md:3: looks like a binary file" in line
    assert snapshot(project) == before


def test_a_feature_folder_that_cannot_name_a_branch(project: Path) -> None:
    folder = project / "specs" / "my feature"
    folder.mkdir(parents=True)
    (folder / "tasks.md").write_text(TASKS)
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    subprocess.run(["git", "commit", "-qm", "tasks"], cwd=project, check=True)
    before = _branches(project)
    line = one_line(specflow(["implement", "my feature", "--agent", "cmd:true"], project), 2)
    assert "'specflow/my feature' cannot be a git branch name" in line
    assert _branches(project) == before
