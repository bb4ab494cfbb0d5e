"""The builtin agent's tools: exact edits, bounded reads, and commands without a shell."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import pytest

from specflow.agents.builtin.runner import bounded, to_argv
from specflow.agents.builtin.sandbox import Sandbox, ToolError
from specflow.agents.builtin.tools import TOOL_NAMES, TOOLS, Toolbox


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    wt = tmp_path / "wt"
    wt.mkdir()
    (wt / "app.py").write_text("def f():\n    return 1\n\n\ndef g():\n    return 1\n")
    return wt


def make_box(root: Path, **env: str) -> Toolbox:
    return Toolbox(Sandbox(root), environ={"PATH": os.environ.get("PATH", ""), **env})


def test_schemas_are_openai_functions() -> None:
    assert {
        "list_files",
        "read_file",
        "write_file",
        "edit_file",
        "grep",
        "run",
        "finish",
    } == TOOL_NAMES
    for tool in TOOLS:
        assert tool["type"] == "function"
        assert tool["function"]["parameters"]["type"] == "object"


def test_edit_file_needs_exactly_one_match(root: Path) -> None:
    box = make_box(root)
    twice = box.call("edit_file", {"path": "app.py", "old": "return 1", "new": "return 2"})
    assert not twice.ok and "occurs 2 times" in twice.content and "exactly once" in twice.content
    missing = box.call("edit_file", {"path": "app.py", "old": "return 3", "new": "x"})
    assert not missing.ok and "not found" in missing.content
    indent = box.call("edit_file", {"path": "app.py", "old": "def g():\n  return 1", "new": "x"})
    assert not indent.ok and "not found" in indent.content
    once = box.call(
        "edit_file",
        {"path": "app.py", "old": "def g():\n    return 1", "new": "def g():\n    return 2"},
    )
    assert once.ok and "line 5" in once.content and once.changed
    assert (root / "app.py").read_text().endswith("def g():\n    return 2\n")
    assert (root / "app.py").read_text().startswith("def f():\n    return 1\n")
    empty = box.call("edit_file", {"path": "app.py", "old": "", "new": "x"})
    assert not empty.ok


def test_read_file_numbers_lines_and_bounds(root: Path) -> None:
    (root / "long.txt").write_text("".join(f"line {i}\n" for i in range(1, 2001)))
    box = make_box(root)
    whole = box.call("read_file", {"path": "app.py"})
    assert whole.ok and "1  def f():" in whole.content
    part = box.call("read_file", {"path": "long.txt", "start_line": 10, "end_line": 12})
    assert part.content.splitlines()[0].strip() == "10  line 10"
    assert "line 13" not in part.content
    long = box.call("read_file", {"path": "long.txt"})
    assert len(long.content) <= 13_000 and "not shown" in long.content
    assert not box.call("read_file", {"path": "nope.py"}).ok
    assert not box.call("read_file", {"path": "app.py", "start_line": "x"}).ok
    (root / "bin.dat").write_bytes(b"\x00\x01\x02")
    assert "binary" in box.call("read_file", {"path": "bin.dat"}).content


def test_list_and_grep(root: Path) -> None:
    (root / "pkg").mkdir()
    (root / "pkg" / "m.py").write_text("import os\nVALUE = 42\n")
    (root / "notes.md").write_text("nothing\n")
    box = make_box(root)
    assert box.call("list_files", {"pattern": "*.py"}).content.splitlines() == [
        "app.py",
        "pkg/m.py",
    ]
    assert (
        box.call("grep", {"pattern": r"VALUE\s*=", "path": "pkg"}).content
        == "pkg/m.py:2: VALUE = 42"
    )
    bad = box.call("grep", {"pattern": "("})
    assert not bad.ok and "regular expression" in bad.content


def test_bad_arguments_are_tool_errors(root: Path) -> None:
    box = make_box(root)
    assert "unknown tool" in box.call("rm_rf", {}).content
    assert "missing required argument 'content'" in box.call("write_file", {"path": "x"}).content
    assert "must be a string" in box.call("write_file", {"path": 3, "content": "x"}).content
    assert not box.call("run", {"command": []}).ok
    assert not box.call("run", {"command": [1, 2]}).ok
    assert "command not found" in box.call("run", {"command": ["no-such-binary-xyz"]}).content


def test_the_command_environment_is_an_allowlist() -> None:
    from specflow.sandbox.env import sandbox_env

    base = {
        "PATH": "/bin",
        "GIT_DIR": "/elsewhere",
        "X_TOKEN": "t",
        "DATABASE_URL": "postgres://app:hunter2hunter2@db/app",
        "HOME": "https://user:pw123456@example.invalid/",  # allowed name, credential value
        "LC_ALL": "C",
    }
    env = sandbox_env(base)
    assert env["PATH"] == "/bin" and env["LC_ALL"] == "C"
    for name in ("GIT_DIR", "X_TOKEN", "DATABASE_URL", "HOME"):
        assert name not in env, name
    assert sandbox_env(base, pass_env=["DATABASE_URL"])["DATABASE_URL"].endswith("@db/app")


def test_run_scrubs_secrets_from_the_environment(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FOO_API_KEY", "sk-live-123")
    monkeypatch.setenv("MY_SECRET", "hunter2")
    monkeypatch.setenv("HARMLESS_SETTING", "visible")
    box = Toolbox(Sandbox(root))  # the real process environment
    res = box.call("run", {"command": ["env"]})
    assert res.ok
    assert "HARMLESS_SETTING" not in res.content and "PATH=" in res.content
    assert "FOO_API_KEY" not in res.content and "sk-live-123" not in res.content
    assert "hunter2" not in res.content


def test_run_never_uses_a_shell(root: Path) -> None:
    box = make_box(root)
    title = "Add login; rm -rf app.py $(touch pwned) `touch pwned2` && touch pwned3"
    res = box.call("run", {"command": ["echo", title]})
    assert res.ok and "$(touch pwned)" in res.content
    as_string = box.call("run", {"command": f"echo {title}"})
    assert not as_string.ok and "no shell" in as_string.content  # `&&` would be a plain argument
    quoted = box.call(
        "run", {"command": "echo 'Add login; rm -rf app.py' $(touch pwned) `touch x`"}
    )
    assert quoted.ok and "$(touch pwned)" in quoted.content
    assert sorted(p.name for p in root.iterdir()) == ["app.py"]


def test_run_cwd_is_the_worktree_and_reports_exit_codes(root: Path) -> None:
    box = make_box(root)
    res = box.call("run", {"command": [sys.executable, "-c", "import os; print(os.getcwd())"]})
    assert res.ok and os.path.realpath(root) in res.content and "[exit code 0]" in res.content
    fail = box.call("run", {"command": [sys.executable, "-c", "import sys; sys.exit(3)"]})
    assert not fail.ok and "[exit code 3]" in fail.content


def test_run_timeout_kills_the_process_group(root: Path) -> None:
    box = make_box(root)
    script = (
        "import subprocess, sys, time;"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30); open(\"late\", \"w\")']);"
        "time.sleep(30)"
    )
    start = time.monotonic()
    res = box.call("run", {"command": [sys.executable, "-c", script], "timeout_s": 0.5})
    assert time.monotonic() - start < 5
    assert not res.ok and "timed out" in res.content


def test_run_stops_on_cancel(root: Path) -> None:
    cancel = threading.Event()
    box = Toolbox(Sandbox(root), cancel=cancel, environ={"PATH": os.environ.get("PATH", "")})
    threading.Timer(0.3, cancel.set).start()
    start = time.monotonic()
    res = box.call("run", {"command": ["sleep", "30"]})
    assert time.monotonic() - start < 5 and "cancelled" in res.content


def test_run_output_is_bounded_head_and_tail(root: Path) -> None:
    box = make_box(root)
    code = "print('FIRST'); print('x' * 100000); print('LAST')"
    res = box.call("run", {"command": [sys.executable, "-c", code]})
    assert res.ok and len(res.content) < 13_000
    assert "FIRST" in res.content and "LAST" in res.content and "omitted" in res.content


def test_helpers() -> None:
    assert to_argv("pytest -q 'a b'") == ["pytest", "-q", "a b"]
    with pytest.raises(ToolError):
        to_argv("echo 'unterminated")
    assert bounded("abc", 10) == "abc"
    cut = bounded("a" * 50 + "b" * 50, 20)
    assert cut.startswith("a" * 8) and cut.endswith("b" * 12)


def test_edit_file_keeps_crlf_and_undecodable_bytes(root: Path) -> None:
    (root / "win.txt").write_bytes(b"one\r\ntwo\r\nthree \xff\r\n")
    box = make_box(root)
    res = box.call("edit_file", {"path": "win.txt", "old": "one\ntwo", "new": "uno\ndos"})
    assert res.ok, res.content
    assert (root / "win.txt").read_bytes() == b"uno\r\ndos\r\nthree \xff\r\n"


def test_argument_coercion_and_hints(root: Path) -> None:
    box = make_box(root)
    assert (
        "before start_line"
        in box.call("read_file", {"path": "app.py", "start_line": 3, "end_line": 1}).content
    )
    assert "no cd" in box.call("run", {"command": ["cd", "sub"]}).content
    assert box.call("run", {"command": ["true"], "timeout_s": "5"}).ok
    assert "positive number" in box.call("run", {"command": ["true"], "timeout_s": -1}).content
    piped = box.call("run", {"command": "cat app.py | grep f"})
    assert not piped.ok and "|" in piped.content


def test_listing_skips_caches_and_virtualenvs(root: Path) -> None:
    for d in ["node_modules/x", ".venv/lib", "__pycache__"]:
        (root / d).mkdir(parents=True)
        (root / d / "f.py").write_text("f = 1\n")
    box = make_box(root)
    assert box.call("list_files", {}).content == "app.py"
    assert box.call("list_files", {"path": "node_modules"}).content == "node_modules/x/f.py"
