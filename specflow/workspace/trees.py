"""Commits built from trees without any worktree or index: a cherry-pick by `merge-tree`, and a
tree with one file replaced by `mktree` along the file's path.

Neither reads the whole index or scans a work tree, so the cost follows the size of the change
(and of the folders on the file's path), not of the repository.
"""

from __future__ import annotations

from specflow.workspace.git import Git


def cherry_pick_tree(git: Git, onto: str, commit: str) -> tuple[str | None, list[str]] | None:
    """The tree of `commit` replayed onto `onto`: (tree, []) or (None, conflicted files).

    `commit` must be one commit whose parent is an ancestor of `onto` (a task commit on a
    commit of the integration branch): then the three-way merge's base is that parent and the
    merge is exactly a cherry-pick. None when this git has no `merge-tree --write-tree`."""
    return git.merge_tree(onto, commit)


def read_file(git: Git, commit: str, relpath: str) -> str | None:
    proc = git.run("cat-file", "blob", f"{commit}:{relpath}", check=False)
    return proc.stdout if proc.returncode == 0 else None


def tree_with_file(git: Git, tree: str, relpath: str, content: str) -> str:
    """`tree` with `relpath` set to `content` (a regular file; its mode kept if it exists)."""
    blob = git.out("hash-object", "-w", "--stdin", input=content)
    return _replace(git, tree, relpath.split("/"), blob)


def _replace(git: Git, tree: str | None, parts: list[str], blob: str) -> str:
    entries: dict[str, str] = {}  # name -> "mode type sha"
    if tree is not None:
        for entry in git.run("ls-tree", "-z", tree).stdout.split("\0"):
            if entry:
                meta, _, name = entry.partition("\t")
                entries[name] = meta
    name = parts[0]
    old = entries.get(name, "").split()
    if len(parts) == 1:
        mode = old[0] if len(old) == 3 and old[1] == "blob" else "100644"
        entries[name] = f"{mode} blob {blob}"
    else:
        sub = old[2] if len(old) == 3 and old[1] == "tree" else None
        entries[name] = f"040000 tree {_replace(git, sub, parts[1:], blob)}"
    listing = "".join(f"{meta}\t{n}\0" for n, meta in entries.items())
    return git.out("mktree", "-z", input=listing)
