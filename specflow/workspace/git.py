"""A thin typed wrapper over the `git` command line.

Every call is an argument list (never a shell string). Failures raise GitError carrying the
first line of git's stderr, so the CLI can print one useful line.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from specflow.errors import SpecflowError

# Settings for every call: no background gc racing our worktrees, no pager, no signing prompts.
_BASE_CONFIG = ("-c", "gc.auto=0", "-c", "commit.gpgsign=false", "-c", "core.pager=cat")
IDENTITY = ("-c", "user.name=specflow", "-c", "user.email=specflow@localhost")
TRAILER_TASK = "Specflow-Task"
TRAILER_RUN = "Specflow-Run"
TRAILER_FEATURE = "Specflow-Feature"


class GitError(SpecflowError):
    exit_code = 1

    def __init__(self, args: Sequence[str], returncode: int, stderr: str, stdout: str = "") -> None:
        first = next((ln.strip() for ln in stderr.splitlines() if ln.strip()), "")
        if not first:
            first = next((ln.strip() for ln in stdout.splitlines() if ln.strip()), "")
        super().__init__(f"git {args[0] if args else ''}: {first or f'exit code {returncode}'}")
        self.args_list = list(args)
        self.returncode = returncode
        self.stderr = stderr
        self.stdout = stdout


@dataclass
class Git:
    """git bound to one working directory (the main checkout or a worktree)."""

    cwd: Path
    extra_config: tuple[str, ...] = ()
    env: Mapping[str, str] | None = field(default=None, repr=False)

    def at(self, cwd: Path) -> Git:
        return Git(cwd, self.extra_config, self.env)

    def run(
        self,
        *args: str,
        check: bool = True,
        input: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> subprocess.CompletedProcess[str]:
        argv = ["git", *_BASE_CONFIG, *self.extra_config, *args]
        full_env: dict[str, str] | None = None
        if self.env or env:
            full_env = dict(os.environ)
            full_env.update(self.env or {})
            full_env.update(env or {})
        proc = subprocess.run(
            argv,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            input=input,
            env=full_env,
            timeout=timeout,
            check=False,
            stdin=None if input is not None else subprocess.DEVNULL,
            # Ctrl-C goes to specflow, which stops cleanly; git cut in half leaves locks behind.
            start_new_session=True,
        )
        if check and proc.returncode != 0:
            raise GitError(args, proc.returncode, proc.stderr, proc.stdout)
        return proc

    def out(
        self, *args: str, input: str | None = None, env: Mapping[str, str] | None = None
    ) -> str:
        return self.run(*args, input=input, env=env).stdout.strip()

    # -- refs ----------------------------------------------------------------------------

    def rev_parse(self, ref: str) -> str | None:
        proc = self.run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        return proc.stdout.strip() if proc.returncode == 0 else None

    def head(self) -> str:
        return self.read_head() or self.out("rev-parse", "HEAD")

    # Fast paths: the merge loop asks for HEAD and the integration tip several times per task;
    # reading loose refs costs microseconds where spawning git costs milliseconds. Anything
    # unusual (packed refs, reftable, symlinks) falls back to git itself.

    def _gitdirs(self) -> tuple[Path, Path] | None:
        dot = self.cwd / ".git"
        try:
            if dot.is_dir():
                return dot, dot
            text = dot.read_text().strip()
        except OSError:
            return None
        if not text.startswith("gitdir:"):
            return None
        gitdir = Path(text[7:].strip())
        gitdir = gitdir if gitdir.is_absolute() else (self.cwd / gitdir)
        try:
            common = Path((gitdir / "commondir").read_text().strip())
        except OSError:
            return gitdir, gitdir
        return gitdir, common if common.is_absolute() else (gitdir / common)

    def read_ref(self, ref: str) -> str | None:
        dirs = self._gitdirs()
        if dirs is None or not ref.startswith("refs/"):
            return None
        try:
            value = (dirs[1] / ref).read_text().strip()
        except OSError:
            return None
        return (
            value
            if len(value) in (40, 64) and all(c in "0123456789abcdef" for c in value)
            else None
        )

    def read_head(self) -> str | None:
        dirs = self._gitdirs()
        if dirs is None:
            return None
        try:
            text = (dirs[0] / "HEAD").read_text().strip()
        except OSError:
            return None
        if text.startswith("ref: "):
            return self.read_ref(text[5:])
        return text if len(text) in (40, 64) else None

    def current_branch(self) -> str | None:
        proc = self.run("symbolic-ref", "--quiet", "--short", "HEAD", check=False)
        return proc.stdout.strip() if proc.returncode == 0 else None

    def update_ref(self, ref: str, new: str, old: str | None = None, *, message: str = "") -> None:
        """Move `ref` to `new`; with `old`, only if it still points there ("" = must not exist)."""
        args = ["update-ref", "-m", message or "specflow", ref, new]
        if old is not None:
            args.append(old)
        self.run(*args)

    def delete_ref(self, ref: str) -> None:
        self.run("update-ref", "-d", ref, check=False)

    def is_ancestor(self, a: str, b: str) -> bool:
        return self.run("merge-base", "--is-ancestor", a, b, check=False).returncode == 0

    def task_trailers(self, ref: str, feature: str) -> list[str]:
        """Task ids of the commits reachable from `ref` that specflow made for `feature`
        (trailers `Specflow-Task:` and `Specflow-Feature:`): what is merged, by git's word."""
        fmt = (
            f"--format=%(trailers:key={TRAILER_FEATURE},valueonly,separator=%x2C)%x09"
            f"%(trailers:key={TRAILER_TASK},valueonly,separator=%x2C)"
        )
        text = self.out("log", "-F", f"--grep={TRAILER_FEATURE}: {feature}", fmt, ref)
        out: list[str] = []
        for line in text.splitlines():
            feat, _, tasks = line.partition("\t")
            if feature in (f.strip() for f in feat.split(",")):
                out.extend(v.strip() for v in tasks.split(",") if v.strip())
        return out

    def has_identity(self) -> bool:
        return bool(self.run("config", "user.email", check=False).stdout.strip())

    def git_path(self, name: str) -> Path:
        p = Path(self.out("rev-parse", "--git-path", name))
        return p if p.is_absolute() else self.cwd / p

    # -- objects (plumbing: no index refresh, no worktree scan) ----------------------------

    def write_tree(self) -> str:
        return self.out("write-tree")

    def tree_of(self, commit: str) -> str:
        return self.out("rev-parse", f"{commit}^{{tree}}")

    def commit_tree(self, tree: str, parent: str, message: str) -> str:
        return self.out("commit-tree", tree, "-p", parent, "-F", "-", input=message)

    def merge_tree(self, onto: str, commit: str) -> tuple[str | None, list[str]] | None:
        """Three-way merge of `commit` onto `onto` without touching any worktree (git >= 2.38).

        Returns (tree, []) when clean, (None, conflicted files) on conflict, None when this git
        has no `merge-tree --write-tree` (the caller falls back to a rebase).
        """
        proc = self.run("merge-tree", "--write-tree", "--name-only", onto, commit, check=False)
        lines = proc.stdout.splitlines()
        if proc.returncode == 0 and lines:
            return lines[0].strip(), []
        if proc.returncode == 1 and lines:
            files: list[str] = []
            for line in lines[1:]:
                if not line.strip():
                    break
                if line not in files:
                    files.append(line)
            return None, files
        return None

    # -- working tree ----------------------------------------------------------------------

    def changed_files(self, base: str) -> list[str]:
        """Files staged relative to `base` (after `add -A`)."""
        text = self.out("diff", "--cached", "--name-only", "--no-renames", base)
        return [ln for ln in text.splitlines() if ln]

    def conflicted_files(self) -> list[str]:
        text = self.out("diff", "--name-only", "--diff-filter=U")
        return [ln for ln in text.splitlines() if ln]

    def toplevel(self) -> Path:
        return Path(self.out("rev-parse", "--show-toplevel"))
