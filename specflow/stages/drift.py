"""`specflow drift`: per requirement, has the code or the spec moved since it was implemented?

Built on `stages.coverage` (requirement -> tasks -> commits, from `covers:`, ids named in task
text and the Specflow-* commit trailers). For each requirement:

- code moved under the spec: commits after its task commits that change the files those commits
  touched, made without a task of this feature (no `Specflow-Feature: <feature>` trailer);
- spec moved over the code: its text hash (domain.identity) now differs from its hash in the
  spec.md committed with its tasks (read from git at the task commit).

Deterministic and model-free; git is asked a fixed number of times per feature.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from specflow.project import Feature, Project
from specflow.stages.coverage import CommitRef, feature_coverage

OK, CODE, SPEC, BOTH, UNIMPLEMENTED, UNKNOWN = (
    "ok",
    "code-moved",
    "spec-ahead",
    "both",
    "unimplemented",
    "spec-not-committed",
)


def opinions_dir(feature: Feature) -> Path:
    """`specs/<feature>/drift/`: one JSON record per `drift --explain` (the model's opinion,
    its model and usage), committed with the feature like run records: `specflow cost`
    counts them under the stage `drift`."""
    return feature.path / "drift"


@dataclass
class LaterCommit:
    sha: str
    subject: str
    files: list[str]
    branch: str = ""  # set for a commit on the user's branch not merged with the one read


@dataclass
class RequirementDrift:
    id: str
    text: str
    hash: str
    tasks: list[str]
    commits: list[str] = field(default_factory=list)  # the task commits that implemented it
    files: list[str] = field(default_factory=list)  # the files they touched
    implemented_hash: str | None = None  # its hash in the spec committed with the tasks
    later: list[LaterCommit] = field(default_factory=list)  # code moved under the spec
    spec_ahead: bool = False

    @property
    def status(self) -> str:
        if not self.commits:
            return UNIMPLEMENTED
        if self.implemented_hash is None and not self.later:
            return UNKNOWN
        if self.later and self.spec_ahead:
            return BOTH
        return CODE if self.later else SPEC if self.spec_ahead else OK

    @property
    def drifted(self) -> bool:
        return self.status in (CODE, SPEC, BOTH)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status}


@dataclass
class FeatureDrift:
    feature: str
    spec_path: str
    requirements: list[RequirementDrift]
    branch: str = "HEAD"  # the branch whose history was read
    unmerged: bool = False  # `branch` is the integration branch, not merged into HEAD yet
    head: str = "HEAD"  # the user's branch

    @property
    def drifted(self) -> list[RequirementDrift]:
        return [r for r in self.requirements if r.drifted]

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "spec": self.spec_path,
            "branch": self.branch,
            "unmerged": self.unmerged,
            "requirements": [r.to_dict() for r in self.requirements],
            "drifted": [r.id for r in self.drifted],
        }


def feature_drift(project: Project, feature: Feature) -> FeatureDrift:
    from specflow.artifacts import ArtifactStore, spec_requirement_hashes
    from specflow.stages.status import rel_path
    from specflow.workspace.git import Git

    fc = feature_coverage(project, feature)
    current = spec_requirement_hashes(ArtifactStore(project, feature).read("spec").body)
    git = Git(project.root)
    spec_rel = rel_path(project, feature.artifact("spec"))
    specs_rel = rel_path(project, project.specs_dir).rstrip("/") + "/"
    by_req: dict[str, list[CommitRef]] = {}
    for r in fc.requirements:
        seen: dict[str, CommitRef] = {}
        for t in r.tasks:
            for c in t.commits:
                seen.setdefault(c.sha, c)
        by_req[r.id] = list(seen.values())
    all_commits = list(dict.fromkeys(c.sha for cs in by_req.values() for c in cs))
    fd = FeatureDrift(feature.name, spec_rel, [])
    read = _branch_to_read(git, feature.name, fd)
    touched = _files_of(git, all_commits, specs_rel)
    old_hashes = _spec_hashes_at(git, all_commits, spec_rel)
    later = _later_commits(git, all_commits, feature.name, specs_rel, read)
    aside = _head_only(git, read, feature.name, specs_rel) if fd.unmerged and all_commits else []
    for r in fc.requirements:
        shas = [c.sha for c in by_req[r.id]]
        files = sorted({f for s in shas for f in touched.get(s, [])})
        rd = RequirementDrift(r.id, r.text, current.get(r.id, ""), [t.id for t in r.tasks])
        rd.commits, rd.files = shas, files
        # the newest task commit whose spec is known says what was implemented
        known = [old_hashes[s] for s in shas if s in old_hashes]
        if known:
            rd.implemented_hash = known[0].get(r.id, "")
            rd.spec_ahead = rd.implemented_hash != rd.hash
        rd.later = _touching(later, set(shas), set(files))
        if shas:
            rd.later += _on_head(aside, set(files), fd.head)
        fd.requirements.append(rd)
    return fd


def _branch_to_read(git: Any, feature: str, fd: FeatureDrift) -> str:
    """HEAD, or the feature's integration branch while it is not merged into HEAD (its task
    commits are not on HEAD yet). Sets `fd.branch`, `fd.head` and `fd.unmerged`."""
    from specflow.workspace.pool import integration_branch

    fd.head = git.current_branch() or "HEAD"
    fd.branch = fd.head
    ref = f"refs/heads/{integration_branch(feature)}"
    tip = git.rev_parse(ref)
    head = git.rev_parse("HEAD")
    if tip is None or head is None or git.is_ancestor(tip, head):
        return "HEAD"
    fd.branch, fd.unmerged = integration_branch(feature), True
    return ref


# -- git, batched --------------------------------------------------------------------------


def _files_of(git: Any, shas: list[str], skip_prefix: str) -> dict[str, list[str]]:
    """Files each commit changed (the feature's own artifacts left out). One git call."""
    if not shas:
        return {}
    text = git.out(
        "log", "--no-walk=unsorted", "--no-renames", "--name-only", "--format=%x1e%H", *shas
    )
    out: dict[str, list[str]] = {}
    for record in text.split("\x1e"):
        lines = [ln for ln in record.strip("\n").split("\n") if ln]
        if lines:
            out[lines[0]] = [f for f in lines[1:] if not f.startswith(skip_prefix)]
    return out


def _spec_hashes_at(git: Any, shas: list[str], spec_rel: str) -> dict[str, dict[str, str]]:
    """Per commit, the requirement hashes of spec.md as committed there (absent: not committed).
    One batch call for the blob ids, then one call per distinct spec version."""
    from specflow.artifacts import spec_requirement_hashes
    from specflow.formats.frontmatter import split_front_matter

    if not shas:
        return {}
    query = "".join(f"{s}:./{spec_rel}\n" for s in shas)
    lines = git.out("cat-file", "--batch-check=%(objectname) %(objecttype)", input=query)
    blobs: dict[str, str] = {}
    for sha, line in zip(shas, lines.splitlines()):
        oid, _, kind = line.partition(" ")
        if kind == "blob":
            blobs[sha] = oid
    hashes: dict[str, dict[str, str]] = {}
    for oid in dict.fromkeys(blobs.values()):
        _, body = split_front_matter(git.out("cat-file", "blob", oid))
        hashes[oid] = spec_requirement_hashes(body)
    return {sha: hashes[oid] for sha, oid in blobs.items()}


@dataclass
class _Commit:
    sha: str
    parents: list[str]
    ours: bool  # made by a task of this feature
    subject: str
    files: list[str]


def _later_commits(
    git: Any, task_shas: list[str], feature: str, skip: str, tip: str = "HEAD"
) -> list[_Commit]:
    """The task commits and every commit on `tip` from their common ancestor on, oldest
    first: a commit between two task commits is after one of them. Two git calls."""
    from specflow.workspace.git import GitError

    if not task_shas:
        return []
    try:
        base = git.out("merge-base", "--octopus", *task_shas).split()
    except GitError:
        base = []
    stop = [f"{b}^@" for b in base] or [f"{s}^@" for s in task_shas]
    return _log(git, feature, skip, tip, "--not", *stop)


def _head_only(git: Any, read: str, feature: str, skip: str) -> list[_Commit]:
    """Commits on HEAD that the integration branch `read` has not got (the user's branch
    moved on while the tasks wait to be merged). One git call."""
    return _log(git, feature, skip, "HEAD", "--not", read)


def _on_head(aside: list[_Commit], files: set[str], head: str) -> list[LaterCommit]:
    out: list[LaterCommit] = []
    for c in aside:
        hit = sorted(files.intersection(c.files))
        if hit and not c.ours:
            out.append(LaterCommit(c.sha, c.subject, hit, head))
    return out


def _log(git: Any, feature: str, skip: str, *revs: str) -> list[_Commit]:
    """`git log` of `revs`, oldest first, with parents, feature trailers and files."""
    from specflow.workspace.git import TRAILER_FEATURE

    fmt = f"%x1e%H%x1f%P%x1f%(trailers:key={TRAILER_FEATURE},valueonly,separator=%x2C)%x1f%s"
    text = git.out(
        "log",
        "--topo-order",
        "--reverse",
        "--no-renames",
        "--name-only",
        f"--format={fmt}",
        *revs,
    )
    out: list[_Commit] = []
    for record in text.split("\x1e"):
        head, _, rest = record.partition("\n")
        parts = head.split("\x1f")
        if len(parts) != 4:
            continue
        sha, parents, feats, subject = parts
        files = [f for f in rest.split("\n") if f and not f.startswith(skip)]
        ours = feature in (v.strip() for v in feats.split(","))
        out.append(_Commit(sha, parents.split(), ours, subject, files))
    return out


def _touching(later: list[_Commit], tasks: set[str], files: set[str]) -> list[LaterCommit]:
    """Of `later` (oldest first), the commits none of `tasks` contains — made after them, or
    beside them and merged since (a branch's commits a catch-up merge brought in) — that
    change `files` and are not ours."""
    if not tasks or not files:
        return []
    index = {c.sha: c for c in later}
    seen: set[str] = set()
    stack = [t for t in tasks if t in index]
    while stack:  # the task commits and their ancestors within `later`
        sha = stack.pop()
        if sha not in seen:
            seen.add(sha)
            stack.extend(p for p in index[sha].parents if p in index)
    out: list[LaterCommit] = []
    for c in later:
        hit = sorted(files.intersection(c.files))
        if hit and not c.ours and c.sha not in seen:
            out.append(LaterCommit(c.sha, c.subject, hit))
    return out


# -- output --------------------------------------------------------------------------------


def render_text(fd: FeatureDrift) -> str:
    lines = [f"{fd.feature}: drift per requirement", f"read: {_read_note(fd)}"]
    for r in fd.requirements:
        lines.append(f"{r.id}  {r.status}")
        if r.commits:
            tasks = ", ".join(r.tasks)
            lines.append(f"  implemented by {tasks} in {', '.join(s[:10] for s in r.commits)}")
            if r.files:
                lines.append(f"  files: {', '.join(r.files)}")
        if r.spec_ahead:
            lines.append(
                f"  spec ahead of code: text hash {r.hash} now, "
                f"{r.implemented_hash or 'absent'} when its tasks were made"
            )
        for c in r.later:
            where = f" on {c.branch}" if c.branch else ""
            lines.append(
                f"  code moved{where}: {c.sha[:10]} {c.subject} ({', '.join(c.files)}) "
                "without a task of this feature"
            )
    n = len(fd.drifted)
    lines.append(f"{n} requirement(s) drifted" if n else "no drift")
    return "\n".join(lines)


def _read_note(fd: FeatureDrift) -> str:
    if fd.unmerged:
        return (
            f"{fd.branch} (the integration branch, not merged into {fd.head} yet; "
            f"{fd.head}'s own commits since are read too)"
        )
    return fd.branch


def drift_problems(project: Project, feature: Feature, fd: FeatureDrift) -> list[Any]:
    """Each drift finding as a `check` problem on the requirement's line of spec.md."""
    from specflow.stages.check import ERROR, Problem, line_of_id

    path = feature.artifact("spec")
    return [
        Problem(fd.spec_path, line_of_id(path, rid), message, "drift", ERROR)
        for rid, message in drift_messages(fd)
    ]


def drift_messages(fd: FeatureDrift) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for r in fd.drifted:
        if r.spec_ahead:
            out.append(
                (
                    r.id,
                    f"{r.id} is spec-ahead-of-code: its text changed after its tasks "
                    f"({', '.join(r.tasks)}) merged",
                )
            )
        for c in r.later:
            out.append(
                (
                    r.id,
                    f"{r.id}: code moved under the spec: {c.sha[:10]}"
                    + (f" on {c.branch}" if c.branch else "")
                    + f" changed {', '.join(c.files)} without a task of this feature",
                )
            )
    return out
