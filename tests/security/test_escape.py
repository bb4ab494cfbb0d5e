"""Escapes from the worktree, through the builtin agent's tools, run by `specflow implement`
on a `replay:` model: paths, symlinks, hard links, the user's repository and its hooks and
config, other processes' environments, the network, background processes. Every attempt is
refused or contained, and the agent's legitimate work still merges."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from specflow.sandbox.core import bwrap_works, landlock_abi
from tests.security.harness import (
    CUSTOM,
    KEY,
    alive,
    call,
    git,
    make_attack,
    outside_tmp_parent,
    record,
    remove,
    sh,
)

pytestmark = pytest.mark.skipif(
    bwrap_works() is not None and landlock_abi() < 2, reason="no confinement on this machine"
)


class Listener:
    """A TCP port on 127.0.0.1 that records whether anything connected."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.got: list[bytes] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    self.got.append(conn.recv(1000) or b"<connected>")
                except OSError:
                    self.got.append(b"<connected>")

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        self.sock.close()


@pytest.fixture()
def listener() -> Iterator[Listener]:
    lst = Listener()
    yield lst
    lst.close()


def escape_steps(tag: str, repo: Path, outside: Path, port: int) -> list[dict[str, object]]:
    m = f"PWNED-{tag}"
    dotgit = repo / ".git"
    hook = f"#!/bin/sh\\ntouch {outside}/{m}-hook\\n"
    return [
        # paths: ../ and absolute, through the file tools and through commands
        call("write_file", path=f"../../../../outside/{m}-rel", content="x"),
        call("write_file", path=f"{outside}/{m}-abs", content="x"),
        sh(
            f"echo x > {outside}/{m}-a; echo x > /tmp/{m}-b; echo x > /var/tmp/{m}-c; "
            f"echo x > $HOME/{m}-d; echo x > /dev/shm/{m}-e; echo x > {repo}/{m}-f; "
            f"echo x > ../../../../outside/{m}-g; true"
        ),
        # symlinks made by a command, then used by the tools and by commands
        sh(f"ln -s {outside} out; ln -s {dotgit} dotgit; echo x > out/{m}-h; true"),
        call("write_file", path=f"out/{m}-i", content="x"),
        call("write_file", path="dotgit/hooks/post-checkout", content=hook),
        # a hard link to a file outside, written through
        sh(f"ln {outside}/target.txt hard; echo {m} >> hard; true"),
        call("write_file", path="hard", content=m),
        # the user's repository: hooks, config, refs, index, the slot's own gitdir
        sh(
            f"mkdir -p {dotgit}/hooks; printf '{hook}' > {dotgit}/hooks/post-checkout; "
            f"chmod +x {dotgit}/hooks/post-checkout; "
            f"git -C {repo} config core.hooksPath /tmp; "
            f"git -C {repo} config core.fsmonitor 'touch {outside}/{m}-fsm'; "
            f"for d in {dotgit}/worktrees/*; do echo '[core]' >> $d/config.worktree; "
            f"echo 'fsmonitor = touch {outside}/{m}-wt' >> $d/config.worktree; done; "
            f"git -C {repo} update-ref refs/heads/main HEAD~0 2>/dev/null; "
            f"git -C {repo} branch -f main $(git -C {repo} rev-parse HEAD) ; "
            f"rm -f {repo}/.git/index; echo x > {repo}/README.md; true"
        ),
        # other processes' environments (specflow's keys) and the network
        sh("cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n' | sort -u; true"),
        sh(
            f"python3 -c \"import socket; s=socket.create_connection(('127.0.0.1', {port}), "
            f"timeout=2); s.sendall(b'{m}')\"; true"
        ),
        # a background process that would outlive the task and keep writing
        sh(
            f"setsid nohup sh -c 'while true; do date >> T001-bg.txt; "
            f"touch {outside}/{m}-bg; sleep 0.1; done' {m}-loop >/dev/null 2>&1 & sleep 0.5"
        ),
        # and the task's real work, which must still merge
        call("write_file", path="T001.txt", content="T001 done\n"),
    ]


BACKENDS = [
    pytest.param(
        "bwrap", marks=pytest.mark.skipif(bwrap_works() is not None, reason="no bubblewrap")
    ),
    pytest.param(
        "landlock", marks=pytest.mark.skipif(landlock_abi() < 4, reason="Landlock ABI < 4")
    ),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("where", ["tmp", "outside-tmp"])
def test_escapes_are_refused_or_contained(
    backend: str, where: str, tmp_path: Path, listener: Listener
) -> None:
    parent = tmp_path if where == "tmp" else outside_tmp_parent()
    toml = f'[sandbox]\nmode = "{backend}"\n'
    attack = make_attack(parent, {"T001": [], "T002": []}, deps={"T002": ["T001"]}, toml=toml)
    try:
        repo, outside = attack.repo, attack.outside
        # The user's own work in progress: a staged file, the branch where it was.
        (repo / "staged.txt").write_text("mine\n")
        git(repo, "add", "staged.txt")
        main_before = git(repo, "rev-parse", "main")
        hooks_before = sorted(p.name for p in (repo / ".git" / "hooks").iterdir())
        config_before = (repo / ".git" / "config").read_text()
        steps = escape_steps(attack.tag, repo, outside, listener.port)
        record(attack, {"T001": steps, "T002": [call("write_file", path="T002.txt", content="2")]})

        p = attack.implement("-j", "1", "--agent", "builtin")

        assert p.returncode == 0, p.stderr[-2000:]
        assert attack.merged() == ["T001", "T002"]
        assert attack.marker_hits() == []
        assert (outside / "target.txt").read_text() == "untouched\n"
        assert git(repo, "rev-parse", "main") == main_before
        assert git(repo, "diff", "--cached", "--name-only") == "staged.txt"
        assert (repo / "README.md").exists() is False  # never written in the user's checkout
        assert sorted(p.name for p in (repo / ".git" / "hooks").iterdir()) == hooks_before
        assert (repo / ".git" / "config").read_text() == config_before
        assert listener.got == []
        assert alive(f"PWNED-{attack.tag}-loop") == []
        assert attack.leaked() == []
        # The loop died with its command: the next task in the slot does not carry its edits.
        t2 = git(repo, "log", "-1", "--format=%H", "--grep=Specflow-Task: T002", "specflow/001-sec")
        assert "T001-bg.txt" not in git(repo, "show", "--name-only", "--format=", t2)
        started = [e for e in attack.events() if e["kind"] == "sandbox"]
        assert started and started[0]["backend"] == backend
        assert KEY not in p.stdout + p.stderr and CUSTOM not in p.stdout + p.stderr
    finally:
        remove(attack)


def test_committed_symlinks_lead_nowhere(tmp_path: Path) -> None:
    parent = outside_tmp_parent()  # the outside folder is visible (read-only) from the sandbox
    attack = make_attack(parent, {"T001": [], "T002": []}, deps={"T002": ["T001"]})
    try:
        out, m = attack.outside, f"PWNED-{attack.tag}"
        tasks = "specs/001-sec/tasks.md"
        steps = {
            # a link out, committed; and the task list made a link to a file outside
            "T001": [
                sh(f"ln -s {out} out && rm {tasks} && ln -s {out}/target.txt {tasks}"),
                call("write_file", path="T001.txt", content="1"),
            ],
            # the next task, in a fresh checkout of the branch, writes through them
            "T002": [
                call("write_file", path=f"out/{m}-a", content="x"),
                call("edit_file", path=tasks, old="untouched", new=m),
                sh(f"echo x > out/{m}-b; echo {m} >> {tasks}; true"),
                call("write_file", path="T002.txt", content="2"),
            ],
        }
        record(attack, steps)
        p = attack.implement("-j", "1", "--agent", "builtin")
        assert p.returncode == 0, p.stderr[-2000:]
        assert attack.merged() == ["T001", "T002"]
        assert attack.marker_hits() == []
        assert (out / "target.txt").read_text() == "untouched\n"
        # specflow's own tick did not follow the link: the branch's task list is a file again
        listing = git(attack.repo, "ls-tree", "specflow/001-sec", tasks)
        assert listing.startswith("100644"), listing
        shown = git(attack.repo, "show", f"specflow/001-sec:{tasks}")
        assert "[x] T001" in shown and "untouched" not in shown
    finally:
        remove(attack)
