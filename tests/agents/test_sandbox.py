"""The builtin agent's file tools never reach outside the worktree."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from specflow.agents.builtin.sandbox import PathRefused, Sandbox, ToolError
from specflow.agents.builtin.tools import Toolbox
from specflow.config import SandboxSection
from specflow.sandbox import resolve
from specflow.sandbox.core import landlock_abi


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    wt = tmp_path / "wt"
    (wt / "src").mkdir(parents=True)
    (wt / "src" / "a.py").write_text("x = 1\n")
    (wt / ".git").mkdir()
    (wt / ".git" / "config").write_text("[core]\n")
    (tmp_path / "outside.txt").write_text("secret\n")
    return wt


@pytest.fixture()
def box(root: Path) -> Toolbox:
    return Toolbox(Sandbox(root), environ={"PATH": os.environ.get("PATH", "")})


@pytest.mark.parametrize(
    "path",
    [
        "../outside.txt",
        "src/../../outside.txt",
        "/etc/passwd",
        "~/x",
        ".git/config",
        "src/../.git/HEAD",
        "",
        "a\x00b",
    ],
)
def test_resolve_refuses_escapes(root: Path, path: str) -> None:
    with pytest.raises(PathRefused):
        Sandbox(root).resolve(path)


def test_resolve_accepts_paths_inside(root: Path) -> None:
    sb = Sandbox(root)
    real_root = Path(os.path.realpath(root))
    assert sb.resolve("src/a.py") == real_root / "src" / "a.py"
    assert sb.resolve(str(root / "src" / "a.py")) == real_root / "src" / "a.py"  # absolute inside
    assert sb.resolve("./src/../src/new/b.py") == real_root / "src" / "new" / "b.py"
    assert sb.resolve(".") == real_root


def test_symlink_inside_the_worktree_is_followed(root: Path, box: Toolbox) -> None:
    (root / "link").symlink_to("src")
    res = box.call("read_file", {"path": "link/a.py"})
    assert res.ok and "x = 1" in res.content


@pytest.mark.parametrize("target", ["/etc", "../", "../outside.txt"])
def test_pre_existing_symlink_pointing_out_is_refused(
    root: Path, box: Toolbox, target: str
) -> None:
    (root / "out").symlink_to(target)
    for tool, args in [
        ("read_file", {"path": "out/passwd"}),
        ("read_file", {"path": "out"}),
        ("write_file", {"path": "out/x", "content": "pwned"}),
        ("write_file", {"path": "out", "content": "pwned"}),
        ("edit_file", {"path": "out", "old": "secret", "new": "pwned"}),
        ("list_files", {"path": "out"}),
        ("grep", {"pattern": "root", "path": "out"}),
    ]:
        res = box.call(tool, args)
        assert not res.ok, (tool, args, res.content)
        assert "outside the worktree" in res.content
    assert (root.parent / "outside.txt").read_text() == "secret\n"
    assert not (root.parent / "x").exists()


def test_symlink_created_by_the_agents_own_command_is_refused(root: Path, box: Toolbox) -> None:
    made = box.call("run", {"command": ["ln", "-s", "/etc", "out"]})
    assert made.ok, made.content
    assert not box.call("read_file", {"path": "out/passwd"}).ok
    res = box.call("write_file", {"path": "out/x", "content": "pwned"})
    assert not res.ok and "outside the worktree" in res.content
    assert not Path("/etc/x").exists()
    # and a link to a file outside, then written through
    box.call("run", {"command": ["ln", "-s", str(root.parent / "outside.txt"), "o.txt"]})
    assert not box.call("write_file", {"path": "o.txt", "content": "pwned"}).ok
    assert not box.call("edit_file", {"path": "o.txt", "old": "secret", "new": "pwned"}).ok
    assert (root.parent / "outside.txt").read_text() == "secret\n"


def test_grep_and_list_skip_links_out_and_git(root: Path, box: Toolbox) -> None:
    (root / "out").symlink_to(root.parent)
    (root / "o.txt").symlink_to(root.parent / "outside.txt")
    listing = box.call("list_files", {})
    assert listing.ok
    assert "src/a.py" in listing.content and ".git" not in listing.content
    assert "outside.txt" not in listing.content
    found = box.call("grep", {"pattern": "secret|core"})
    assert found.ok and found.content == "(no matches)"


def test_writes_never_follow_a_final_symlink(root: Path) -> None:
    """Even a path that passed the check is opened with O_NOFOLLOW: swap in a link afterwards."""
    sb = Sandbox(root)
    real = sb.resolve("src/b.py")
    (root / "src" / "b.py").symlink_to(root.parent / "outside.txt")
    with pytest.raises(PathRefused):
        sb.write_bytes(real, b"pwned")
    real_dir = sb.resolve("src/sub/c.py")
    (root / "src" / "sub").symlink_to(root.parent)
    with pytest.raises(PathRefused):
        sb.write_bytes(real_dir, b"pwned")
    assert (root.parent / "outside.txt").read_text() == "secret\n"
    assert not (root.parent / "c.py").exists()


def test_hard_link_to_an_outside_file_is_not_written(root: Path, box: Toolbox) -> None:
    os.link(root.parent / "outside.txt", root / "hard.txt")
    res = box.call("write_file", {"path": "hard.txt", "content": "pwned"})
    assert not res.ok and "hard links" in res.content
    assert (root.parent / "outside.txt").read_text() == "secret\n"


def test_write_creates_parents_inside(root: Path, box: Toolbox) -> None:
    res = box.call("write_file", {"path": "pkg/sub/mod.py", "content": "y = 2\n"})
    assert res.ok and "created pkg/sub/mod.py" in res.content
    assert (root / "pkg" / "sub" / "mod.py").read_text() == "y = 2\n"
    again = box.call("write_file", {"path": str(root / "pkg/sub/mod.py"), "content": "y = 3\n"})
    assert again.ok and "overwrote" in again.content


def test_a_fifo_does_not_block(root: Path, box: Toolbox) -> None:
    os.mkfifo(root / "pipe")
    assert not box.call("read_file", {"path": "pipe"}).ok
    assert not box.call("write_file", {"path": "pipe", "content": "x"}).ok


def test_worktree_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ToolError):
        Sandbox(tmp_path / "missing")


@pytest.mark.skipif(landlock_abi() < 2, reason="Linux Landlock (ABI 2+) not available")
def test_commands_cannot_write_outside_the_worktree(root: Path) -> None:
    landlock = resolve(SandboxSection(mode="landlock"))
    box = Toolbox(Sandbox(root), environ={"PATH": os.environ.get("PATH", "")}, confinement=landlock)
    for command in [
        ["touch", "../x"],
        ["sh", "-c", "echo pwned > ../outside.txt"],
        ["mkdir", "../d"],
        ["ln", "-s", "/etc", "../link"],
        ["mv", "src/a.py", "../moved.py"],
        [sys.executable, "-c", "open('../y', 'w')"],
    ]:
        res = box.call("run", {"command": command})
        assert not res.ok, (command, res.content)
    assert sorted(p.name for p in root.parent.iterdir()) == ["outside.txt", "wt"]
    assert (root.parent / "outside.txt").read_text() == "secret\n"
    inside = box.call(
        "run",
        {"command": ["sh", "-c", "echo ok > n.txt && mkdir -p d/e && mv n.txt d/e/ && rm -r d"]},
    )
    assert inside.ok, inside.content


def test_the_sandbox_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPECFLOW_SANDBOX", "off")
    conf = resolve()
    assert not conf.active and "unconfined" in conf.describe()
    with conf.jail(Path("/wt")) as jail:  # unconfined, only tracked (a pids cgroup, if any)
        argv = jail.wrap(["true"])
    assert argv[-1] == "true" and not any("bwrap" in a or "launch.py" in a for a in argv)


def test_a_symlink_into_git_internals_is_refused(root: Path, box: Toolbox) -> None:
    (root / "hooks").symlink_to(".git")
    res = box.call(
        "write_file", {"path": "hooks/config", "content": "[core]\n\thooksPath = /tmp\n"}
    )
    assert not res.ok and ".git is off limits" in res.content
    assert (root / ".git" / "config").read_text() == "[core]\n"
    assert not box.call("read_file", {"path": "hooks/config"}).ok


def test_absolute_paths_through_an_alias_of_the_worktree(root: Path, tmp_path: Path) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(root)
    sb = Sandbox(alias)
    assert sb.resolve(str(alias / "src" / "a.py")) == Path(os.path.realpath(root)) / "src" / "a.py"
    with pytest.raises(PathRefused):
        sb.resolve(str(alias / ".." / "outside.txt"))
