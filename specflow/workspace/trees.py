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
import time
from typing import IO

from specflow.workspace.git import _BASE_CONFIG, Git, GitError

REGULAR = ("100644", "100755")  # tree entry modes of regular files


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
        self._idents: tuple[str, ...] | None = None

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
        """The regular file `relpath` of `tree`, None when it is missing or not a regular file
        (a symlink an agent committed there is not followed, nor read as the file)."""
        *dirs, name = relpath.split("/")
        current = tree
        for part in dirs:
            entry = self._entries(current).get(part)
            if entry is None or entry[0] != "40000":
                return None
            current = entry[1]
        entry = self._entries(current).get(name)
        if entry is None or entry[0] not in REGULAR:
            return None
        found = self.read(entry[1])
        return found[1].decode("utf-8") if found is not None else None

    def blob(self, content: str) -> str:
        return self._write(content, "blob")

    def _write(self, content: str, kind: str) -> str:
        path = os.path.join(self._tmp, kind)
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write(content)
        with self._lock:
            proc = self._proc("hash-object", "-t", kind, "-w", "--stdin-paths")
            oid = self._ask(proc, f"{path}\n".encode()).readline().decode().strip()
        if not oid:
            raise GitError(["hash-object"], 1, f"git could not write a {kind}")
        return oid

    def tree_with_file(self, tree: str, relpath: str, content: str) -> str:
        """`tree` with `relpath` set to `content` (a regular file; its mode kept if it exists)."""
        return self._replace(tree, relpath.split("/"), self.blob(content))

    def _replace(self, tree: str | None, parts: list[str], blob: str) -> str:
        entries = self._entries(tree) if tree is not None else {}
        name = parts[0]
        old = entries.get(name)
        if len(parts) == 1:
            mode = old[0] if old is not None and old[0] in REGULAR else "100644"  # never a link
            entries[name] = (mode, blob)
        else:
            sub = old[1] if old is not None and old[0] == "40000" else None
            entries[name] = ("40000", self._replace(sub, parts[1:], blob))
        return self._mktree(entries)

    def _mktree(self, entries: dict[str, tuple[str, str]]) -> str:
        listing = b"".join(_line(mode, sha, n) for n, (mode, sha) in entries.items())
        with self._lock:
            out = self._ask(self._proc("mktree", "-z", "--batch"), listing + b"\0")
            oid = out.readline().decode().strip()
        if not oid:
            raise GitError(["mktree"], 1, "git mktree --batch stopped")
        return oid

    def merge(self, base: str, ours: str, theirs: str) -> str | None:
        """Three-way merge of trees where no path changed on both sides differently (then
        only trees are read and written): the merged tree, else None (content to merge: the
        caller asks `git merge-tree`)."""
        if theirs in (base, ours):
            return ours
        if ours == base:
            return theirs
        b, o, t = self._entries(base), self._entries(ours), self._entries(theirs)
        out = dict(o)
        for name in set(b) | set(o) | set(t):
            be, oe, te = b.get(name), o.get(name), t.get(name)
            if te == be or oe == te:
                continue  # theirs left it alone, or both made the same change
            if oe == be:
                if te is None:
                    out.pop(name, None)
                else:
                    out[name] = te
                continue
            if oe is None or te is None or {oe[0], te[0]} != {"40000"}:
                return None
            if be is None:  # a folder both sides made: merge them from nothing
                be = ("40000", self._mktree({}))
            if be[0] != "40000":
                return None
            sub = self.merge(be[1], oe[1], te[1])
            if sub is None:
                return None
            out[name] = ("40000", sub)
        return self._mktree(out)

    def commit(self, tree: str, parent: str, message: str) -> str:
        """`git commit-tree tree -p parent` without starting a process: the commit object is
        written by the long-lived `hash-object -t commit` (same identities as git's own)."""
        if self._idents is None:
            self._idents = tuple(
                self.git.out("var", v).rsplit(" ", 2)[0]
                for v in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT")
            )
        now = f"{int(time.time())} {time.strftime('%z')}"
        author, committer = (f"{who} {now}" for who in self._idents)
        text = f"tree {tree}\nparent {parent}\nauthor {author}\ncommitter {committer}\n\n{message}"
        return self._write(text, "commit")

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
