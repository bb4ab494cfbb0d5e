"""Commits built from trees without any worktree or index: a cherry-pick by `merge-tree`, and a
tree with one file replaced, built level by level along the file's path.

`TreeEditor` keeps three git processes open on the main repository (`cat-file --batch`,
`hash-object --stdin-paths`, `mktree --batch`), so replacing a file costs no process start and
no index: the work follows the folders on the file's path, not the size of the repository.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
from typing import IO

from specflow.workspace.git import _BASE_CONFIG, Git, GitError


def cherry_pick_tree(git: Git, onto: str, commit: str) -> tuple[str | None, list[str]] | None:
    """The tree of `commit` replayed onto `onto`: (tree, []) or (None, conflicted files).

    `commit` must be one commit whose parent is an ancestor of `onto` (a task commit on a
    commit of the integration branch): then the three-way merge's base is that parent and the
    merge is exactly a cherry-pick. None when this git has no `merge-tree --write-tree`."""
    return git.merge_tree(onto, commit)


class TreeEditor:
    """Reads objects and writes blobs and trees through long-lived git processes."""

    def __init__(self, git: Git) -> None:
        self.git = git
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()
        self._tmp = tempfile.mkdtemp(prefix="specflow-trees-")

    def _proc(self, *args: str) -> subprocess.Popen[bytes]:
        key = " ".join(args)
        proc = self._procs.get(key)
        if proc is None or proc.poll() is not None:
            env = None
            if self.git.env:
                env = {**os.environ, **self.git.env}
            proc = subprocess.Popen(
                ["git", *_BASE_CONFIG, *self.git.extra_config, *args],
                cwd=self.git.cwd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
            self._procs[key] = proc
        return proc

    def _ask(self, proc: subprocess.Popen[bytes], data: bytes) -> IO[bytes]:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(data)
        proc.stdin.flush()
        return proc.stdout

    def read(self, name: str) -> tuple[str, bytes] | None:
        """(object id, content) of `name` (e.g. `<tree>:path/to/file`), None when missing."""
        with self._lock:
            out = self._ask(self._proc("cat-file", "--batch"), name.encode() + b"\n")
            header = out.readline().split()
            if len(header) != 3:
                if not header:
                    raise GitError(["cat-file"], 1, "git cat-file --batch stopped")
                return None
            data = out.read(int(header[2]) + 1)[:-1]
            return header[0].decode(), data

    def read_text(self, tree: str, relpath: str) -> str | None:
        found = self.read(f"{tree}:{relpath}")
        return found[1].decode("utf-8") if found is not None else None

    def blob(self, content: str) -> str:
        path = os.path.join(self._tmp, "blob")
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write(content)
        with self._lock:
            out = self._ask(self._proc("hash-object", "-w", "--stdin-paths"), f"{path}\n".encode())
            return out.readline().decode().strip()

    def tree_with_file(self, tree: str, relpath: str, content: str) -> str:
        """`tree` with `relpath` set to `content` (a regular file; its mode kept if it exists)."""
        return self._replace(tree, relpath.split("/"), self.blob(content))

    def _replace(self, tree: str | None, parts: list[str], blob: str) -> str:
        entries = self._entries(tree) if tree is not None else {}
        name = parts[0]
        old = entries.get(name)
        if len(parts) == 1:
            mode = old[0] if old is not None and old[0] not in ("40000", "160000") else "100644"
            entries[name] = (mode, blob)
        else:
            sub = old[1] if old is not None and old[0] == "40000" else None
            entries[name] = ("40000", self._replace(sub, parts[1:], blob))
        listing = b"".join(_line(mode, sha, n) for n, (mode, sha) in entries.items())
        with self._lock:
            out = self._ask(self._proc("mktree", "-z", "--batch"), listing + b"\0")
            return out.readline().decode().strip()

    def tree_of(self, commit: str) -> str:
        found = self.read(commit)
        if found is None or not found[1].startswith(b"tree "):
            raise GitError(["cat-file"], 1, f"no commit {commit}")
        return found[1][5 : found[1].index(b"\n")].decode()

    def _entries(self, tree: str) -> dict[str, tuple[str, str]]:
        found = self.read(tree)
        if found is None:
            raise GitError(["cat-file"], 1, f"no tree {tree}")
        oid, data = found
        width = len(oid) // 2
        out: dict[str, tuple[str, str]] = {}
        i = 0
        while i < len(data):
            space = data.index(b" ", i)
            nul = data.index(b"\0", space)
            name = data[space + 1 : nul].decode("utf-8", "surrogateescape")
            out[name] = (data[i:space].decode(), data[nul + 1 : nul + 1 + width].hex())
            i = nul + 1 + width
        return out

    def close(self) -> None:
        for proc in self._procs.values():
            if proc.stdin is not None:
                proc.stdin.close()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
        self._procs.clear()
        for name in os.listdir(self._tmp):
            os.unlink(os.path.join(self._tmp, name))
        os.rmdir(self._tmp)


def _line(mode: str, sha: str, name: str) -> bytes:
    """One `mktree -z` entry from a raw tree entry's mode."""
    kind = {"40000": "tree", "160000": "commit"}.get(mode, "blob")
    return (
        f"{mode.zfill(6)} {kind} {sha}\t".encode() + name.encode("utf-8", "surrogateescape") + b"\0"
    )
