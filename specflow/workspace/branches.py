"""What the features' integration branches hold that the user's checkout may not have yet.

After `implement`, the ticks in tasks.md and the run records (`specs/<f>/runs/*.json`) exist on
`specflow/<feature>` until the user merges it. `status`, `cost` and `export github` read them
from there so the checkout tells the truth before the merge.

One batched read for all features, whatever their number: `git for-each-ref` lists the
integration branches (and, a second time, the ones the checkout already contains), then one
`git cat-file --batch` reads every branch's tasks.md and runs folder, and one more reads the
run records the checkout lacks. Read-only and cheap: `status` calls this.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from specflow.workspace.git import _BASE_CONFIG

BRANCH_PREFIX = "specflow/"
_GIT = ("git", *_BASE_CONFIG)  # no hooks, no fsmonitor, no pager, no gc


@dataclass
class BranchState:
    """One feature's integration branch, as far as the checkout is concerned."""

    feature: str
    branch: str  # specflow/<feature>
    tip: str
    in_checkout: bool  # the checkout's HEAD contains the tip: nothing here is news
    tasks_text: str | None = None  # tasks.md on the branch
    record_names: list[str] = field(default_factory=list)  # runs/*.json on the branch
    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # read: name -> record

    def ticks(self) -> tuple[set[str], int] | None:
        """(ticked task ids, number of tasks) in the branch's tasks.md; None if it has none."""
        from specflow.workspace.tasks_merge import boxes

        if self.tasks_text is None:
            return None
        found = boxes(self.tasks_text)
        return {t for t, done in found.items() if done}, len(found)


@dataclass(frozen=True)
class FeatureRef:
    name: str  # 001-login
    path: Path  # the feature folder (absolute)
    local_records: frozenset[str] = frozenset()  # runs/*.json names the checkout has


def read_branches(
    root: Path, features: Iterable[FeatureRef], *, records: bool = False
) -> dict[str, BranchState]:
    """The integration branch of each feature that has one; with `records`, the run records
    on it that the checkout does not have, parsed. Outside git (or without git) it is empty."""
    feats = {f.name: f for f in features}
    if not feats:
        return {}
    listed = _git_text(root, "for-each-ref", "--format=%(objectname) %(refname)", _REFS)
    tips: dict[str, str] = {}
    for line in (listed or "").splitlines():
        sha, _, ref = line.partition(" ")
        name = ref.removeprefix("refs/heads/" + BRANCH_PREFIX)
        if name in feats:
            tips[name] = sha
    if not tips:
        return {}
    merged = _git_text(root, "for-each-ref", "--merged=HEAD", "--format=%(refname)", _REFS)
    inside = {r.removeprefix("refs/heads/" + BRANCH_PREFIX) for r in (merged or "").split()}
    out = {
        n: BranchState(n, BRANCH_PREFIX + n, sha, n in inside) for n, sha in sorted(tips.items())
    }
    asks: list[str] = []
    for n, st in out.items():
        rel = _rel(root, feats[n].path)
        asks += [f"{st.tip}:{rel}tasks.md", f"{st.tip}:{rel}runs"]
    answers = _cat_file(root, asks)
    wanted: dict[str, tuple[str, str]] = {}  # blob -> (feature, record name)
    for i, (n, st) in enumerate(out.items()):
        tasks, runs = answers[2 * i], answers[2 * i + 1]
        if tasks is not None and tasks[0] == "blob":
            st.tasks_text = tasks[1].decode("utf-8", errors="replace")
        if runs is None or runs[0] != "tree":
            continue
        for entry, sha in _tree_entries(runs[1], len(st.tip) // 2):
            if entry.endswith(".json"):
                st.record_names.append(entry)
                if records and entry not in feats[n].local_records:
                    wanted[sha] = (n, entry)
    if wanted:
        blobs = list(wanted)
        for sha, got in zip(blobs, _cat_file(root, blobs), strict=True):
            if got is None or got[0] != "blob":
                continue
            n, entry = wanted[sha]
            try:
                data = json.loads(got[1].decode("utf-8"))
            except ValueError:
                continue
            if isinstance(data, dict):
                out[n].records[entry] = data
    return out


def current_branch(root: Path) -> str | None:
    name = (_git_text(root, "branch", "--show-current") or "").strip()
    return name or None


# -- internals ---------------------------------------------------------------------------

_REFS = "refs/heads/" + BRANCH_PREFIX


def _rel(root: Path, path: Path) -> str:
    """A path for `<rev>:<path>` relative to `root`, the folder git runs in (`./` form)."""
    try:
        rel = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        rel = path.as_posix()
    return "./" if rel in ("", ".") else f"./{rel}/"


def _git_text(root: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(
            [*_GIT, *args],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except OSError:
        return None
    return proc.stdout if proc.returncode == 0 else None


def _cat_file(root: Path, asks: Sequence[str]) -> list[tuple[str, bytes] | None]:
    """`git cat-file --batch` for every line of `asks`: (type, content) or None if missing."""
    if not asks:
        return []
    try:
        proc = subprocess.run(
            [*_GIT, "cat-file", "--batch"],
            cwd=root,
            input="".join(a + "\n" for a in asks).encode("utf-8"),
            capture_output=True,
            check=False,
        )
    except OSError:
        return [None] * len(asks)
    data = proc.stdout
    out: list[tuple[str, bytes] | None] = []
    pos = 0
    for _ in asks:
        end = data.find(b"\n", pos)
        if end < 0:
            out.append(None)
            continue
        header = data[pos:end].split()
        pos = end + 1
        if len(header) != 3 or not header[2].isdigit():  # "<ask> missing" / "ambiguous"
            out.append(None)
            continue
        size = int(header[2])
        out.append((header[1].decode(), data[pos : pos + size]))
        pos += size + 1  # the content, then a newline
    return out


def _tree_entries(raw: bytes, hash_len: int) -> list[tuple[str, str]]:
    """(name, object id) of a raw tree object: `<mode> <name>\\0<binary id>` repeated."""
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(raw):
        nul = raw.find(b"\0", pos)
        if nul < 0:
            break
        _mode, _, name = raw[pos:nul].partition(b" ")
        oid = raw[nul + 1 : nul + 1 + hash_len].hex()
        out.append((name.decode("utf-8", errors="replace"), oid))
        pos = nul + 1 + hash_len
    return out
