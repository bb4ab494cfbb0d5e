from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from specflow.workspace.git import IDENTITY, Git, GitError
from specflow.workspace.integration import checked_out_at, commit_file, ready_branch, resolve_base
from specflow.workspace.merge import MergeQueue
from specflow.workspace.pool import WorktreePool


def sh(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "repo"
    r.mkdir()
    sh(r, "init", "-q", "-b", "main")
    (r / "a.txt").write_text("a\n")
    (r / "b.txt").write_text("b\n")
    sh(r, "add", "-A")
    sh(r, "commit", "-qm", "init")
    return r


def ensure_branch(g: Git, ref: str) -> tuple[str, bool]:
    """The integration branch as a run makes it (from the checked-out branch)."""
    tip, created, _ = ready_branch(g, ref, g.cwd / ".specflow", *resolve_base(g, None))
    return tip, created


def test_git_error_carries_stderr(repo: Path) -> None:
    with pytest.raises(GitError) as err:
        Git(repo).run("checkout", "no-such-branch")
    assert "no-such-branch" in err.value.message


def test_integration_branch_and_user_checkout_untouched(repo: Path) -> None:
    (repo / "a.txt").write_text("user edit\n")  # a dirty checkout stays dirty, as it was
    g = Git(repo, IDENTITY)
    ref = "refs/heads/specflow/001-x"
    tip, created = ensure_branch(g, ref)
    assert created and tip == sh(repo, "rev-parse", "main")
    assert ensure_branch(g, ref) == (tip, False)
    new = commit_file(g, ref, "specs/001-x/runs/r.json", "{}\n", "record\n")
    assert sh(repo, "show", f"{new}:specs/001-x/runs/r.json") == "{}"
    assert sh(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert (repo / "a.txt").read_text() == "user edit\n"
    assert sh(repo, "status", "--porcelain") == "M a.txt"
    assert checked_out_at(g, "refs/heads/main") == [repo.resolve()]


def test_pool_reuses_and_resets_worktrees(repo: Path) -> None:
    g = Git(repo, IDENTITY)
    ref = "refs/heads/specflow/001-x"
    tip, _ = ensure_branch(g, ref)
    pool = WorktreePool(g, repo / ".specflow" / "worktrees" / "001-x", "001-x", 2)
    slot = pool.acquire()
    pool.prepare(slot, "T001", tip)
    assert slot.git.current_branch() == "specflow-task/001-x/T001"
    (slot.path / "junk.txt").write_text("x")
    (slot.path / "a.txt").write_text("changed")
    (slot.path / "ignored").mkdir()
    pool.release(slot)
    again = pool.acquire()
    assert again.path == slot.path  # reused, not a new worktree
    pool.prepare(again, "T002", tip)
    assert not (again.path / "junk.txt").exists() and not (again.path / "ignored").exists()
    assert (again.path / "a.txt").read_text() == "a\n"
    assert again.git.current_branch() == "specflow-task/001-x/T002"
    assert sh(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"


def test_merge_queue_rebases_and_reports_conflicts(repo: Path) -> None:
    g = Git(repo, IDENTITY)
    ref = "refs/heads/specflow/001-x"
    tip, _ = ensure_branch(g, ref)
    pool = WorktreePool(g, repo / ".specflow" / "worktrees" / "001-x", "001-x", 2)
    q = MergeQueue(g, ref)
    s1, s2 = pool.acquire(), pool.acquire()
    for slot, tid, text in ((s1, "T001", "one\n"), (s2, "T002", "two\n")):
        pool.prepare(slot, tid, tip)
        (slot.path / "a.txt").write_text(text)
        slot.git.run("commit", "-qam", tid)
    new = q.land(s1.git, tip, lambda: None)
    assert new is not None and q.tip() == new
    assert q.land(s2.git, tip, lambda: None) is None  # the tip moved: rebase first
    res = q.rebase(s2.git, tip, new)
    assert not res.ok and res.conflicts == ["a.txt"]
    assert not (s2.gitdir() / "rebase-merge").exists()  # type: ignore[operator]
    # a non-conflicting change rebases cleanly
    pool.prepare(s2, "T002", tip)
    (s2.path / "b.txt").write_text("bee\n")
    s2.git.run("commit", "-qam", "T002")
    assert q.rebase(s2.git, tip, new).ok
    assert q.land(s2.git, new, lambda: None) == s2.git.head()
    assert sh(repo, "show", f"{ref}:a.txt") == "one" and sh(repo, "show", f"{ref}:b.txt") == "bee"


def test_pool_warms_slots_ahead_and_keeps_them_across_runs(repo: Path) -> None:
    import threading

    g = Git(repo, IDENTITY)
    tip, _ = ensure_branch(g, "refs/heads/specflow/001-x")
    root = repo / ".specflow" / "worktrees" / "001-x"
    pool = WorktreePool(g, root, "001-x", 4)
    pool.warm(3, tip, workers=2).join()
    assert sorted(p.name for p in root.iterdir()) == ["slot-1", "slot-2", "slot-3"]
    got: list[int] = []
    lock = threading.Lock()

    def take() -> None:
        slot = pool.acquire()
        with lock:
            got.append(slot.index)
        assert slot.fresh and (slot.path / "a.txt").is_file()

    threads = [threading.Thread(target=take) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == [1, 2, 3]  # every task its own slot, each one already made
    fourth = pool.acquire()
    assert fourth.index == 4 and not fourth.path.exists()  # made by prepare, when used
    pool.prepare(fourth, "T004", tip)
    assert fourth.git.current_branch() == "specflow-task/001-x/T004"
    # the next run of the feature starts warm: existing slots are kept, a broken one remade
    marker = root / "slot-1" / ".git"
    before = marker.stat().st_mtime_ns
    (root / "slot-2" / ".git").write_text("gitdir: /nowhere\n")
    # a kept slot whose .git names another slot's real gitdir fails the tamper check too
    slot1_gitdir = marker.read_text().split(":", 1)[1].strip()
    (root / "slot-3" / ".git").write_text(f"gitdir: {slot1_gitdir}\n")
    again = WorktreePool(g, root, "001-x", 4)
    again.warm(3, tip).join()
    assert marker.stat().st_mtime_ns == before
    assert "/nowhere" not in (root / "slot-2" / ".git").read_text()
    assert slot1_gitdir not in (root / "slot-3" / ".git").read_text()
    assert again._usable(again._slot(3))
    # one record per slot: the broken slots' old records went with them
    assert len(list((repo / ".git" / "worktrees").iterdir())) == 4
    slot = again.acquire()
    again.prepare(slot, "T001", tip)
    assert slot.git.current_branch() == "specflow-task/001-x/T001"


def test_pool_writes_worktrees_git_itself_reads_as_its_own(repo: Path) -> None:
    """Slots are written without `worktree add` (one process, not three); git must see them
    exactly as its own: listed, clean, on their commit, removable and prunable; a folder named
    like another feature's slot does not share its record."""
    g = Git(repo, IDENTITY)
    tip, _ = ensure_branch(g, "refs/heads/specflow/001-x")
    (repo / "sub").mkdir()
    (repo / "sub" / "c.sh").write_text("#!/bin/sh\n")
    (repo / "sub" / "c.sh").chmod(0o755)
    (repo / "link").symlink_to("a.txt")
    sh(repo, "add", "-A")
    sh(repo, "commit", "-qm", "more")
    tip = sh(repo, "rev-parse", "HEAD")
    pools = [
        WorktreePool(g, repo / ".specflow" / "worktrees" / f, f, 2) for f in ("001-x", "002-y")
    ]
    for pool in pools:
        pool.warm(2, tip).join()
    assert pools[0]._own
    records = sorted(p.name for p in (repo / ".git" / "worktrees").iterdir())
    assert len(records) == 4 and all(r.startswith("slot-") for r in records)
    listed = sh(repo, "worktree", "list", "--porcelain")
    for pool in pools:
        for i in (1, 2):
            path = pool.root / f"slot-{i}"
            assert f"worktree {path}" in listed
            assert sh(path, "status", "--porcelain") == ""
            assert sh(path, "rev-parse", "HEAD") == tip
            assert (path / "sub" / "c.sh").stat().st_mode & 0o111
            assert (path / "link").is_symlink()
            assert not (
                repo
                / ".git"
                / "worktrees"
                / sh(path, "rev-parse", "--git-dir").rsplit("/", 1)[-1]
                / "locked"
            ).exists()
    slot = pools[0].acquire()
    pools[0].prepare(slot, "T001", tip)  # a fresh slot at the tip: branch made, no checkout
    assert slot.git.current_branch() == "specflow-task/001-x/T001"
    assert sh(slot.path, "symbolic-ref", "HEAD") == "refs/heads/specflow-task/001-x/T001"
    assert sh(slot.path, "rev-parse", "HEAD") == tip
    assert "specflow: branch" in sh(repo, "reflog", "show", "specflow-task/001-x/T001")
    assert sh(slot.path, "status", "--porcelain") == ""
    (slot.path / "a.txt").write_text("changed\n")
    assert sh(slot.path, "status", "--porcelain") == "M a.txt"
    sh(repo, "worktree", "remove", "--force", str(pools[1].root / "slot-1"))
    import shutil

    shutil.rmtree(pools[1].root / "slot-2")
    sh(repo, "worktree", "prune")
    assert len(list((repo / ".git" / "worktrees").iterdir())) == 2


def test_pool_leaves_sparse_and_per_worktree_config_repositories_to_worktree_add(
    repo: Path,
) -> None:
    g = Git(repo, IDENTITY)
    tip, _ = ensure_branch(g, "refs/heads/specflow/001-x")
    sh(repo, "config", "extensions.worktreeConfig", "true")
    pool = WorktreePool(g, repo / ".specflow" / "worktrees" / "001-x", "001-x", 1)
    pool.warm(1, tip).join()
    assert pool._own is False
    assert (repo / ".git" / "worktrees" / "slot-1").is_dir()  # git's own name: worktree add
    assert sh(pool.root / "slot-1", "status", "--porcelain") == ""


def test_tree_editor_replaces_one_file_without_an_index(repo: Path) -> None:
    from specflow.workspace.trees import TreeEditor

    (repo / "d" / "e").mkdir(parents=True)
    (repo / "d" / "e" / "f.md").write_text("- [ ] T001\n")
    (repo / "d" / "run.sh").write_text("#!/bin/sh\n")
    (repo / "d" / "run.sh").chmod(0o755)
    sh(repo, "add", "-A")
    sh(repo, "commit", "-qm", "more")
    g = Git(repo, IDENTITY)
    ed = TreeEditor(g)
    try:
        tree = ed.tree_of("HEAD")
        assert tree == sh(repo, "rev-parse", "HEAD^{tree}")
        assert ed.read_text(tree, "d/e/f.md") == "- [ ] T001\n"
        assert ed.read_text(tree, "d/none.md") is None
        new = ed.tree_with_file(tree, "d/e/f.md", "- [x] T001\n")
        newer = ed.tree_with_file(new, "x/y/z.txt", "z\n")  # folders made on the way
    finally:
        ed.close()
    listing = sh(repo, "ls-tree", "-r", newer)
    assert sh(repo, "cat-file", "blob", f"{newer}:d/e/f.md") == "- [x] T001"
    assert sh(repo, "cat-file", "blob", f"{newer}:x/y/z.txt") == "z"
    assert "100755 blob" in next(ln for ln in listing.splitlines() if ln.endswith("d/run.sh"))
    old = {ln.split("\t")[1] for ln in sh(repo, "ls-tree", "-r", "HEAD").splitlines()}
    assert old | {"x/y/z.txt"} == {ln.split("\t")[1] for ln in listing.splitlines()}
    assert sh(repo, "status", "--porcelain") == ""  # the checkout and its index untouched


def test_tree_editor_merges_trees_and_writes_commits_like_git(repo: Path) -> None:
    from specflow.workspace.trees import TreeEditor

    g = Git(repo, IDENTITY)
    base = sh(repo, "rev-parse", "HEAD")

    def commit_with(files: dict[str, str], parent: str) -> str:
        sh(repo, "checkout", "-q", "--detach", parent)
        for rel, text in files.items():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            (repo / rel).write_text(text)
        sh(repo, "add", "-A")
        sh(repo, "commit", "-qm", "c")
        return sh(repo, "rev-parse", "HEAD")

    ours = commit_with({"a.txt": "A\n", "d/x.txt": "x\n"}, base)
    theirs = commit_with({"d/y.txt": "y\n", "b.txt": "B\n"}, base)
    both = commit_with({"a.txt": "other\n"}, base)
    ed = TreeEditor(g)
    try:
        tb, to, tt = (ed.tree_of(c) for c in (base, ours, theirs))
        merged = ed.merge(tb, to, tt)
        assert merged is not None
        assert ed.merge(tb, to, ed.tree_of(both)) is None  # a.txt on both sides: git's turn
        via_git = g.merge_tree(ours, theirs)
        assert via_git is not None and via_git[0] == merged
        c = ed.commit(merged, ours, "Task\n\nSpecflow-Task: T001\n")
    finally:
        ed.close()
    assert (
        sh(repo, "rev-parse", f"{c}^") == ours and sh(repo, "rev-parse", f"{c}^{{tree}}") == merged
    )
    by_git = g.commit_tree(merged, ours, "Task\n\nSpecflow-Task: T001\n")
    fmt = "--format=%an <%ae>|%cn <%ce>|%B"
    assert sh(repo, "log", "-1", fmt, c) == sh(repo, "log", "-1", fmt, by_git)
    assert sh(repo, "log", "-1", "--format=%B", c) == "Task\n\nSpecflow-Task: T001"
    sh(repo, "fsck", "--no-dangling")


def test_a_worktree_that_cannot_be_written_leaves_nothing_behind(repo: Path) -> None:
    g = Git(repo, IDENTITY)
    pool = WorktreePool(g, repo / ".specflow" / "worktrees" / "001-x", "001-x", 1)
    slot = pool._slot(1)
    with pytest.raises(GitError):
        pool._create(slot, "0" * 40)  # no such commit
    assert pool._own and not slot.path.exists()
    assert not list((repo / ".git" / "worktrees").iterdir())
    pool._create(slot, sh(repo, "rev-parse", "HEAD"))  # and the slot can be made afterwards
    assert sh(slot.path, "status", "--porcelain") == ""
