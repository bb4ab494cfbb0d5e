"""A specflow project on disk: its root, config, and feature folders."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from specflow.config import Config, find_project_root, load_config
from specflow.errors import ConfigError, InputError, ParseError
from specflow.fsutil import read_text_input

SPECKIT_CONSTITUTION = ".specify/memory/constitution.md"
# `003-user-login`: a number, then the slug. Spec Kit's own form; other names are features too.
FEATURE_RE = re.compile(r"^(?P<num>\d+)[-_](?P<slug>[A-Za-z0-9].*)$")
# A folder directly under the specs dir is a feature when it is numbered or holds one of these.
FEATURE_FILES = ("spec.md", "tasks.md", "plan.md", "feature.md")


@dataclass(frozen=True)
class Feature:
    path: Path

    @property
    def name(self) -> str:
        """The folder name, e.g. `003-user-login`."""
        return self.path.name

    @property
    def number(self) -> int:
        """The folder's number, 0 for a folder named otherwise (`feature-login`)."""
        m = FEATURE_RE.match(self.name)
        return int(m.group("num")) if m else 0

    @property
    def short(self) -> str:
        """How to name the feature on the command line: its number, else its folder name."""
        return str(self.number) if self.number else self.name

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
        project = cls(root=root, config=load_config(root))
        project.check_specs_dir()
        return project

    @property
    def specs_dir(self) -> Path:
        return self.root / self.config.project.specs_dir

    def check_specs_dir(self) -> None:
        """specs_dir must be a folder inside the project (it need not exist yet)."""
        configured = self.config.project.specs_dir
        where = f"specs_dir = '{configured}' in specflow.toml"
        if not self.is_inside(self.specs_dir):
            raise ConfigError(
                f"{where} is outside the project {self.root}",
                "give a folder inside the project, e.g. specs_dir = 'specs'",
            )
        if self.specs_dir.exists() and not self.specs_dir.is_dir():
            raise ConfigError(f"{where} is not a folder", "move the file away or change specs_dir")

    def is_inside(self, path: Path) -> bool:
        """Whether `path`, symlinks followed, lies within the project."""
        real, root = os.path.realpath(path), _real_root(self.root)
        return real == root or real.startswith(root if root.endswith(os.sep) else root + os.sep)

    def read_text(self, path: Path) -> str:
        """A file of the project as text: it must be inside the project (a symlink may not
        lead out of it) and valid UTF-8; otherwise an InputError names the file."""
        rel = self.rel(path)
        if not self.is_inside(path):
            raise ParseError(
                f"leads outside the project (to {path.resolve()})",
                path=rel,
                hint="replace the symlink with the file itself",
            )
        return read_text_input(path, f"save {rel} as UTF-8 text", label=rel)

    def rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

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
        """Every folder directly under the specs dir that is numbered or holds a spec,
        plan or task list: numbered ones in order, then the others by name."""
        if not self.specs_dir.is_dir():
            return []
        found = [Feature(p) for p in self.specs_dir.iterdir() if _is_feature(p)]
        return sorted(found, key=lambda f: (not f.number, f.number, f.name))

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
            "use the full folder name" if key.isdigit() else "use the number or the full name",
        )


@lru_cache(maxsize=64)
def _real_root(root: Path) -> str:
    """A project root with symlinks followed, resolved once per process (`check` asks for
    every file it reads). Only the root: every path asked about is resolved afresh."""
    return os.path.realpath(root)


def _is_feature(path: Path) -> bool:
    if path.name.startswith(".") or not path.is_dir():
        return False
    return bool(FEATURE_RE.match(path.name)) or any((path / f).is_file() for f in FEATURE_FILES)


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
