"""A specflow project on disk: its root, config, and feature folders."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from specflow.config import Config, find_project_root, load_config
from specflow.errors import InputError

SPECKIT_CONSTITUTION = ".specify/memory/constitution.md"
FEATURE_RE = re.compile(r"^(?P<num>\d{3,})-(?P<slug>[a-z0-9][a-z0-9-]*)$")


@dataclass(frozen=True)
class Feature:
    path: Path

    @property
    def name(self) -> str:
        """The folder name, e.g. `003-user-login`."""
        return self.path.name

    @property
    def number(self) -> int:
        m = FEATURE_RE.match(self.name)
        return int(m.group("num")) if m else 0

    @property
    def slug(self) -> str:
        m = FEATURE_RE.match(self.name)
        return m.group("slug") if m else self.name

    def artifact(self, kind: str) -> Path:
        return self.path / f"{kind}.md"

    @property
    def history_dir(self) -> Path:
        return self.path / ".history"

    @property
    def runs_dir(self) -> Path:
        return self.path / "runs"


@dataclass
class Project:
    root: Path
    config: Config

    @classmethod
    def discover(cls, start: Path) -> Project | None:
        root = find_project_root(start.resolve())
        if root is None:
            return None
        return cls(root=root, config=load_config(root))

    @property
    def specs_dir(self) -> Path:
        return self.root / self.config.project.specs_dir

    @property
    def state_dir(self) -> Path:
        """`.specflow/`: git-ignored runtime state (worktrees, run logs, caches)."""
        return self.root / ".specflow"

    @property
    def constitution_path(self) -> Path:
        """`specs/constitution.md`, else Spec Kit's `.specify/memory/constitution.md`, so a
        Spec Kit repository works in place."""
        own = self.specs_dir / "constitution.md"
        speckit = self.root / SPECKIT_CONSTITUTION
        return own if own.is_file() or not speckit.is_file() else speckit

    def features(self) -> list[Feature]:
        if not self.specs_dir.is_dir():
            return []
        found = [
            Feature(p)
            for p in self.specs_dir.iterdir()
            if p.is_dir() and FEATURE_RE.match(p.name) and not p.name.startswith(".")
        ]
        return sorted(found, key=lambda f: (f.number, f.name))

    def next_number(self) -> int:
        return max((f.number for f in self.features()), default=0) + 1

    def resolve_feature(self, arg: str | None) -> Feature:
        """A folder path, a number (`3`), or a slug (`login`); omitted: the current branch's
        feature, else the most recently changed one."""
        features = self.features()
        if not features:
            raise InputError("no features yet", "create one with 'specflow specify FEATURE.md'")
        if arg:
            return self._match(arg, features)
        branch = _current_branch(self.root)
        if branch:
            for f in features:
                if (
                    branch == f.name
                    or branch.endswith("/" + f.name)
                    or branch == f"specflow/{f.name}"
                ):
                    return f
        return max(features, key=_last_change)

    def _match(self, arg: str, features: list[Feature]) -> Feature:
        candidate = Path(arg)
        if not candidate.is_absolute():
            candidate = (Path.cwd() / candidate).resolve()
        for f in features:
            if candidate == f.path.resolve():
                return f
        key = arg.rstrip("/").split("/")[-1]
        if key.isdigit():
            hits = [f for f in features if f.number == int(key)]
        else:
            hits = [f for f in features if key in (f.name, f.slug)]
            if not hits:
                hits = [f for f in features if f.slug.startswith(key)]
        if len(hits) == 1:
            return hits[0]
        names = ", ".join(f.name for f in features)
        if not hits:
            raise InputError(f"no feature matches '{arg}'", f"known features: {names}")
        raise InputError(
            f"'{arg}' matches several features: {', '.join(f.name for f in hits)}",
            "use the number or the full folder name",
        )


def _last_change(feature: Feature) -> float:
    times = [p.stat().st_mtime for p in feature.path.glob("*.md")]
    return max(times, default=feature.path.stat().st_mtime)


def _current_branch(root: Path) -> str | None:
    """Read .git/HEAD directly: spawning git costs more than status should pay."""
    git = root / ".git"
    head: Path | None = None
    if git.is_dir():
        head = git / "HEAD"
    elif git.is_file():  # a worktree: "gitdir: …"
        text = git.read_text().strip()
        if text.startswith("gitdir:"):
            head = Path(text.split(":", 1)[1].strip()) / "HEAD"
    if head is None or not head.is_file():
        return None
    ref = head.read_text().strip()
    prefix = "ref: refs/heads/"
    return ref[len(prefix) :] if ref.startswith(prefix) else None


def git_toplevel(path: Path) -> Path | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=path,
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        return None
    return Path(out.stdout.strip()) if out.returncode == 0 else None
